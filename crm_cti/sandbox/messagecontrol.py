"""The control API of the message store (JSON, no auth, under ``/sandbox/``): a person
texts an extension from any number; every store can be inspected."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_cti.sandbox import messagehistory, messagestore
from crm_cti.sandbox.api import sandbox_state
from crm_cti.sandbox.control import _error, _json
from crm_cti.sandbox.rest.ringout import valid_phone
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import SandboxState

MAX_TEXT = 1000


def _extension(state: SandboxState, raw: Any) -> Extension | None:
    return state.extension_by_number(str(raw)) or state.extensions.get(str(raw))


def _public(state: SandboxState, record: dict[str, Any]) -> dict[str, Any]:
    body = messagestore.message_render(record, state.base_url)
    body["ownerId"] = record["extensionId"]
    if "_call" in record:
        body["call"] = record["_call"]
    return body


async def sms_inbound(request: Request) -> Response:
    """``POST /sandbox/sms {"extension": "102", "from": "+16504445567", "text": "..."}``:
    an SMS from outside reaches the extension's direct number (``name`` and ``faults``
    optional: ``[{"type": "duplicate"}]`` delivers each of its events twice)."""
    state = sandbox_state(request)
    body = await _json(request)
    if not isinstance(body, dict):
        return _error(400, "expected {\"extension\": \"102\", \"from\": \"+16504445567\", "
                           "\"text\": \"Hello\"}")
    ext = _extension(state, body.get("extension"))
    if ext is None:
        return _error(400, f"unknown extension {body.get('extension')!r}")
    number = body.get("from") or "+16504445567"
    digits = messagestore.digits(str(number))
    if not isinstance(number, str) or not valid_phone(number) or len(digits) < 10:
        return _error(400, f"'from' must be a phone number, not {number!r}")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return _error(400, f"'text' must be 1 to {MAX_TEXT} characters")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        return _error(400, "'name' must be a string")
    faults = body.get("faults") or []
    if not isinstance(faults, list) or not all(
            isinstance(f, dict) and f.get("type") in messagestore.MESSAGE_FAULTS
            for f in faults):
        return _error(400, "'faults' is a list of {\"type\": \"drop\"|\"duplicate\"|\"slow\"}")
    record = messagestore.sms_receive(state, ext, from_number=number, text=text, name=name,
                                      faults=faults)
    return JSONResponse(_public(state, record), status_code=201)


async def message_store(request: Request) -> Response:
    """``GET /sandbox/message-store?extension=102``: every record of a store (or of all),
    whatever its availability, newest first, with the call a voicemail came from."""
    state = sandbox_state(request)
    raw = request.query_params.get("extension")
    if raw:
        ext = _extension(state, raw) or state.call_queue_by_number(str(raw))
        if ext is None:
            return _error(400, f"unknown extension {raw!r}")
        owners = [ext.id]
    else:
        owners = list(state.message_store)
    records = [r for owner in owners for r in messagestore.store_of(state, owner).values()]
    records.sort(key=lambda r: (-r["_ts"], -r["id"]))
    return JSONResponse([_public(state, r) for r in records])


async def history(request: Request) -> Response:
    """``POST /sandbox/message-store/history {"extension": "102", "messages": 20, "days": 7,
    "numbers": [...], "seed": 1}``: past SMS conversations and voicemails, no events."""
    state = sandbox_state(request)
    body = await _json(request)
    if not isinstance(body, dict):
        return _error(400, "expected {\"extension\": \"102\", \"messages\": 20}")
    ext = _extension(state, body.get("extension"))
    if ext is None:
        return _error(400, f"unknown extension {body.get('extension')!r}")
    try:
        count = int(body.get("messages", 20))
        days = float(body.get("days", 7))
    except (TypeError, ValueError):
        return _error(400, "'messages' and 'days' must be numbers")
    if not 0 < count <= 10000 or not 0 < days <= 3650:
        return _error(400, "'messages' must be 1..10000 and 'days' 0..3650")
    numbers = body.get("numbers")
    if numbers is not None and (not isinstance(numbers, list) or not numbers or not all(
            isinstance(n, str) and len(messagestore.digits(n)) >= 10 for n in numbers)):
        return _error(400, "'numbers' must be a non-empty list of phone numbers")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        return _error(400, "'seed' must be an integer")
    created = messagehistory.history_generate(state, ext, count=count, days=days,
                                              numbers=numbers, seed=seed)
    return JSONResponse({"created": len(created), "records": created}, status_code=201)


ROUTES = [
    Route("/sandbox/message-store/history", history, methods=["POST"]),
    Route("/sandbox/sms", sms_inbound, methods=["POST"]),
    Route("/sandbox/message-store", message_store, methods=["GET"]),
]
