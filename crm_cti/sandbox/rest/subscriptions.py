"""Webhook subscriptions: create (after the validation handshake), list, read, update,
renew, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox import delivery
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import (
    ApiError,
    invalid_parameter,
    missing_parameter,
    not_found,
    permission_required,
)
from crm_cti.sandbox.state import Subscription, iso, now
from crm_cti.sandbox.subscriptions import FilterError, filter_normalize

BASE = "/restapi/v1.0/subscription"
DEFAULT_EXPIRES_IN = 604800
MAX_EXPIRES_IN = 315360000


def subscription_body(ctx: Ctx, sub: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uri": ctx.url(f"{BASE}/{sub.id}"),
        "id": sub.id,
        "creationTime": iso(sub.created),
        "status": sub.status,
        "eventFilters": list(sub.event_filters),
        "expirationTime": iso(sub.expires_at),
        "expiresIn": max(0, round(sub.expires_at - now())),
        "deliveryMode": (
            {"transportType": "WebSocket"} if sub.transport == "WebSocket"
            else {"transportType": "WebHook", "address": sub.address, "encryption": False}),
    }
    if sub.blacklisted_data:
        body["blacklistedData"] = sub.blacklisted_data
    return body


def _filters(ctx: Ctx, raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise missing_parameter("eventFilters")
    assert ctx.user is not None
    filters = []
    for item in raw:
        if not isinstance(item, str):
            raise invalid_parameter("eventFilters", item)
        try:
            filters.append(filter_normalize(ctx.state, ctx.user, item,
                                           scope=ctx.token.scope if ctx.token else None))
        except FilterError as error:
            if error.permission:
                raise permission_required(error.permission) from None
            raise invalid_parameter("eventFilters", item,
                                    f"Event filter [{item}] is invalid: {error}") from None
    return list(dict.fromkeys(filters))


INT32_MAX = 2**31 - 1


def _expires_in(raw: Any) -> int:
    """The spec's ``expiresIn``: an int32, at least 1 (a longer lifetime than the transport
    allows is cut to its maximum). ``1e400`` arrives as infinity, ``true`` as a bool: both
    are refused like any other value that is not such an integer."""
    if raw is None:
        return DEFAULT_EXPIRES_IN
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise invalid_parameter("expiresIn", raw)
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise invalid_parameter("expiresIn", raw) from None
    if not 1 <= value <= INT32_MAX:
        raise invalid_parameter(
            "expiresIn", raw, f"Parameter [expiresIn] value is out of range [1, {INT32_MAX}]")
    return min(value, MAX_EXPIRES_IN)


def _delivery_mode(raw: Any) -> tuple[str, str | None]:
    if not isinstance(raw, dict):
        raise missing_parameter("deliveryMode")
    if raw.get("transportType") != "WebHook":
        raise invalid_parameter("deliveryMode.transportType", raw.get("transportType"),
                                "The sandbox supports the WebHook transport only")
    address = raw.get("address")
    if not isinstance(address, str) or not address:
        raise missing_parameter("deliveryMode.address")
    parsed = urlparse(address)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise invalid_parameter("deliveryMode.address", address)
    token = raw.get("verificationToken")
    if token is not None and (not isinstance(token, str) or len(token) > 64):
        raise invalid_parameter("deliveryMode.verificationToken", token,
                                "verificationToken must be a string of at most 64 characters")
    return address, token


async def _validate_address(ctx: Ctx, address: str) -> None:
    problem = await delivery.handshake(address, float(ctx.state.config["delivery_timeout"]))
    if problem:
        raise ApiError(400, "SUB-520", problem, top_code="SUB-520")


def _owned(ctx: Ctx) -> Subscription:
    sub_id = ctx.request.path_params["subscriptionId"]
    sub = ctx.state.subscriptions.get(sub_id)
    assert ctx.user is not None and ctx.token is not None
    if (sub is None or sub.owner_id != ctx.user.id or sub.client_id != ctx.token.client_id
            or sub.expired(now())):
        raise not_found("subscriptionId", sub_id)
    return sub


@operation("POST", BASE)
async def subscription_create(ctx: Ctx) -> Response:
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    filters = _filters(ctx, body.get("eventFilters"))
    address, token = _delivery_mode(body.get("deliveryMode"))
    expires_in = _expires_in(body.get("expiresIn"))
    await _validate_address(ctx, address)
    assert ctx.user is not None and ctx.token is not None
    at = now()
    sub = Subscription(
        id=delivery.new_subscription_id(),
        owner_id=ctx.user.id,
        client_id=ctx.token.client_id,
        event_filters=filters,
        address=address,
        verification_token=token,
        expires_in=expires_in,
        created=at,
        expires_at=at + expires_in,
    )
    ctx.state.subscriptions[sub.id] = sub
    return JSONResponse(subscription_body(ctx, sub))


@operation("GET", BASE)
async def subscription_list(ctx: Ctx) -> Response:
    assert ctx.user is not None and ctx.token is not None
    at = now()
    records = [
        subscription_body(ctx, sub)
        for sub in ctx.state.subscriptions.values()
        if sub.owner_id == ctx.user.id and sub.client_id == ctx.token.client_id
        and not sub.expired(at)
    ]
    return JSONResponse({"uri": ctx.url(BASE), "records": records})


@operation("GET", BASE + "/{subscriptionId}")
async def subscription_read(ctx: Ctx) -> Response:
    return JSONResponse(subscription_body(ctx, _owned(ctx)))


@operation("PUT", BASE + "/{subscriptionId}")
async def subscription_update(ctx: Ctx) -> Response:
    sub = _owned(ctx)
    if sub.transport == "WebSocket":
        raise invalid_parameter("subscriptionId", sub.id, "WebSocket subscriptions cannot be "
                                "updated via HTTP interface: send the request on the WebSocket")
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    filters = _filters(ctx, body.get("eventFilters"))
    address, token = sub.address, sub.verification_token
    if body.get("deliveryMode") is not None:
        address, token = _delivery_mode(body["deliveryMode"])
    expires_in = _expires_in(body.get("expiresIn", sub.expires_in))
    # An update re-validates the address and gives a blacklisted subscription a new chance.
    await _validate_address(ctx, address)
    sub.event_filters = filters
    sub.address = address
    sub.verification_token = token
    sub.expires_in = expires_in
    sub.expires_at = now() + expires_in
    sub.status = "Active"
    sub.blacklisted_data = None
    sub.consecutive_failures = 0
    return JSONResponse(subscription_body(ctx, sub))


@operation("POST", BASE + "/{subscriptionId}/renew")
async def subscription_renew(ctx: Ctx) -> Response:
    sub = _owned(ctx)
    sub.expires_at = now() + sub.expires_in
    return JSONResponse(subscription_body(ctx, sub))


@operation("DELETE", BASE + "/{subscriptionId}")
async def subscription_delete(ctx: Ctx) -> Response:
    sub = _owned(ctx)
    del ctx.state.subscriptions[sub.id]
    delivery.stop(ctx.state, sub.id)
    return Response(status_code=204)


ROUTES = [subscription_create, subscription_list, subscription_read, subscription_update,
          subscription_renew, subscription_delete]
