"""The sandbox ASGI application (Starlette): platform routes, control API, console."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from crm_cti.sandbox import (
    console,
    control,
    delivery,
    messagecontrol,
    oauth,
    schema,
    wsgateway,
)
from crm_cti.sandbox.errors import ApiError
from crm_cti.sandbox.rest import (
    account,
    callcontrol,
    callqueues,
    calls,
    devices,
    messages,
    messagestore,
    ringout,
)
from crm_cti.sandbox.rest import subscriptions as subscription_routes
from crm_cti.sandbox.state import SandboxState

log = logging.getLogger(__name__)


class Holder:
    """Points at the current state; ``POST /sandbox/reset`` swaps it."""

    def __init__(self) -> None:
        self.state = SandboxState()


async def not_found(request: Request) -> Response:
    for route in request.app.router.routes:
        if route.path != "/restapi/{rest:path}" and route.matches(request.scope)[0] == (
            Match.PARTIAL
        ):
            return ApiError(405, "CMN-405", f"Method {request.method} is not allowed for "
                            f"{request.url.path}", top_code="MethodNotAllowed").response()
    return ApiError(404, "CMN-102", f"Resource for parameter [path] is not found: "
                    f"{request.method} {request.url.path}", top_code="NotFound").response()


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no route, wrong method) in the platform's JSON shape."""
    status = getattr(exc, "status_code", 500)
    if status == 405:
        return ApiError(405, "CMN-405", f"Method {request.method} is not allowed for "
                        f"{request.url.path}", top_code="MethodNotAllowed").response()
    return await not_found(request)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "service": "ringcentral-sandbox"})


def create_app() -> Starlette:
    index, source = schema.throttling_index()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        app.state.holder.state.shutdown()
        await delivery.TRANSPORT.close()

    routes = [
        *oauth.ROUTES,
        *account.ROUTES,
        *callqueues.ROUTES,
        *calls.ROUTES,
        *callcontrol.ROUTES,
        *devices.ROUTES,
        *ringout.ROUTES,
        *messages.ROUTES,
        *messagestore.ROUTES,
        *subscription_routes.ROUTES,
        *wsgateway.ROUTES,
        *control.ROUTES,
        *messagecontrol.ROUTES,
        *console.ROUTES,
        Route("/sandbox/health", health, methods=["GET"]),
        Route("/restapi/{rest:path}", not_found,
              methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: http_error, 405: http_error})
    app.state.holder = Holder()
    app.state.throttling = index
    app.state.throttling_source = source
    log.info("throttling groups from %s (%d operations)", source, len(index))
    return app
