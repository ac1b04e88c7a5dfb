"""Active calls, the call log (list and item, account and extension level), recordings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox import calllog, mp3
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import invalid_parameter, not_found, permission_required
from crm_cti.sandbox.rest.common import (
    ACCOUNT,
    EXTENSION,
    account_admin,
    account_check,
    extension_target,
    int_param,
    per_page_param,
)
from crm_cti.sandbox.state import now
from crm_cti.sandbox.telephony import calls_prune

_TYPES = {"Voice", "Fax"}
_DIRECTIONS = {"Inbound", "Outbound"}
_VIEWS = {"Simple", "Detailed"}


def _paged(ctx: Ctx, records: list[dict[str, Any]], *, page: int, per_page: int,
           path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
    """The platform's ``paging``/``navigation`` (call log has no totals)."""
    start = (page - 1) * per_page
    chunk = records[start:start + per_page]

    def uri(number: int) -> dict[str, str]:
        query = [(k, v) for k, v in params if k not in ("page", "perPage")]
        query += [("page", str(number)), ("perPage", str(per_page))]
        return {"uri": ctx.url(path) + "?" + urlencode(query)}

    paging: dict[str, Any] = {"page": page, "perPage": per_page}
    if chunk:
        paging.update({"pageStart": start, "pageEnd": start + len(chunk) - 1})
    navigation = {"firstPage": uri(1)}
    if start + per_page < len(records):
        navigation["nextPage"] = uri(page + 1)
    if page > 1:
        navigation["previousPage"] = uri(page - 1)
    return {"uri": uri(page)["uri"], "records": chunk, "paging": paging,
            "navigation": navigation}


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _call_log(ctx: Ctx, ext_id: str | None, path: str) -> Response:
    query = ctx.request.query_params
    params = list(query.multi_items())
    try:
        date_to = calllog.parse_datetime(query["dateTo"]) if query.get("dateTo") else now()
    except ValueError:
        raise invalid_parameter("dateTo", query.get("dateTo")) from None
    try:
        date_from = (calllog.parse_datetime(query["dateFrom"]) if query.get("dateFrom")
                     else calllog.default_date_from(date_to))
    except ValueError:
        raise invalid_parameter("dateFrom", query.get("dateFrom")) from None
    types = query.getlist("type")
    for value in types:
        if value not in _TYPES:
            raise invalid_parameter("type", value)
    directions = query.getlist("direction")
    for value in directions:
        if value not in _DIRECTIONS:
            raise invalid_parameter("direction", value)
    view = query.get("view", "Simple")
    if view not in _VIEWS:
        raise invalid_parameter("view", view)
    with_recording = query.get("withRecording", "").lower()
    if with_recording not in ("", "true", "false"):
        raise invalid_parameter("withRecording", with_recording)
    recording_type = query.get("recordingType")
    if recording_type and recording_type not in ("Automatic", "OnDemand", "All"):
        raise invalid_parameter("recordingType", recording_type)
    phone = _digits(query.get("phoneNumber", ""))
    ext_number = query.get("extensionNumber")
    session_id = query.get("sessionId")
    telephony_session_id = query.get("telephonySessionId")
    page = int_param(ctx, "page", 1, 1, 100000)
    per_page = per_page_param(ctx)

    def keep(record: dict[str, Any]) -> bool:
        if ext_id and record["_ext"] != ext_id:
            return False
        if not date_from <= record["_ts"] <= date_to:
            return False
        if types and record["type"] not in types:
            return False
        if directions and record["direction"] not in directions:
            return False
        if session_id and record["sessionId"] != session_id:
            return False
        if telephony_session_id and record.get("telephonySessionId") != telephony_session_id:
            return False
        if with_recording == "true" or (recording_type and recording_type != "All"):
            recording = record.get("recording")
            if not recording:
                return False
            if recording_type and recording_type != "All" and recording["type"] != recording_type:
                return False
        if ext_number and ext_number not in (record["from"].get("extensionNumber"),
                                             record["to"].get("extensionNumber")):
            return False
        if phone:
            numbers = {_digits(record["from"].get("phoneNumber", "")),
                       _digits(record["to"].get("phoneNumber", ""))}
            if not any(n and (n.endswith(phone) or phone.endswith(n)) for n in numbers):
                return False
        return True

    matches = sorted((r for r in ctx.state.call_log if keep(r)), key=lambda r: -r["_ts"])
    body = _paged(ctx, matches, page=page, per_page=per_page, path=path, params=params)
    body["records"] = [calllog.render(r, ctx.base, detailed=view == "Detailed")
                       for r in body["records"]]
    return JSONResponse(body)


@operation("GET", ACCOUNT + "/call-log")
async def company_call_log(ctx: Ctx) -> Response:
    account_admin(ctx, "ReadCompanyCallLog")
    return _call_log(ctx, None, f"/restapi/v1.0/account/{ctx.state.account_id}/call-log")


@operation("GET", EXTENSION + "/call-log")
async def user_call_log(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "ReadCompanyCallLog")
    path = f"/restapi/v1.0/account/{ctx.state.account_id}/extension/{ext.id}/call-log"
    return _call_log(ctx, ext.id, path)


def _record_item(ctx: Ctx, ext_id: str | None) -> Response:
    record_id = ctx.request.path_params["callRecordId"]
    record = ctx.state.call_log_by_id.get(record_id)
    if record is None or (ext_id and record["_ext"] != ext_id):
        raise not_found("callRecordId", record_id)
    view = ctx.request.query_params.get("view", "Simple")
    if view not in _VIEWS:
        raise invalid_parameter("view", view)
    return JSONResponse(calllog.render(record, ctx.base, detailed=view == "Detailed"))


@operation("GET", ACCOUNT + "/call-log/{callRecordId}")
async def company_call_record(ctx: Ctx) -> Response:
    account_admin(ctx, "ReadCompanyCallLog")
    return _record_item(ctx, None)


@operation("GET", EXTENSION + "/call-log/{callRecordId}")
async def user_call_record(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "ReadCompanyCallLog")
    return _record_item(ctx, ext.id)


def _active_calls(ctx: Ctx, ext_id: str | None, path: str) -> Response:
    """Live calls and calls ended within the retention; query parameters are ignored."""
    state = ctx.state
    calls_prune(state)
    lag = float(state.config.get("active_calls_lag") or 0.0)
    seen_at = now() - lag
    records = []
    for call in sorted(state.calls.values(), key=lambda c: -c.start):
        if call.start > seen_at:
            continue
        for leg in call.legs:
            if ext_id and leg.extension.id != ext_id:
                continue
            if leg.ringing_at is None and leg.connected_at is None:
                continue
            records.append(calllog.active_record(state, call, leg, seen_at=seen_at))
    body = _paged(ctx, records, page=1, per_page=max(100, len(records)), path=path, params=[])
    body["records"] = [calllog.absolutize(r, ctx.base) for r in body["records"]]
    return JSONResponse(body)


@operation("GET", ACCOUNT + "/active-calls")
async def company_active_calls(ctx: Ctx) -> Response:
    account_admin(ctx, "ReadCompanyCallLog")
    return _active_calls(ctx, None, f"/restapi/v1.0/account/{ctx.state.account_id}/active-calls")


@operation("GET", EXTENSION + "/active-calls")
async def user_active_calls(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "ReadCompanyCallLog")
    path = f"/restapi/v1.0/account/{ctx.state.account_id}/extension/{ext.id}/active-calls"
    return _active_calls(ctx, ext.id, path)


def _recording(ctx: Ctx) -> dict[str, Any]:
    account_check(ctx)
    recording_id = ctx.request.path_params["recordingId"]
    recording = ctx.state.recordings.get(recording_id)
    if recording is None:
        raise not_found("recordingId", recording_id)
    assert ctx.user is not None
    if not ctx.user.is_admin and ctx.user.id not in recording["extensions"]:
        raise permission_required("ReadCompanyCallRecording")
    return recording


@operation("GET", ACCOUNT + "/recording/{recordingId}")
async def recording_read(ctx: Ctx) -> Response:
    recording = _recording(ctx)
    path = f"/restapi/v1.0/account/{ctx.state.account_id}/recording/{recording['id']}/content"
    return JSONResponse({"id": recording["id"], "contentUri": ctx.url(path),
                         "contentType": "audio/mpeg", "duration": recording["duration"]})


def ranged_response(ctx: Ctx, content: bytes, *, media_type: str,
                    headers: dict[str, str]) -> Response:
    """``content`` whole (200) or the byte range the request asks for (206; 416 when it
    cannot be satisfied), as the platform's media host serves recordings and attachments."""
    try:
        wanted = byte_range(ctx.request.headers.get("range", ""), len(content))
    except ValueError:
        return Response(b"", status_code=416, headers={
            "Content-Range": f"bytes */{len(content)}", "Accept-Ranges": "bytes"})
    if wanted is None:
        return Response(content, media_type=media_type, headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{len(content)}"
    return Response(content[first:last + 1], status_code=206, media_type=media_type,
                    headers=headers)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single-range ``Range`` header, None to send everything;
    ValueError when the range cannot be satisfied (RFC 9110, section 14)."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.replace(" ", ""))
    if match is None or match.groups() == ("", ""):
        return None  # not a single byte range: ignored, the whole content is sent
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError("range outside the content")
    return start, end


@operation("GET", ACCOUNT + "/recording/{recordingId}/content")
async def recording_content(ctx: Ctx) -> Response:
    recording = _recording(ctx)
    forced = ctx.state.config.get("recording_content_seconds")
    content = (mp3.silent_mp3(float(forced), max_seconds=None) if forced
               else mp3.silent_mp3(recording["duration"]))
    headers = {
        "Content-Disposition": f'attachment; filename="recording-{recording["id"]}.mp3"',
        # The media host serves byte ranges, so a player can seek.
        "Accept-Ranges": "bytes",
    }
    return ranged_response(ctx, content, media_type="audio/mpeg", headers=headers)


ROUTES = [company_call_log, user_call_log, company_call_record, user_call_record,
          company_active_calls, user_active_calls, recording_read, recording_content]
