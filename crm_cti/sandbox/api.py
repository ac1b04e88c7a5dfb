"""The request pipeline every platform operation goes through: platform faults, counting,
bearer-token authentication, rate limits and the ``X-Rate-Limit-*`` headers."""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_cti.sandbox import schema
from crm_cti.sandbox.errors import ApiError, OAuthError, token_error
from crm_cti.sandbox.ratelimit import rate_check
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import SandboxState, TokenRecord, now

_FAULT_BODIES = {
    500: ("CMN-201", "Internal Server Error"),
    502: ("CMN-202", "Bad Gateway"),
    503: ("CMN-211", "Service Temporarily Unavailable"),
    504: ("CMN-212", "Gateway Timeout"),
}


@dataclass
class Ctx:
    """What a handler gets besides the request."""

    request: Request
    state: SandboxState
    template: str
    group: str
    user: Extension | None = None
    token: TokenRecord | None = None
    rate_headers: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path

    def limit(self, owner: str, client_id: str) -> None:
        """Count the request against ``owner``'s budget (OAuth handlers know the owner late)."""
        self.rate_headers = rate_check(self.state, owner, client_id, self.group)

    async def json(self) -> Any:
        raw = await self.request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise ApiError(
                400, "CMN-103", "JSON can't be parsed", top_code="InvalidParameter"
            ) from None

    async def form(self) -> dict[str, str]:
        raw = (await self.request.body()).decode("utf-8", "replace")
        return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


Handler = Callable[[Ctx], Awaitable[Response]]


def sandbox_state(request: Request) -> SandboxState:
    return request.app.state.holder.state


def operation(
    method: str, template: str, *, authenticated: bool = True
) -> Callable[[Handler], Route]:
    """Register ``handler`` for ``method template`` (the spec's path template)."""

    def wrap(handler: Handler) -> Route:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state = sandbox_state(request)
            group = schema.group_for(request.app.state.throttling, method, template) or "Light"
            state.stats["by_operation"][f"{method} {template}"] += 1
            state.stats["requests"][group] += 1
            ctx = Ctx(request=request, state=state, template=template, group=group)
            state.base_url = ctx.base
            try:
                fault = await _platform_fault(state, method, request.url.path)
                if fault is not None:
                    return fault
                if authenticated:
                    ctx.token, ctx.user = authenticate(state, request)
                    ctx.limit(ctx.user.id, ctx.token.client_id)
                response = await handler(ctx)
            except ApiError as error:
                response = error.response()
            except OAuthError as error:
                response = error.response()
            for key, value in ctx.rate_headers.items():
                response.headers.setdefault(key, value)
            response.headers["RCRequestId"] = secrets.token_hex(16)
            return response

        return Route(template, endpoint, methods=[method])

    return wrap


def authenticate(state: SandboxState, request: Request) -> tuple[TokenRecord, Extension]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise token_error("missing")
    record = state.by_access.get(value.strip())
    if record is None:
        raise token_error("unknown")
    status = record.access_status(now())
    if status == "expired":
        raise token_error("expired")
    if status != "active":
        raise token_error("revoked")
    owner = state.extensions.get(record.owner_id) or state.other_account[record.owner_id]
    return record, owner


async def _platform_fault(state: SandboxState, method: str, path: str) -> Response | None:
    """Apply the first matching configured platform fault (resilience tests)."""
    for fault in state.config.get("faults", []):
        if fault.get("method") and fault["method"].upper() != method:
            continue
        if fault.get("path_contains") and fault["path_contains"] not in path:
            continue
        times = fault.get("times")
        if times is not None and int(times) <= 0:
            continue
        if times is not None:
            fault["times"] = int(times) - 1
        fault["applied"] = int(fault.get("applied", 0)) + 1
        delay = float(fault.get("delay") or 0.0)
        if delay:
            await asyncio.sleep(delay)
        status = int(fault.get("status") or 0)
        if not status:
            return None
        if status == 401:
            return token_error("unknown").response()
        if status == 429:
            body = ApiError(429, "CMN-301", "Request rate exceeded", top_code="CMN-301").body()
            return JSONResponse(body, status_code=429, headers={"Retry-After": "60"})
        code, message = _FAULT_BODIES.get(status, ("CMN-101", "Sandbox fault"))
        return ApiError(status, code, message, top_code=code).response()
    return None
