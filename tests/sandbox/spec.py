"""Validating sandbox responses against RingCentral's OpenAPI spec (never copied here)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import httpx
import jsonschema
import pytest

from crm_cti.sandbox import schema
from tests.support.services import in_ci

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return "T" in value


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = urlparse(value)
    # ws/wss: the WebSocket gateway's address (WsTokenResponse.uri).
    return bool(parsed.scheme in ("http", "https", "ws", "wss") and parsed.netloc)


def load_or_skip() -> dict[str, Any]:
    spec = schema.load_spec(str(schema.spec_path()))
    if spec is None:
        message = (f"RingCentral OpenAPI spec not found at {schema.spec_path()} "
                   "(set RC_OPENAPI_SPEC)")
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return spec


@functools.cache
def _validator(method: str, template: str, status: int, content_type: str):
    spec = load_or_skip()
    found = schema.response_schema(spec, method, template, status, content_type)
    if found is None:
        return None
    return jsonschema.Draft7Validator(found, format_checker=FORMATS)


def conforms(response: httpx.Response, method: str, template: str) -> dict[str, Any]:
    """Assert the response body validates against the spec's schema for its status."""
    return body_conforms(response.json(), method, template, response.status_code)


def body_conforms(body: Any, method: str, template: str, status: int) -> Any:
    """The same for a body that came another way (a ClientRequest answer on the gateway)."""
    validator = _validator(method, template, status, "application/json")
    assert validator is not None, (
        f"the spec has no JSON schema for {method} {template} -> {status}")
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:10])
    return body
