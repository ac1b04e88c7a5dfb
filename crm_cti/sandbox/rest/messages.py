"""SMS and company pager messages (message-store records)."""

from __future__ import annotations

import email.policy
import json
from email.parser import BytesParser
from typing import Any

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox import messagestore
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import (
    ApiError,
    invalid_parameter,
    missing_parameter,
    permission_required,
)
from crm_cti.sandbox.rest.common import EXTENSION, extension_target
from crm_cti.sandbox.rest.ringout import valid_phone
from crm_cti.sandbox.seed import Extension

MAX_TEXT = 1000
# The spec (createSMSMessage): "up to 10 attachments in a single MMS message; the size of all
# attachments linked is limited up to 1500000 bytes".
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 1_500_000
MULTIPART = ("multipart/form-data", "multipart/mixed")


def _unparsable(what: str) -> ApiError:
    return ApiError(400, "CMN-103", f"{what} can't be parsed", top_code="InvalidParameter")


async def _sms_request(ctx: Ctx) -> tuple[Any, list[dict[str, Any]]]:
    """The request's JSON and its files. The spec takes an SMS as JSON, multipart/form-data
    or multipart/mixed: the official SDK's MMS path (``MultipartBuilder``) sends the JSON as
    a part named ``json`` (``request.json``, ``application/json``) and each file as a part of
    its own (named ``attachment``)."""
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.lower().startswith(MULTIPART):
        return await ctx.json(), []
    raw = await ctx.request.body()
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise _unparsable("Multipart body")
    body: Any = None
    files: list[dict[str, Any]] = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # a nested multipart: not a file
            raise _unparsable("Multipart body")
        name = part.get_param("name", header="content-disposition")
        if body is None and (name == "json" or part.get_content_type() == "application/json"):
            try:
                body = json.loads(payload)
            except (ValueError, RecursionError):
                raise _unparsable("JSON") from None
        else:
            files.append({"contentType": part.get_content_type(),
                          "fileName": str(part.get_filename() or ""), "size": len(payload),
                          "content": payload})
    if body is None:
        raise ApiError(400, "CMN-100", "Mandatory parameter [json] not specified: the "
                       "multipart body has no application/json part",
                       top_code="InvalidParameter", parameterName="json")
    if len(files) > MAX_ATTACHMENTS:
        raise invalid_parameter("attachments", len(files),
                                f"At most {MAX_ATTACHMENTS} attachments per message")
    total = sum(f["size"] for f in files)
    if total > MAX_ATTACHMENT_BYTES:
        raise invalid_parameter("attachments", total,
                                f"Attachments may total at most {MAX_ATTACHMENT_BYTES} bytes")
    return body, files


def allowed(ctx: Ctx, permission: str) -> None:
    """The app must hold ``permission`` (the token's scope), as the platform checks."""
    assert ctx.token is not None
    if permission not in ctx.token.scope.split():
        raise permission_required(permission)


def _logged(ctx: Ctx, ext: Extension, record: dict[str, Any], text: str) -> dict[str, Any]:
    """The sent message as the API answers it, noted in ``GET /sandbox/messages``."""
    body = messagestore.message_render(record, ctx.base)
    ctx.state.messages.append({**body, "ownerId": ext.id, "text": text})
    return body


def _text(body: dict[str, Any], *, required: bool = True) -> str:
    text = body.get("text")
    if not required and text is None:
        return ""
    if not isinstance(text, str) or (required and not text.strip()):
        raise missing_parameter("text")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "CMN-409", f"The parameter [text] cannot be longer than {MAX_TEXT}",
                       top_code="InvalidParameter", parameterName="text")
    return text


@operation("POST", EXTENSION + "/sms")
async def sms_create(ctx: Ctx) -> Response:
    allowed(ctx, "SMS")
    ext = extension_target(ctx, "SMS")
    body, files = await _sms_request(ctx)
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
        to.append(number)
    # With attachments (an MMS) the text may be left out.
    text = _text(body, required=not files)
    record = messagestore.sms_send(ctx.state, ext, to_numbers=to, text=text, files=files)
    return JSONResponse(_logged(ctx, ext, record, text))


@operation("POST", EXTENSION + "/company-pager")
async def pager_create(ctx: Ctx) -> Response:
    allowed(ctx, "InternalMessages")
    ext = extension_target(ctx, "InternalMessages")
    body = await ctx.json()
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    sender = body.get("from")
    if sender is None:
        sender = {}
    if not isinstance(sender, dict):
        raise invalid_parameter("from", sender, "Parameter [from] must be an object")
    if sender.get("extensionNumber") and str(sender["extensionNumber"]) != ext.number:
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
        to.append(target)
    text = _text(body)
    record = messagestore.pager_send(ctx.state, ext, to=to, text=text)
    return JSONResponse(_logged(ctx, ext, record, text))


ROUTES = [sms_create, pager_create]
