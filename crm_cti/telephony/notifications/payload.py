"""A delivery's body as PostgreSQL will keep it: JSON, cleaned. Pure: no ORM.

The webhook stores the cleaned payload, so the worker re-parses exactly what the door
parsed (``event_parse`` on the stored row).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from crm_cti.telephony.notifications.shape import InvalidEvent

# A notification is four levels deep; anything much deeper is not one (and deep nesting
# is what overflows the stack of json.loads and json.dumps).
MAX_JSON_DEPTH = 32
# Lone UTF-16 surrogates (a JSON "\ud800" escape): not encodable in UTF-8, refused by
# PostgreSQL.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def _clean(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # 1e400: PostgreSQL's JSON has no infinity
    if depth >= MAX_JSON_DEPTH:
        if isinstance(value, (dict, list)):
            raise InvalidEvent(f"nested deeper than {MAX_JSON_DEPTH} levels")
        return value
    if isinstance(value, dict):
        return {_clean_text(key): _clean(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    return value


def payload_load(body: bytes) -> dict[str, Any]:
    """The notification in ``body`` as PostgreSQL will take it; raise InvalidEvent.

    NUL characters are dropped and lone surrogates become U+FFFD in every key and string,
    so a caller name with either is still kept (PostgreSQL refuses both, and the platform
    would redeliver the event for ever); NaN and infinities become null."""
    try:
        # orjson (several times faster) reads every plain notification; whatever it refuses
        # (NaN, lone surrogates, huge integers, a BOM, bad UTF-8) json reads as before.
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    try:
        if payload is None:
            payload = json.loads(body.decode("utf-8-sig"), parse_constant=lambda _name: None)
    except RecursionError:
        raise InvalidEvent(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # bad UTF-8, bad JSON, an integer of more than 4300 digits
        raise InvalidEvent("malformed JSON") from None
    if not isinstance(payload, dict):
        raise InvalidEvent("not a JSON object")
    return _clean(payload, 0)
