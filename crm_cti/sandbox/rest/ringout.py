"""RingOut: create, status, cancel (``ring-out`` and the tutorial's ``ringout``)."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import invalid_parameter, missing_parameter, not_found
from crm_cti.sandbox.rest.common import EXTENSION, extension_target, extension_uri
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import RingOut
from crm_cti.sandbox.telephony import ringout_cancel, ringout_start

_PHONE = re.compile(r"^\+?[0-9]{3,15}$")


def valid_phone(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    cleaned = re.sub(r"[\s().-]", "", value)
    return bool(_PHONE.match(cleaned))


def ringout_body(ctx: Ctx, ext: Extension, ringout: RingOut, spelling: str) -> dict[str, Any]:
    return {
        "id": ringout.id,
        "uri": extension_uri(ctx, ext) + f"/{spelling}/{ringout.id}",
        "status": {
            "callStatus": ringout.call_status,
            "callerStatus": ringout.caller_status,
            "calleeStatus": ringout.callee_status,
        },
    }


def _number(body: dict[str, Any], key: str) -> str:
    part = body.get(key)
    if not isinstance(part, dict) or not part.get("phoneNumber"):
        raise missing_parameter(f"{key}.phoneNumber")
    number = part["phoneNumber"]
    if not valid_phone(number):
        raise invalid_parameter(f"{key}.phoneNumber", number)
    return str(number)


async def _create(ctx: Ctx, spelling: str) -> Response:
    ext = extension_target(ctx, "RingOut")
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    from_number = _number(body, "from")
    to_number = _number(body, "to")
    caller_id = None
    if isinstance(body.get("callerId"), dict) and body["callerId"].get("phoneNumber"):
        caller_id = body["callerId"]["phoneNumber"]
        digits = "".join(ch for ch in str(caller_id) if ch.isdigit())
        # Only numbers with the CallerId feature: the extension's own or the main number.
        if digits not in {ext.direct_number.lstrip("+"), ctx.state.main_number.lstrip("+")}:
            raise invalid_parameter(
                "callerId.phoneNumber", caller_id,
                f"Parameter [callerId.phoneNumber] value [{caller_id}] is not a caller id "
                "number of the extension")
    ringout = ringout_start(ctx.state, ext=ext, from_number=from_number, to_number=to_number,
                            caller_id=caller_id)
    return JSONResponse(ringout_body(ctx, ext, ringout, spelling))


def _find(ctx: Ctx, ext: Extension) -> RingOut:
    ringout_id = ctx.request.path_params["ringoutId"]
    ringout = ctx.state.ringouts.get(ringout_id)
    if ringout is None or ringout.owner_id != ext.id:
        raise not_found("ringoutId", ringout_id)
    return ringout


async def _status(ctx: Ctx, spelling: str) -> Response:
    ext = extension_target(ctx, "RingOut")
    return JSONResponse(ringout_body(ctx, ext, _find(ctx, ext), spelling))


async def _cancel(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "RingOut")
    ringout_cancel(ctx.state, _find(ctx, ext))
    return Response(status_code=204)


@operation("POST", EXTENSION + "/ring-out")
async def ring_out_create(ctx: Ctx) -> Response:
    return await _create(ctx, "ring-out")


@operation("GET", EXTENSION + "/ring-out/{ringoutId}")
async def ring_out_status(ctx: Ctx) -> Response:
    return await _status(ctx, "ring-out")


@operation("DELETE", EXTENSION + "/ring-out/{ringoutId}")
async def ring_out_cancel(ctx: Ctx) -> Response:
    return await _cancel(ctx)


@operation("POST", EXTENSION + "/ringout")
async def ringout_create(ctx: Ctx) -> Response:
    return await _create(ctx, "ringout")


@operation("GET", EXTENSION + "/ringout/{ringoutId}")
async def ringout_status(ctx: Ctx) -> Response:
    return await _status(ctx, "ringout")


@operation("DELETE", EXTENSION + "/ringout/{ringoutId}")
async def ringout_delete(ctx: Ctx) -> Response:
    return await _cancel(ctx)


ROUTES = [ring_out_create, ring_out_status, ring_out_cancel, ringout_create, ringout_status,
          ringout_delete]
