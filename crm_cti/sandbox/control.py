"""The sandbox's own control and inspection API under ``/sandbox/`` (JSON, no auth)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_cti.sandbox import callcontrol, calllog, config, sessions, wssession
from crm_cti.sandbox.api import sandbox_state
from crm_cti.sandbox.state import SandboxState, iso, now
from crm_cti.sandbox.subscriptions import raw_dispatch
from crm_cti.sandbox.telephony import CallError, call_command, call_public, call_start


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def users(request: Request) -> Response:
    state = sandbox_state(request)
    return JSONResponse([ext.public() for ext in state.extensions.values()])


async def account(request: Request) -> Response:
    state = sandbox_state(request)
    return JSONResponse({
        "account_id": state.account_id,
        "main_number": state.main_number,
        "client_id": config.CLIENT_ID,
        "redirect_uris": [*config.EXTRA_REDIRECT_URIS, "http://127.0.0.1:<port>/auth/callback/",
                          "http://localhost:<port>/auth/callback/"],
        "ringout_outcome_numbers": config.RINGOUT_OUTCOME_NUMBERS,
        "throttling_source": request.app.state.throttling_source,
    })


async def reset(request: Request) -> Response:
    holder = request.app.state.holder
    await wssession.connections_drop(holder.state)
    holder.state.shutdown()
    holder.state = SandboxState()
    return JSONResponse({"reset": True, "config": holder.state.config})


async def config_view(request: Request) -> Response:
    state = sandbox_state(request)
    if request.method == "GET":
        return JSONResponse(state.config)
    changes = await _json(request)
    if not isinstance(changes, dict):
        return _error(400, "body must be a JSON object")
    try:
        state.config = config.config_update(state.config, changes)
    except (ValueError, TypeError) as error:
        return _error(400, str(error))
    return JSONResponse(state.config)


async def stats(request: Request) -> Response:
    state = sandbox_state(request)
    body = {key: (dict(value) if hasattr(value, "items") else value)
            for key, value in state.stats.items()}
    body["active_calls"] = sum(1 for call in state.calls.values() if call.active)
    body["subscriptions"] = len(state.subscriptions)
    return JSONResponse(body)


async def tokens(request: Request) -> Response:
    state = sandbox_state(request)
    at = now()
    return JSONResponse([record.public(at) for record in state.tokens])


async def deliveries(request: Request) -> Response:
    state = sandbox_state(request)
    sub_id = request.query_params.get("subscriptionId")
    records = [d for d in state.deliveries if not sub_id or d["subscriptionId"] == sub_id]
    return JSONResponse(records)


async def subscriptions(request: Request) -> Response:
    state = sandbox_state(request)
    at = now()
    return JSONResponse([
        {"id": sub.id, "ownerId": sub.owner_id, "clientId": sub.client_id,
         "eventFilters": sub.event_filters, "address": sub.address, "status": sub.status,
         "transport": sub.transport, "wsc": sub.ws_session,
         "expirationTime": iso(sub.expires_at), "expired": sub.expired(at),
         "blacklistedData": sub.blacklisted_data,
         "consecutiveFailures": sub.consecutive_failures,
         "hasVerificationToken": bool(sub.verification_token)}
        for sub in state.subscriptions.values()
    ])


async def calls(request: Request) -> Response:
    state = sandbox_state(request)
    if request.method == "GET":
        return JSONResponse([call_public(call) for call in state.calls.values()])
    body = await _json(request)
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    if not body.get("scenario") or not body.get("extension"):
        return _error(400, "'scenario' and 'extension' are required")
    if body["scenario"] in callcontrol.SCENARIOS:
        return _scenario_start(state, body)
    try:
        result = call_start(
            state,
            scenario=str(body["scenario"]),
            extension=str(body["extension"]),
            from_number=body.get("from"),
            name=body.get("name"),
            ring_seconds=body.get("ring_seconds"),
            talk_seconds=body.get("talk_seconds"),
            hold_seconds=body.get("hold_seconds"),
            faults=body.get("faults"),
            record=bool(body.get("record", True)),
            to_number=body.get("to"),
            termination_markers=body.get("termination_markers", True) is not False,
        )
    except (CallError, TypeError, ValueError) as error:
        return _error(400, str(error))
    return JSONResponse(result, status_code=201)


def _scenario_start(state: SandboxState, body: dict[str, Any]) -> Response:
    """A call-control scenario (call queue, transfers, park, forward, reject)."""
    try:
        result = callcontrol.scenario_start(
            state, scenario=str(body["scenario"]), extension=str(body["extension"]),
            to=body.get("to"), agents=body.get("agents"), from_number=body.get("from"),
            name=body.get("name"), ring_seconds=body.get("ring_seconds"),
            talk_seconds=body.get("talk_seconds"), faults=body.get("faults"),
            answered=body.get("answered", True))
    except (CallError, TypeError, ValueError) as error:
        return _error(400, str(error))
    return JSONResponse(result, status_code=201)


async def call_detail(request: Request) -> Response:
    state = sandbox_state(request)
    call = state.calls.get(request.path_params["session_id"])
    if call is None:
        return _error(404, "no such call (ended calls are forgotten after the retention)")
    return JSONResponse(call_public(call))


async def call_action(request: Request) -> Response:
    state = sandbox_state(request)
    body = await _json(request) or {}
    try:
        result = call_command(state, request.path_params["session_id"],
                              request.path_params["action"],
                              extension=body.get("extension") if isinstance(body, dict) else None)
    except LookupError:
        return _error(404, "no such call")
    except CallError as error:
        return _error(409, str(error))
    return JSONResponse(result)


# The console's call-control buttons: each runs the Call Control operation of that name as
# the party's own user would (``target``: a colleague's extension number).
PARTY_ACTIONS = ("answer", "hold", "unhold", "transfer", "forward", "park", "pickup",
                 "reject", "record", "hangup")


def _party_act(state: SandboxState, call: Any, leg: Any, action: str, target: str) -> None:
    device = {"deviceId": sessions.devices_of(leg.extension)[0]["id"]}
    if action == "answer":
        callcontrol.party_answer(state, call, leg, device)
    elif action in ("hold", "unhold", "park", "reject"):
        getattr(callcontrol, f"party_{action}")(state, call, leg)
    elif action in ("transfer", "forward"):
        getattr(callcontrol, f"party_{action}")(state, call, leg, {"extensionNumber": target})
    elif action == "pickup":
        picker = state.extension_by_number(target)
        if picker is None:
            raise callcontrol.not_found_error("extensionNumber", target)
        callcontrol.party_pickup(state, call, leg, picker,
                                 {"deviceId": sessions.devices_of(picker)[0]["id"]})
    elif action == "record":
        callcontrol.recording_start(state, call, leg)
    else:
        callcontrol.party_drop(state, call, leg)


async def party_action(request: Request) -> Response:
    state = sandbox_state(request)
    action = request.path_params["action"]
    if action not in PARTY_ACTIONS:
        return _error(400, f"unknown action {action!r}; one of {', '.join(PARTY_ACTIONS)}")
    body = await _json(request) or {}
    target = str(body.get("target") or "") if isinstance(body, dict) else ""
    call = state.calls.get(request.path_params["session_id"])
    if call is None:
        return _error(404, "no such call")
    try:
        if call.ended_at is not None:
            raise callcontrol.ControlError(409, "TAS-102", "the call has already ended")
        leg = callcontrol.party_find(call, request.path_params["party_id"])
        _party_act(state, call, leg, action, target)
    except callcontrol.ControlError as error:
        return _error(error.status if error.status != 404 else 400, error.message)
    return JSONResponse(call_public(call))


async def notify(request: Request) -> Response:
    state = sandbox_state(request)
    body = await _json(request)
    if not isinstance(body, dict) or "extension" not in body or "body" not in body:
        return _error(400, "expected {\"extension\": \"102\", \"body\": {...}}")
    ext = (state.extension_by_number(str(body["extension"]))
           or state.extensions.get(str(body["extension"])))
    if ext is None:
        return _error(400, f"unknown extension {body['extension']!r}")
    event = body.get("event", "presence")
    if event not in ("presence", "telephony-sessions", "message-store", "instant"):
        return _error(400, "'event' is presence, telephony-sessions, message-store or instant")
    queued = raw_dispatch(state, ext, body["body"], event=event)
    return JSONResponse({"queued": queued})


async def call_log_inject(request: Request) -> Response:
    state = sandbox_state(request)
    body = await _json(request)
    if not isinstance(body, dict) or "extension" not in body:
        return _error(400, "expected {\"extension\": \"102\", \"records\": 20}")
    ext = (state.extension_by_number(str(body["extension"]))
           or state.extensions.get(str(body["extension"])))
    if ext is None:
        return _error(400, f"unknown extension {body['extension']!r}")
    try:
        count = int(body.get("records", 20))
        days = float(body.get("days", 6))
    except (TypeError, ValueError):
        return _error(400, "'records' and 'days' must be numbers")
    if not 0 < count <= 10000 or days <= 0:
        return _error(400, "'records' must be 1..10000 and 'days' positive")
    numbers = body.get("numbers")
    if numbers is not None and (not isinstance(numbers, list) or not numbers):
        return _error(400, "'numbers' must be a non-empty list of phone numbers")
    created = calllog.history_generate(state, ext_id=ext.id, count=count, days=days,
                                       numbers=numbers, seed=body.get("seed"))
    return JSONResponse({"created": len(created), "records": created}, status_code=201)


async def messages(request: Request) -> Response:
    state = sandbox_state(request)
    return JSONResponse(state.messages)


async def ringouts(request: Request) -> Response:
    state = sandbox_state(request)
    return JSONResponse([
        {"id": r.id, "ownerId": r.owner_id, "sessionId": r.session_id, "from": r.from_number,
         "to": r.to_number, "outcome": r.outcome, "callStatus": r.call_status,
         "callerStatus": r.caller_status, "calleeStatus": r.callee_status}
        for r in state.ringouts.values()
    ])


ROUTES = [
    Route("/sandbox/users", users, methods=["GET"]),
    Route("/sandbox/account", account, methods=["GET"]),
    Route("/sandbox/reset", reset, methods=["POST"]),
    Route("/sandbox/config", config_view, methods=["GET", "POST"]),
    Route("/sandbox/stats", stats, methods=["GET"]),
    Route("/sandbox/tokens", tokens, methods=["GET"]),
    Route("/sandbox/deliveries", deliveries, methods=["GET"]),
    Route("/sandbox/subscriptions", subscriptions, methods=["GET"]),
    Route("/sandbox/calls", calls, methods=["GET", "POST"]),
    Route("/sandbox/calls/{session_id}", call_detail, methods=["GET"]),
    Route("/sandbox/calls/{session_id}/{action}", call_action, methods=["POST"]),
    Route("/sandbox/calls/{session_id}/parties/{party_id}/{action}", party_action,
          methods=["POST"]),
    Route("/sandbox/notify", notify, methods=["POST"]),
    Route("/sandbox/calllog", call_log_inject, methods=["POST"]),
    Route("/sandbox/messages", messages, methods=["GET"]),
    Route("/sandbox/ringouts", ringouts, methods=["GET"]),
]
