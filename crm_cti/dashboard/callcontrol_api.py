"""JSON endpoints of the card's call-control buttons and of "call from my phone" (mounted
at ``/api/``; every POST needs the CSRF token like any other).

``POST calls/<id>/control/<action>/`` runs one button (``ACTIONS``) on the agent's party of
the call; ``GET callcontrol/devices/`` (the agent's phones) and ``GET callcontrol/choices/``
(the colleagues with their live state, the reply texts) fill the pickers;
``POST callout/`` ``{"to", "device_id"}`` calls from one of the agent's phones.

Answers: 200 ``{"ok": true, ...}`` once RingCentral took the request (the card changes when
its event arrives, not now); our refusals and the platform's as ``{"error": "..."}`` with
their status (404 for a call that is not the agent's, 403 without CallControl, 409 for a
call in the wrong state, 429 with ``Retry-After`` when the request budget is spent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from crm_cti.dashboard.api import SIGNIN_URL, _body, _error, _platform_error, _signed_in
from crm_cti.ringcentral.errors import RingCentralError
from crm_cti.telephony.services import callcontrol as cc

logger = logging.getLogger(__name__)


def _park_message(result: dict[str, Any]) -> str:
    orbit = (result.get("park") or {}).get("id")
    return f"Parked at {orbit}." if orbit else "Parked."


# action -> (service taking the control and the request's data, what to tell the agent)
ACTIONS: dict[str, tuple[Callable[[cc.Control, dict[str, Any]], Any], Callable[[Any], str]]] = {
    "answer": (lambda c, d: cc.call_answer(control=c, device_id=d.get("device_id")),
               lambda r: "Answering…"),
    "voicemail": (lambda c, d: cc.call_to_voicemail(control=c),
                  lambda r: "Sent to voicemail."),
    "forward": (lambda c, d: cc.call_forward(control=c, to=d.get("to")),
                lambda r: "Forwarded."),
    "reply": (lambda c, d: cc.call_reply(control=c, text=str(d.get("text") or "")),
              lambda r: "Reply sent to the caller."),
    "hold": (lambda c, d: cc.call_hold(control=c), lambda r: "Holding…"),
    "unhold": (lambda c, d: cc.call_unhold(control=c), lambda r: "Resuming…"),
    "transfer": (lambda c, d: cc.call_transfer(control=c, to=d.get("to")),
                 lambda r: "Transferred."),
    "park": (lambda c, d: cc.call_park(control=c), _park_message),
    "record_start": (lambda c, d: cc.call_record(control=c, active=True),
                     lambda r: "Recording."),
    "record_pause": (lambda c, d: cc.call_record(control=c, active=False),
                     lambda r: "Recording paused."),
    "hangup": (lambda c, d: cc.call_hang_up(control=c), lambda r: "Hanging up…"),
    "consult": (lambda c, d: cc.call_consult(control=c, to=d.get("to"),
                                             device_id=str(d.get("device_id") or "")),
                lambda r: "Calling your colleague; the caller is on hold."),
    "consult_complete": (
        lambda c, d: cc.call_consult_complete(
            control=c, consult_session_id=str(d.get("consult_session_id") or "")),
        lambda r: "Transferred."),
    "consult_cancel": (
        lambda c, d: cc.call_consult_cancel(
            control=c, consult_session_id=str(d.get("consult_session_id") or "")),
        lambda r: "Consultation ended; the caller is back."),
}


def _refused(exc: cc.CallControlRefused) -> JsonResponse:
    extra: dict[str, Any] = {"errors": {exc.field: exc.message}} if exc.field else {}
    if exc.status == 401:
        extra["signin_url"] = SIGNIN_URL
    return _error(exc.status, exc.message, **extra)


@require_POST
def call_control_view(request: HttpRequest, call_id: int, action: str) -> JsonResponse:
    if (denied := _signed_in(request)) is not None:
        return denied
    entry = ACTIONS.get(action)
    if entry is None:
        return _error(404, f"No such call-control action: {action}.")
    run, message = entry
    try:
        control = cc.call_control_for(user=request.user, call_id=call_id)
        result = run(control, _body(request))
    except cc.CallControlRefused as exc:
        return _refused(exc)
    except RingCentralError as exc:
        logger.info("call control %s on call %s refused: %s", action, call_id, exc)
        return _platform_error(exc)
    data: dict[str, Any] = {"ok": True, "action": action, "message": message(result)}
    if action == "consult":
        data.update(result)
    return JsonResponse(data)


@require_GET
def devices_view(request: HttpRequest) -> JsonResponse:
    if (denied := _signed_in(request)) is not None:
        return denied
    try:
        devices = cc.devices_list(user=request.user)
    except cc.CallControlRefused as exc:
        return _refused(exc)
    except RingCentralError as exc:
        return _platform_error(exc)
    return JsonResponse({"devices": devices})


@require_GET
def choices_view(request: HttpRequest) -> JsonResponse:
    if (denied := _signed_in(request)) is not None:
        return denied
    try:
        colleagues = cc.colleagues_list(user=request.user)
    except cc.CallControlRefused as exc:
        return _refused(exc)
    return JsonResponse({"colleagues": colleagues, "replies": list(cc.REPLY_TEXTS)})


@require_POST
def callout_view(request: HttpRequest) -> JsonResponse:
    if (denied := _signed_in(request)) is not None:
        return denied
    data = _body(request)
    try:
        result = cc.call_out(user=request.user, to=str(data.get("to") or ""),
                             device_id=str(data.get("device_id") or ""))
    except cc.CallControlRefused as exc:
        return _refused(exc)
    except RingCentralError as exc:
        logger.info("call-out refused: %s", exc)
        return _platform_error(exc)
    return JsonResponse({"ok": True, "message": "Your phone rings: answer it to be connected.",
                         **result}, status=201)
