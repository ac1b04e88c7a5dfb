"""The Call Control API (``/restapi/v1.0/account/~/telephony/...``): read and end a session,
act on a party, call out. Every operation needs the app's ``CallControl`` permission; a user
acts on their own parties, an admin on any of the account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox import callcontrol, sessions
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import ApiError, permission_required
from crm_cti.sandbox.rest.common import ACCOUNT, account_check
from crm_cti.sandbox.state import Call, Leg

SESSION = ACCOUNT + "/telephony/sessions/{telephonySessionId}"
PARTY = SESSION + "/parties/{partyId}"


def _api_error(error: callcontrol.ControlError) -> ApiError:
    top = {400: "InvalidParameter", 403: "InsufficientPermissions", 404: "NotFound",
           409: "Conflict"}.get(error.status, error.code)
    return ApiError(error.status, error.code, error.message, top_code=top, **error.details)


def _allowed(ctx: Ctx) -> None:
    account_check(ctx)
    assert ctx.token is not None
    if "CallControl" not in ctx.token.scope.split():
        raise permission_required("CallControl")


def _session(ctx: Ctx, *, live: bool, parked_ok: bool = False) -> Call:
    """The session in the path, if the user may see it (a party of theirs, or an admin;
    with ``parked_ok`` a parked call too, which anyone may pick up): another user's call is
    not found rather than forbidden, so ids cannot be probed."""
    _allowed(ctx)
    session_id = ctx.request.path_params["telephonySessionId"]
    assert ctx.user is not None
    call = (callcontrol.live_session_find(ctx.state, session_id) if live
            else callcontrol.session_find(ctx.state, session_id))
    parked = parked_ok and any(leg.status == "ParkedCall" for leg in call.legs)
    if not (ctx.user.is_admin or parked) and all(
            leg.extension.id != ctx.user.id for leg in call.legs):
        raise callcontrol.not_found_error("telephonySessionId", session_id)
    return call


def _party(ctx: Ctx, *, pickup: bool = False) -> tuple[Call, Leg]:
    call = _session(ctx, live=True, parked_ok=pickup)
    leg = callcontrol.party_find(call, ctx.request.path_params["partyId"])
    if not pickup:
        assert ctx.user is not None
        callcontrol.party_control_check(ctx.user, leg)
    return call, leg


def _party_json(ctx: Ctx, call: Call, leg: Leg, status: int = 200) -> Response:
    return JSONResponse(sessions.party_resource(ctx.state, call, leg), status_code=status)


async def _run(ctx: Ctx, action: Callable[[], Response]) -> Response:
    try:
        return action()
    except callcontrol.ControlError as error:
        raise _api_error(error) from None


@operation("GET", SESSION)
async def session_read(ctx: Ctx) -> Response:
    return await _run(ctx, lambda: JSONResponse(
        sessions.session_resource(ctx.state, _session(ctx, live=False))))


@operation("DELETE", SESSION)
async def session_delete(ctx: Ctx) -> Response:
    def act() -> Response:
        callcontrol.session_drop(ctx.state, _session(ctx, live=True))
        return Response(status_code=204)
    return await _run(ctx, act)


@operation("GET", PARTY)
async def party_read(ctx: Ctx) -> Response:
    def act() -> Response:
        call = _session(ctx, live=False)
        leg = callcontrol.party_find(call, ctx.request.path_params["partyId"], live=False)
        return _party_json(ctx, call, leg)
    return await _run(ctx, act)


@operation("DELETE", PARTY)
async def party_delete(ctx: Ctx) -> Response:
    def act() -> Response:
        call, leg = _party(ctx)
        callcontrol.party_drop(ctx.state, call, leg)
        return Response(status_code=204)
    return await _run(ctx, act)


def _party_route(name: str, handler: Callable[..., Any], *, body: bool = False,
                 status: int = 200, returns: str = "party") -> Any:
    """``POST .../parties/{partyId}/<name>``: ``handler(state, call, leg[, body])``."""

    async def endpoint(ctx: Ctx) -> Response:
        payload = await ctx.json() if body else None

        def act() -> Response:
            call, leg = _party(ctx, pickup=name == "pickup")
            args: list[Any] = [ctx.state, call, leg]
            if name == "pickup":
                args.append(ctx.user)
            if body:
                args.append(payload)
            result = handler(*args)
            if returns == "none":
                return Response(status_code=204)
            if returns == "recording":
                return JSONResponse(result, status_code=status)
            if name == "forward":
                # ForwardCallPartyResponse: the forwarded party as it is now.
                return _party_json(ctx, call, leg, status)
            return _party_json(ctx, call, result if isinstance(result, Leg) else leg, status)
        return await _run(ctx, act)

    endpoint.__name__ = f"party_{name}"
    return operation("POST", PARTY + "/" + name)(endpoint)


party_hold = _party_route("hold", callcontrol.party_hold)
party_unhold = _party_route("unhold", callcontrol.party_unhold)
party_answer = _party_route("answer", callcontrol.party_answer, body=True)
party_pickup = _party_route("pickup", callcontrol.party_pickup, body=True, status=201)
party_reject = _party_route("reject", callcontrol.party_reject, returns="none")
party_ignore = _party_route("ignore", callcontrol.party_ignore, returns="none")
party_transfer = _party_route("transfer", callcontrol.party_transfer, body=True)
party_forward = _party_route("forward", callcontrol.party_forward, body=True)
party_reply = _party_route("reply", callcontrol.party_reply, body=True)
party_park = _party_route("park", callcontrol.party_park, status=201)
party_bridge = _party_route("bridge", callcontrol.party_bridge, body=True)
recording_start = _party_route("recordings", callcontrol.recording_start, status=201,
                               returns="recording")


@operation("PATCH", PARTY + "/recordings/{recordingId}")
async def recording_update(ctx: Ctx) -> Response:
    payload = await ctx.json()

    def act() -> Response:
        call, leg = _party(ctx)
        return JSONResponse(callcontrol.recording_update(
            ctx.state, call, leg, ctx.request.path_params["recordingId"], payload))
    return await _run(ctx, act)


@operation("POST", ACCOUNT + "/telephony/call-out")
async def call_out(ctx: Ctx) -> Response:
    payload = await ctx.json()

    def act() -> Response:
        _allowed(ctx)
        assert ctx.user is not None
        call = callcontrol.call_out(ctx.state, ctx.user, payload)
        return JSONResponse({"session": sessions.session_resource(ctx.state, call)},
                            status_code=201)
    return await _run(ctx, act)


ROUTES = [session_read, session_delete, party_read, party_delete, party_hold, party_unhold,
          party_answer, party_pickup, party_reject, party_ignore, party_transfer, party_forward,
          party_reply, party_park, party_bridge, recording_start, recording_update, call_out]
