"""Audio from RingCentral proxied to the browser's player: call recordings and voicemails.
The token stays on the server, the player's ``Range`` (seeking) goes through and its 206
comes back, and each user has at most ``RECORDING_MAX_STREAMS_PER_USER`` streams at once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from crm_cti.accounts.refusals import refusal_for
from crm_cti.dashboard.services import (
    RECORDING_SLOT_REFRESH_SECONDS,
    recording_stream_slot_keep,
    recording_stream_slot_release,
    recording_stream_slot_take,
)
from crm_cti.dashboard.streaming import streamed_body
from crm_cti.ringcentral.errors import NotFound, RingCentralError

logger = logging.getLogger(__name__)


def refusal_text(exc: RingCentralError) -> HttpResponse:
    """A RingCentral refusal as a plain-text answer (a player shows no page)."""
    refusal = refusal_for(exc)
    response = HttpResponse(refusal.message, status=refusal.status, content_type="text/plain")
    if refusal.retry_after is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _chunks(stream: Any, slot: str) -> Iterator[bytes]:
    """The audio, chunk by chunk, renewing the user's stream slot while it flows."""
    kept = time.monotonic()
    for chunk in stream:
        if time.monotonic() - kept > RECORDING_SLOT_REFRESH_SECONDS:
            recording_stream_slot_keep(slot=slot)
            kept = time.monotonic()
        yield chunk


def audio_response(
    request: HttpRequest, *, open_audio: Callable[[str], Any], filename: str, what: str,
) -> HttpResponseBase:
    """Stream what ``open_audio(range header)`` opens (a ``RecordingContent``)."""
    slot = recording_stream_slot_take(user_id=request.user.pk)
    if slot is None:
        response = HttpResponse(
            f"You are already playing {settings.RECORDING_MAX_STREAMS_PER_USER} recordings: "
            "stop one and try again.",
            status=429,
            content_type="text/plain",
        )
        response["Retry-After"] = "5"
        return response
    try:
        stream = open_audio(request.headers.get("Range", ""))
    except NotFound as exc:
        recording_stream_slot_release(slot=slot)
        raise Http404(f"The {what} is no longer available.") from exc
    except RingCentralError as exc:
        recording_stream_slot_release(slot=slot)
        if getattr(exc, "status", None) == 416:
            return HttpResponse(f"That part of the {what} does not exist.", status=416,
                                content_type="text/plain")
        logger.warning("%s %s: %s", what, filename, exc)
        return refusal_text(exc)

    def release() -> None:
        recording_stream_slot_release(slot=slot)
        stream.close()

    body = streamed_body(request, _chunks(stream, slot), thread_sensitive=False,
                         on_close=release)
    response = StreamingHttpResponse(
        body,
        status=getattr(stream, "status", 200),
        content_type=getattr(stream, "content_type", None) or "audio/mpeg",
    )
    length = getattr(stream, "content_length", None)
    if length:
        response["Content-Length"] = str(length)
    if getattr(stream, "content_range", None):
        response["Content-Range"] = stream.content_range
    response["Accept-Ranges"] = getattr(stream, "accept_ranges", None) or "none"
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
