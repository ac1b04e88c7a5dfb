"""SMS and company pager messages (message-store records)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import ApiError, invalid_parameter, missing_parameter
from crm_cti.sandbox.rest.common import EXTENSION, extension_target, extension_uri
from crm_cti.sandbox.rest.ringout import valid_phone
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import iso, now

MAX_TEXT = 1000


def _message(ctx: Ctx, ext: Extension, *, kind: str, sender: dict[str, Any],
             recipients: list[dict[str, Any]], text: str) -> dict[str, Any]:
    message_id = ctx.state.next_message_id()
    uri = extension_uri(ctx, ext) + f"/message-store/{message_id}"
    stamp = iso(now())
    record = {
        "uri": uri,
        "id": message_id,
        "to": recipients,
        "from": sender,
        "type": kind,
        "creationTime": stamp,
        "readStatus": "Read",
        "priority": "Normal",
        "attachments": [{"id": message_id, "uri": uri + f"/content/{message_id}",
                         "type": "Text", "contentType": "text/plain"}],
        "direction": "Outbound",
        "availability": "Alive",
        "subject": text,
        "messageStatus": "Sent",
        "conversationId": message_id,
        "conversation": {"id": str(message_id)},
        "lastModifiedTime": stamp,
    }
    ctx.state.messages.append({**record, "ownerId": ext.id, "text": text})
    return record


def _text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise missing_parameter("text")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "CMN-409", f"The parameter [text] cannot be longer than {MAX_TEXT}",
                       top_code="InvalidParameter", parameterName="text")
    return text


@operation("POST", EXTENSION + "/sms")
async def sms_create(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "SMS")
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    sender = body.get("from")
    if not isinstance(sender, dict) or not sender.get("phoneNumber"):
        raise missing_parameter("from.phoneNumber")
    from_number = str(sender["phoneNumber"])
    digits = "".join(ch for ch in from_number if ch.isdigit())
    if digits != ext.direct_number.lstrip("+"):
        raise ApiError(
            400, "MSG-304", f"Phone number [{from_number}] does not belong to the extension "
            "or is not enabled for SMS (SmsSender)", top_code="InvalidParameter",
            parameterName="from.phoneNumber", parameterValue=from_number)
    recipients = body.get("to")
    if not isinstance(recipients, list) or not recipients:
        raise missing_parameter("to")
    to = []
    for item in recipients:
        number = item.get("phoneNumber") if isinstance(item, dict) else None
        if not number:
            raise missing_parameter("to.phoneNumber")
        if not valid_phone(number) or len("".join(ch for ch in number if ch.isdigit())) < 10:
            raise invalid_parameter("to.phoneNumber", number,
                                    f"Parameter [to.phoneNumber] value [{number}] is not a "
                                    "valid phone number")
        to.append({"phoneNumber": number, "messageStatus": "Sent"})
    text = _text(body)
    record = _message(ctx, ext, kind="SMS", sender={"phoneNumber": ext.direct_number,
                                                    "name": ext.name},
                      recipients=to, text=text)
    record["smsSendingAttemptsCount"] = 1
    record["smsDeliveryTime"] = record["creationTime"]
    return JSONResponse(record)


@operation("POST", EXTENSION + "/company-pager")
async def pager_create(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "InternalMessages")
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    sender = body.get("from") or {}
    if sender.get("extensionNumber") and sender["extensionNumber"] != ext.number:
        raise invalid_parameter("from.extensionNumber", sender["extensionNumber"])
    recipients = body.get("to")
    if not isinstance(recipients, list) or not recipients:
        raise missing_parameter("to")
    to = []
    for item in recipients:
        if not isinstance(item, dict):
            raise invalid_parameter("to", item)
        target = None
        if item.get("extensionId"):
            target = ctx.state.extensions.get(str(item["extensionId"]))
        elif item.get("extensionNumber"):
            target = ctx.state.extension_by_number(str(item["extensionNumber"]))
        if target is None:
            value = item.get("extensionNumber") or item.get("extensionId")
            raise invalid_parameter("to.extensionNumber", value,
                                    f"Extension [{value}] is not found in the account")
        to.append({"extensionNumber": target.number, "extensionId": target.id,
                   "name": target.name})
    text = _text(body)
    record = _message(ctx, ext, kind="Pager", sender={"extensionNumber": ext.number,
                                                      "extensionId": ext.id, "name": ext.name},
                      recipients=to, text=text)
    record["pgToDepartment"] = False
    return JSONResponse(record)


ROUTES = [sms_create, pager_create]
