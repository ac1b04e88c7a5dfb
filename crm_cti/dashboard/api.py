"""JSON API for the agent's browser (mounted at ``/api/``).

``GET calls/live/`` the signed-in agent's live calls (the same call objects as the
websocket; ``?agent=`` as the websocket takes it, under the same rule,
``crm_cti.accounts.access.watch_target``); ``POST ringout/`` ``{"to", "from"}`` places a
RingOut; ``DELETE ringout/<id>/`` cancels it. (Recordings are streamed by the dashboard at
``/calls/<id>/recording/``.)
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_cti.accounts.access import SIGN_IN, WatchRefused, agent_for, watch_target
from crm_cti.accounts.refusals import refusal_for
from crm_cti.ringcentral.errors import RingCentralError
from crm_cti.telephony.models import RingOut
from crm_cti.telephony.selectors import calls_live
from crm_cti.telephony.serializers import call_to_dict
from crm_cti.telephony.services import ringout as ringouts

logger = logging.getLogger(__name__)

SIGNIN_URL = "/auth/signin/"


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _platform_error(exc: RingCentralError) -> JsonResponse:
    """A RingCentral refusal as the JSON every door of the API answers with."""
    refusal = refusal_for(exc)
    extra = {"signin_url": SIGNIN_URL} if refusal.sign_in else {}
    response = _error(refusal.status, refusal.message, **extra)
    if refusal.retry_after is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _signed_in(request: HttpRequest) -> JsonResponse | None:
    if not request.user.is_authenticated:
        return _error(401, "Sign in first.", signin_url=SIGNIN_URL)
    return None


@require_GET
def calls_live_view(request: HttpRequest) -> JsonResponse:
    """The live calls the socket would snapshot for the same ``?agent=``, or its refusal:
    401 where the socket closes with 4401, 403 where it closes with 4403."""
    try:
        watch = watch_target(user=request.user, requested=request.GET.get("agent", ""))
    except WatchRefused as refused:
        if refused.reason == SIGN_IN:
            return _error(401, "Sign in first.", signin_url=SIGNIN_URL)
        return _error(403, "You may not watch these calls.")
    calls = calls_live(agent_id=watch.agent_id)
    return JsonResponse({"calls": [call_to_dict(c) for c in calls]})


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


@require_POST
def ringout_create_view(request: HttpRequest) -> JsonResponse:
    if (denied := _signed_in(request)) is not None:
        return denied
    agent = agent_for(request.user)
    if agent is None:
        return _error(403, "Only agents can place calls.")
    data = _body(request)
    to_number = str(data.get("to") or "")
    from_number = str(data.get("from") or "")
    if not to_number:
        return _error(400, "Enter the number to call.", errors={"to": "Enter the number to call."})
    if not (from_number or agent.ringout_from_number):
        message = "Enter the phone to ring first."
        return _error(400, message, errors={"from": message})
    try:
        ringout = ringouts.ringout_create(
            agent=agent, to_number=to_number, from_number=from_number
        )
    except ringouts.RingOutInvalid as exc:
        return _error(400, str(exc), errors={exc.field: str(exc)})
    except RingCentralError as exc:
        logger.info("RingOut for %s refused: %s", agent, exc)
        return _platform_error(exc)
    return JsonResponse({"ringout": ringouts.ringout_to_dict(ringout)}, status=201)


@require_http_methods(["GET", "DELETE"])
def ringout_detail_view(request: HttpRequest, ringout_id: int) -> JsonResponse:
    if (denied := _signed_in(request)) is not None:
        return denied
    agent = agent_for(request.user)
    if agent is None:
        return _error(404, "No such RingOut.")
    if request.method == "GET":
        ringout = RingOut.objects.filter(pk=ringout_id, agent=agent).first()
        if ringout is None:
            return _error(404, "No such RingOut.")
        return JsonResponse({"ringout": ringouts.ringout_to_dict(ringout)})
    try:
        ringout = ringouts.ringout_cancel(agent=agent, ringout_id=ringout_id)
    except RingOut.DoesNotExist:
        return _error(404, "No such RingOut.")
    except RingCentralError as exc:
        return _platform_error(exc)
    return JsonResponse({"ringout": ringouts.ringout_to_dict(ringout)})
