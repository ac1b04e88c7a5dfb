"""Agent pages: dashboard, call history (+ CSV), call detail, recording proxy, messaging.

Views only translate HTTP: reads go through ``selectors``/``access``, writes through
``services``, RingCentral through the client of ``crm_cti.accounts.services``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from crm_cti.accounts.models import Agent
from crm_cti.crm.phones import InvalidPhoneNumber
from crm_cti.dashboard.access import agent_for, calls_visible_to, is_admin
from crm_cti.dashboard.forms import (
    DISPOSITIONS,
    CallNotesForm,
    HistoryFilterForm,
    PagerForm,
    RingoutFromForm,
    SmsForm,
)
from crm_cti.dashboard.selectors import call_history, call_legs, calls_recent
from crm_cti.dashboard.services import (
    agent_set_ringout_from,
    call_annotate,
    calllog_refresh_request,
)
from crm_cti.ringcentral.errors import (
    BadRequest,
    NeedsSignIn,
    NotFound,
    PermissionDenied,
    RateLimited,
    RingCentralError,
)
from crm_cti.telephony.models import Call
from crm_cti.telephony.serializers import call_to_dict

logger = logging.getLogger(__name__)

HISTORY_PER_PAGE = 50
RECENT_CALLS = 15
CSV_COLUMNS = [
    "id", "started_at", "direction", "state", "result", "from_number", "from_name",
    "to_number", "to_name", "contact", "company", "agent", "extension", "duration",
    "disposition", "notes", "has_recording",
]


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest, fallback: str = "/") -> HttpResponse:
    target = request.POST.get("next") or request.headers.get("Referer") or fallback
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


# Form errors answer 200 with {"ok": false, "errors": ...}, as a re-rendered Django form
# would: the request was understood and the page shows the errors next to the fields (a
# 4xx would also be logged as an error in the browser console).
FORM_ERROR_STATUS = 200


def _error_json(
    errors: dict[str, list[str]], status: int = FORM_ERROR_STATUS
) -> JsonResponse:
    return JsonResponse(
        {"ok": False, "errors": {k: [{"message": m} for m in v] for k, v in errors.items()}},
        status=status,
    )


def ringcentral_error_text(exc: RingCentralError) -> str:
    """What the agent reads when RingCentral refused: the platform's own words if it gave any."""
    if isinstance(exc, NeedsSignIn):
        return "Your RingCentral session has ended: sign in with RingCentral again."
    if isinstance(exc, RateLimited):
        wait = int(getattr(exc, "retry_after", 0) or 0) or 60
        return f"RingCentral is rate limiting these requests: try again in {wait} s."
    if isinstance(exc, PermissionDenied):
        return f"RingCentral refused: {exc.message}"
    if isinstance(exc, BadRequest):
        return exc.message
    return f"RingCentral could not do it: {exc.message}"


def _client_for(agent: Any) -> Any:
    # Imported here so that pages without RingCentral calls don't load the client stack.
    from crm_cti.accounts.services import client_for_agent

    return client_for_agent(agent)


# ---------------------------------------------------------------------------- dashboard


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    agent = agent_for(request.user)
    watched = agent
    requested = request.GET.get("agent", "")
    # An admin may watch another agent's pops (the websocket takes the same ?agent=).
    if requested.isdigit() and is_admin(request.user):
        watched = get_object_or_404(Agent, pk=int(requested))
    calls = Call.objects.filter(agent=watched) if watched is not None else Call.objects.none()
    live = [
        call_to_dict(c)
        for c in calls.filter(state__in=Call.LIVE_STATES).select_related("contact")
    ]
    recent = calls_recent(calls=calls, limit=RECENT_CALLS)
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "agent": agent,
            "watched": watched,
            "live_calls": live,
            "recent_calls": recent,
            "sms_numbers": agent.sms_numbers if agent else [],
            "dispositions": DISPOSITIONS,
        },
    )


@login_required
@require_POST
def ringout_from_view(request: HttpRequest) -> HttpResponse:
    """Remember the agent's RingOut "from" number (used by every click-to-dial button)."""
    agent = agent_for(request.user)
    if agent is None:
        return _error_json({"__all__": ["Only agents signed in with RingCentral can call."]}, 403)
    form = RingoutFromForm(request.POST)
    form.is_valid()
    try:
        number = agent_set_ringout_from(agent=agent, number=form.number())
    except InvalidPhoneNumber as exc:
        if _wants_json(request):
            return _error_json({"other": [str(exc)]})
        messages.error(request, f"RingOut number not saved: {exc}")
        return _back(request)
    if _wants_json(request):
        return JsonResponse({"ok": True, "from_number": number})
    messages.success(request, "Your RingOut number is saved.")
    return _back(request)


# ---------------------------------------------------------------------------- history


def _history_form(request: HttpRequest) -> HistoryFilterForm:
    return HistoryFilterForm(request.GET or None, show_agent=is_admin(request.user))


def _filtered_calls(request: HttpRequest) -> tuple[HistoryFilterForm, Any]:
    form = _history_form(request)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, call_history(calls=calls_visible_to(request.user), filters=filters)


@login_required
@require_GET
def call_history_view(request: HttpRequest) -> HttpResponse:
    form, calls = _filtered_calls(request)
    page = Paginator(calls, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    agent = agent_for(request.user)
    if agent is not None:
        calllog_refresh_request(agent=agent)
    sync = getattr(agent, "call_log_sync", None) if agent else None
    return render(
        request,
        "dashboard/call_history.html",
        {"form": form, "page": page, "show_agent": is_admin(request.user), "sync": sync},
    )


class _Echo:
    """A file-like whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def call_history_csv(request: HttpRequest) -> StreamingHttpResponse:
    _form, calls = _filtered_calls(request)
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for call in calls.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    call.pk,
                    call.started_at.isoformat() if call.started_at else "",
                    call.direction,
                    call.state,
                    call.result,
                    call.from_number,
                    call.from_name,
                    call.to_number,
                    call.to_name,
                    call.contact.full_name if call.contact else "",
                    call.contact.company if call.contact else "",
                    call.agent.name if call.agent else "",
                    call.agent.extension_number if call.agent else "",
                    call.duration if call.duration is not None else "",
                    call.disposition,
                    call.notes,
                    "yes" if call.recording else "no",
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response


# ---------------------------------------------------------------------------- one call


def _visible_call(request: HttpRequest, call_id: int) -> Call:
    """The call if the user may see it; 404 otherwise (never reveal another agent's call)."""
    return get_object_or_404(
        calls_visible_to(request.user).select_related("contact", "agent"), pk=call_id
    )


@login_required
@require_GET
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _visible_call(request, call_id)
    form = CallNotesForm(initial={"notes": call.notes, "disposition": call.disposition})
    return render(
        request,
        "dashboard/call_detail.html",
        {"call": call, "legs": call_legs(call), "form": form, "call_json": call_to_dict(call)},
    )


@login_required
@require_POST
def call_notes(request: HttpRequest, call_id: int) -> HttpResponse:
    """Save notes and disposition (from a pop card or the call page)."""
    call = _visible_call(request, call_id)
    form = CallNotesForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse(
                {"ok": False, "errors": form.errors.get_json_data()}, status=FORM_ERROR_STATUS
            )
        messages.error(request, "Notes not saved: " + " ".join(form.errors.get("notes", [])))
        return _back(request)
    # A form that only sends one of the two fields leaves the other untouched.
    call = call_annotate(
        call=call,
        notes=form.cleaned_data["notes"] if "notes" in request.POST else None,
        disposition=form.cleaned_data["disposition"] if "disposition" in request.POST else None,
    )
    if _wants_json(request):
        return JsonResponse({"ok": True, "call": call_to_dict(call)})
    messages.success(request, "Notes saved.")
    return _back(request, fallback=f"/calls/{call.pk}/")


@login_required
@require_GET
def call_recording(request: HttpRequest, call_id: int) -> HttpResponseBase:
    """Stream the call's recording from RingCentral; the token stays on the server."""
    call = _visible_call(request, call_id)
    content_uri = (call.recording or {}).get("content_uri")
    if not content_uri:
        raise Http404("This call has no recording.")
    # The requesting agent's token when they have one (an admin's covers the account),
    # else the call owner's: a superuser without an extension can still listen.
    owner = agent_for(request.user) or call.agent
    if owner is None:
        raise Http404("No RingCentral credential can fetch this recording.")
    try:
        resource = _client_for(owner).stream_recording_content(content_uri)
        stream = resource.__enter__() if hasattr(resource, "__enter__") else resource
    except NotFound as exc:
        raise Http404("The recording is no longer available.") from exc
    except RingCentralError as exc:
        logger.warning("recording %s of call %s: %s", content_uri, call.pk, exc)
        return HttpResponse(ringcentral_error_text(exc), status=502, content_type="text/plain")

    def chunks() -> Iterator[bytes]:
        try:
            yield from stream
        finally:
            if hasattr(resource, "__exit__"):
                resource.__exit__(None, None, None)

    response = StreamingHttpResponse(
        chunks(), content_type=getattr(stream, "content_type", None) or "audio/mpeg"
    )
    length = getattr(stream, "content_length", None)
    if length:
        response["Content-Length"] = str(length)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="call-{call.pk}-recording"'
    return response


# ---------------------------------------------------------------------------- messaging


def _messaging_result(
    request: HttpRequest, *, ok_text: str | None, errors: dict[str, list[str]] | None
) -> HttpResponse:
    if _wants_json(request):
        if errors:
            return _error_json(errors)
        return JsonResponse({"ok": True, "message": ok_text})
    if errors:
        for field, items in errors.items():
            label = "" if field == "__all__" else f"{field}: "
            messages.error(request, label + " ".join(items))
    else:
        messages.success(request, ok_text or "Sent.")
    return _back(request)


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()}


@login_required
@require_POST
def send_sms(request: HttpRequest) -> HttpResponse:
    agent = agent_for(request.user)
    if agent is None:
        return _error_json({"__all__": ["Only agents signed in with RingCentral can text."]}, 403)
    form = SmsForm(request.POST, agent=agent)
    if not form.is_valid():
        return _messaging_result(request, ok_text=None, errors=_form_errors(form))
    data = form.cleaned_data
    try:
        _client_for(agent).send_sms(
            from_number=data["from_number"], to_numbers=[data["to"]], text=data["text"]
        )
    except RingCentralError as exc:
        return _messaging_result(
            request, ok_text=None, errors={"__all__": [ringcentral_error_text(exc)]}
        )
    return _messaging_result(request, ok_text=f"SMS sent to {data['to']}.", errors=None)


@login_required
@require_POST
def send_pager(request: HttpRequest) -> HttpResponse:
    agent = agent_for(request.user)
    if agent is None:
        return _error_json({"__all__": ["Only agents signed in with RingCentral can page."]}, 403)
    form = PagerForm(request.POST)
    if not form.is_valid():
        return _messaging_result(request, ok_text=None, errors=_form_errors(form))
    data = form.cleaned_data
    try:
        _client_for(agent).send_pager(
            from_extension_number=agent.extension_number,
            to_extension_numbers=data["to"],
            text=data["text"],
        )
    except RingCentralError as exc:
        return _messaging_result(
            request, ok_text=None, errors={"__all__": [ringcentral_error_text(exc)]}
        )
    return _messaging_result(
        request, ok_text=f"Pager message sent to ext. {', '.join(data['to'])}.", errors=None
    )
