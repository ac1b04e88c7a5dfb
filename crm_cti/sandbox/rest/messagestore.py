"""The message store over REST: list (filters, paging), read, update, delete, attachment
content, and message-sync (full and incremental)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox import calllog, messagestore
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import invalid_parameter, missing_parameter, not_found
from crm_cti.sandbox.rest.calls import ranged_response
from crm_cti.sandbox.rest.common import EXTENSION, extension_target, int_param, per_page_param
from crm_cti.sandbox.rest.messages import allowed
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import iso, now

STORE = EXTENSION + "/message-store"
MESSAGE = STORE + "/{messageId}"
TYPES = ("Fax", "SMS", "VoiceMail", "Pager")
DIRECTIONS = ("Inbound", "Outbound")
READ_STATUSES = ("Read", "Unread")
AVAILABILITIES = ("Alive", "Deleted", "Purged")
# message-sync without recordCount returns at most this many records (olderRecordsExist).
SYNC_DEFAULT_COUNT = 250


def _target(ctx: Ctx, permission: str) -> Extension:
    """The store in the path: the app needs ``permission``; another user's store (or a call
    queue's, where its voicemail lands), an admin."""
    allowed(ctx, permission)
    return extension_target(ctx, permission, queues=True)


def _choices(ctx: Ctx, name: str, values: tuple[str, ...]) -> list[str]:
    """A multi-value query parameter (``?direction=Inbound&direction=Outbound``, or one
    comma-separated value), each a member of ``values``."""
    found = [item for raw in ctx.request.query_params.getlist(name)
             for item in raw.split(",") if item]
    for item in found:
        if item not in values:
            raise invalid_parameter(name, item, f"Parameter [{name}] value [{item}] is invalid: "
                                    f"one of {', '.join(values)}")
    return found


def _date(ctx: Ctx, name: str) -> float | None:
    raw = ctx.request.query_params.get(name)
    if not raw:
        return None
    try:
        return calllog.parse_datetime(raw)
    except ValueError:
        raise invalid_parameter(name, raw) from None


def _window(ctx: Ctx) -> tuple[float, float]:
    """dateFrom/dateTo: dateTo defaults to now, dateFrom to dateTo minus 24 hours."""
    date_to = _date(ctx, "dateTo") or now()
    date_from = _date(ctx, "dateFrom")
    return (calllog.default_date_from(date_to) if date_from is None else date_from), date_to


def _bool(ctx: Ctx, name: str) -> bool:
    raw = ctx.request.query_params.get(name, "").lower()
    if raw not in ("", "true", "false"):
        raise invalid_parameter(name, raw)
    return raw == "true"


def _conversation_param(ctx: Ctx) -> int | None:
    raw = ctx.request.query_params.get("conversationId")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise invalid_parameter("conversationId", raw)
    return int(raw)


def _matcher(ctx: Ctx, *, types: list[str], directions: list[str],
             conversation: int | None) -> Callable[[dict[str, Any]], bool]:
    phone = messagestore.digits(ctx.request.query_params.get("phoneNumber", ""))

    def keep(record: dict[str, Any]) -> bool:
        if types and record["type"] not in types:
            return False
        if directions and record["direction"] not in directions:
            return False
        if conversation is not None and record.get("conversationId") != conversation:
            return False
        if phone:
            parties = [record["from"], *record["to"]]
            numbers = {messagestore.digits(p.get("phoneNumber", "")) for p in parties}
            numbers |= {p.get("extensionNumber") for p in parties if p.get("extensionNumber")}
            if not any(n and (n.endswith(phone) or phone.endswith(n)) for n in numbers):
                return False
        return True

    return keep


def _latest_per_conversation(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[Any] = set()
    out = []
    for record in records:  # newest first
        key = record.get("conversationId", ("message", record["id"]))
        if key not in seen:
            seen.add(key)
            out.append(record)
    return out


def _paged(ctx: Ctx, records: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """The message list's ``paging`` (with totals) and ``navigation``."""
    page = int_param(ctx, "page", 1, 1, 100000)
    per_page = per_page_param(ctx)
    total = len(records)
    pages = max(1, -(-total // per_page))
    start = (page - 1) * per_page
    chunk = records[start:start + per_page]
    params = [(k, v) for k, v in ctx.request.query_params.multi_items()
              if k not in ("page", "perPage")]

    def uri(number: int) -> dict[str, str]:
        query = [*params, ("page", str(number)), ("perPage", str(per_page))]
        return {"uri": ctx.url(path) + "?" + urlencode(query)}

    paging: dict[str, Any] = {"page": page, "perPage": per_page, "totalPages": pages,
                              "totalElements": total}
    if chunk:
        paging.update({"pageStart": start, "pageEnd": start + len(chunk) - 1})
    navigation = {"firstPage": uri(1), "lastPage": uri(pages)}
    if page < pages:
        navigation["nextPage"] = uri(page + 1)
    if page > 1:
        navigation["previousPage"] = uri(page - 1)
    return {"uri": uri(page)["uri"], "records": [messagestore.message_render(r, ctx.base)
                                                 for r in chunk],
            "paging": paging, "navigation": navigation}


@operation("GET", STORE)
async def message_list(ctx: Ctx) -> Response:
    ext = _target(ctx, "ReadMessages")
    types = _choices(ctx, "messageType", TYPES)
    directions = _choices(ctx, "direction", DIRECTIONS)
    read = _choices(ctx, "readStatus", READ_STATUSES)
    # A store lists its live messages unless asked for deleted or purged ones.
    availability = _choices(ctx, "availability", AVAILABILITIES) or ["Alive"]
    date_from, date_to = _window(ctx)
    keep = _matcher(ctx, types=types, directions=directions,
                    conversation=_conversation_param(ctx))
    records = sorted(
        (r for r in messagestore.store_of(ctx.state, ext.id).values()
         if keep(r) and r["availability"] in availability
         and (not read or r["readStatus"] in read) and date_from <= r["_ts"] <= date_to),
        key=lambda r: (-r["_ts"], -r["id"]))
    if _bool(ctx, "distinctConversations"):
        records = _latest_per_conversation(records)
    return JSONResponse(_paged(ctx, records, messagestore.store_path(ctx.state, ext.id)))


def _message(ctx: Ctx, permission: str) -> tuple[Extension, dict[str, Any]]:
    ext = _target(ctx, permission)
    raw = ctx.request.path_params["messageId"]
    record = messagestore.message_find(ctx.state, ext.id, raw)
    if record is None:
        raise not_found("messageId", raw)
    return ext, record


@operation("GET", MESSAGE)
async def message_read(ctx: Ctx) -> Response:
    _ext, record = _message(ctx, "ReadMessages")
    body = messagestore.message_render(record, ctx.base)
    # The spec's GetSingleMessageInfoResponse requires at least one side recipient: the
    # recipients the message went to.
    body["vmSideRecipients"] = body["to"]
    return JSONResponse(body)


async def _changes(ctx: Ctx, *, patch: bool) -> Response:
    ext, record = _message(ctx, "EditMessages")
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    read = body.get("readStatus")
    # Only PATCH changes the availability (PUT's UpdateMessageRequest has readStatus alone).
    availability = body.get("availability") if patch else None
    if read is None and availability is None:
        raise missing_parameter("readStatus")
    if read is not None and read not in READ_STATUSES:
        raise invalid_parameter("readStatus", read)
    if availability is not None and availability not in AVAILABILITIES:
        raise invalid_parameter("availability", availability)
    if availability is not None:
        messagestore.availability_set(ctx.state, ext, record, availability)
    if read is not None:
        messagestore.read_status_set(ctx.state, ext, record, read)
    return JSONResponse(messagestore.message_render(record, ctx.base))


@operation("PUT", MESSAGE)
async def message_update(ctx: Ctx) -> Response:
    return await _changes(ctx, patch=False)


@operation("PATCH", MESSAGE)
async def message_patch(ctx: Ctx) -> Response:
    return await _changes(ctx, patch=True)


@operation("DELETE", MESSAGE)
async def message_delete(ctx: Ctx) -> Response:
    """The first delete moves a message to Deleted, the second (or ``purge=true``) to
    Purged."""
    ext, record = _message(ctx, "EditMessages")
    _choices(ctx, "type", (*TYPES, "Text", "All"))
    purge = _bool(ctx, "purge") or record["availability"] == "Deleted"
    messagestore.availability_set(ctx.state, ext, record, "Purged" if purge else "Deleted")
    return Response(status_code=204)


@operation("GET", MESSAGE + "/content/{attachmentId}")
async def message_content(ctx: Ctx) -> Response:
    _ext, record = _message(ctx, "ReadMessages")
    raw = ctx.request.path_params["attachmentId"]
    found = messagestore.content_of(record, raw)
    if found is None:
        raise not_found("attachmentId", raw)
    content_type, content = found
    disposition = ctx.request.query_params.get("contentDisposition", "Inline")
    if disposition not in ("Inline", "Attachment"):
        raise invalid_parameter("contentDisposition", disposition)
    extension = {"audio/mpeg": "mp3", "text/plain": "txt"}.get(content_type, "bin")
    filename = (ctx.request.query_params.get("contentDispositionFilename")
                or f"{record['id']}-{raw}.{extension}").replace('"', "")
    # A header is Latin-1: the plain name keeps printable ASCII, filename* the rest (RFC 6266).
    plain = "".join(ch for ch in filename if 32 <= ord(ch) < 127) or f"{record['id']}-{raw}"
    headers = {"Content-Disposition": f'{disposition.lower()}; filename="{plain}"; '
                                      f"filename*=UTF-8''{quote(filename, safe='')}",
               "Accept-Ranges": "bytes"}
    media = content_type + ("; charset=utf-8" if content_type == "text/plain" else "")
    return ranged_response(ctx, content, media_type=media, headers=headers)


# -- message-sync -------------------------------------------------------------------------
def _token_make(ctx: Ctx, ext: Extension, scope: dict[str, Any], seq: int) -> str:
    """An opaque token: whose store, the last change it has seen, the sync's filters."""
    payload = {"e": ext.id, "s": seq, "r": ctx.state.started, **scope}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _token_read(ctx: Ctx, ext: Extension, raw: str) -> dict[str, Any]:
    """The sync token's content; one of another extension or an earlier sandbox run (a
    reset) is refused, as a platform refuses a token it does not know."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        payload = None
    if (not isinstance(payload, dict) or payload.get("e") != ext.id
            or payload.get("r") != ctx.state.started or not isinstance(payload.get("s"), int)):
        raise invalid_parameter("syncToken", raw, "Parameter [syncToken] value is invalid")
    return payload


@operation("GET", EXTENSION + "/message-sync")
async def message_sync(ctx: Ctx) -> Response:
    ext = _target(ctx, "ReadMessages")
    query = ctx.request.query_params
    sync_type = query.get("syncType") or ("ISync" if query.get("syncToken") else "FSync")
    if sync_type not in ("FSync", "ISync"):
        raise invalid_parameter("syncType", sync_type)
    count = int_param(ctx, "recordCount", SYNC_DEFAULT_COUNT, 1, 100000)
    store = messagestore.store_of(ctx.state, ext.id).values()
    if sync_type == "ISync":
        raw = query.get("syncToken")
        if not raw:
            raise missing_parameter("syncToken")
        scope = _token_read(ctx, ext, raw)
        keep = _matcher(ctx, types=scope["t"], directions=scope["d"], conversation=scope["c"])
        # Every change since the token, deletions included, oldest first.
        changed = sorted((r for r in store if r["_seq"] > scope["s"] and keep(r)),
                         key=lambda r: r["_seq"])
        records = changed[:count]
        older = False
        # More changes than fit: the next ISync goes on after the last one returned.
        seq = records[-1]["_seq"] if len(changed) > count else ctx.state.message_changes
    else:
        scope = {"t": _choices(ctx, "messageType", TYPES),
                 "d": _choices(ctx, "direction", DIRECTIONS), "c": _conversation_param(ctx)}
        keep = _matcher(ctx, types=scope["t"], directions=scope["d"], conversation=scope["c"])
        date_from, date_to = _window(ctx)
        alive = sorted((r for r in store if r["availability"] == "Alive" and keep(r)
                        and r["_ts"] <= date_to), key=lambda r: (-r["_ts"], -r["id"]))
        window = [r for r in alive if r["_ts"] >= date_from]
        if _bool(ctx, "distinctConversations"):
            window = _latest_per_conversation(window)
        records = window[:count]
        older = len(window) > count or len(alive) > len(window)
        seq = ctx.state.message_changes
    token = _token_make(ctx, ext, {key: scope[key] for key in ("t", "d", "c")}, seq)
    return JSONResponse({
        "uri": ctx.url(f"/restapi/v1.0/account/{ctx.state.account_id}/extension/{ext.id}"
                       f"/message-sync"),
        "records": [messagestore.message_render(r, ctx.base) for r in records],
        "syncInfo": {"syncType": sync_type, "syncToken": token, "syncTime": iso(now()),
                     "olderRecordsExist": older},
    })


ROUTES = [message_list, message_read, message_update, message_patch, message_delete,
          message_content, message_sync]
