"""Call queues: the account's Department extensions and their member agents."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import not_found
from crm_cti.sandbox.rest.common import ACCOUNT, account_check, account_uri, single_page
from crm_cti.sandbox.seed import Extension

QUEUES = ACCOUNT + "/call-queues"


def _queue_info(ctx: Ctx, queue: Extension) -> dict[str, Any]:
    return {"uri": account_uri(ctx) + f"/call-queues/{queue.id}", "id": queue.id,
            "extensionNumber": queue.number, "name": queue.name, "status": "Enabled"}


@operation("GET", QUEUES)
async def call_queue_list(ctx: Ctx) -> Response:
    """Every user may list the queues (ReadExtensions); ``memberExtensionId`` keeps those
    the extension belongs to."""
    account_check(ctx)
    member = ctx.request.query_params.get("memberExtensionId")
    queues = list(ctx.state.call_queues.values())
    if member:
        ext = ctx.state.extensions.get(member)
        queues = [q for q in queues if ext is not None and ext.number in q.members]
    uri = account_uri(ctx) + "/call-queues?page=1&perPage=100"
    return JSONResponse(single_page(uri, [_queue_info(ctx, q) for q in queues]))


@operation("GET", QUEUES + "/{groupId}/members")
async def call_queue_members(ctx: Ctx) -> Response:
    account_check(ctx)
    raw = ctx.request.path_params["groupId"]
    queue = ctx.state.call_queues.get(raw)
    if queue is None:
        raise not_found("groupId", raw)
    members = [ctx.state.extension_by_number(number) for number in queue.members]
    records = [{"uri": account_uri(ctx) + f"/extension/{m.id}", "id": int(m.id),
                "extensionNumber": m.number} for m in members if m is not None]
    uri = account_uri(ctx) + f"/call-queues/{queue.id}/members?page=1&perPage=100"
    return JSONResponse(single_page(uri, records))


ROUTES = [call_queue_list, call_queue_members]
