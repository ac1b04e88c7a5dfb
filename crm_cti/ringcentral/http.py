"""Turning RingCentral's error responses into typed errors."""

from __future__ import annotations

from typing import Any

import requests

from crm_cti.ringcentral.budget import retry_after_seconds
from crm_cti.ringcentral.errors import (
    BadRequest,
    NeedsSignIn,
    NotFound,
    PermissionDenied,
    RateLimited,
    RingCentralError,
    ServerError,
)


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_details(body: Any) -> tuple[str, str, str]:
    """(error_code, message, permission_name) from a REST or OAuth error body."""
    if not isinstance(body, dict):
        return "", "", ""
    first: dict[str, Any] = {}
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
    code = str(body.get("errorCode") or body.get("error") or first.get("errorCode") or "")
    message = str(
        body.get("message")
        or body.get("error_description")
        or first.get("message")
        or body.get("description")
        or ""
    )
    permission = str(first.get("permissionName") or body.get("permissionName") or "")
    return code, message, permission


def error_from_response(response: requests.Response, *, group: str) -> RingCentralError:
    """The typed error for a 4xx/5xx ``response`` (the caller raises it)."""
    status = response.status_code
    body = _body(response)
    code, message, permission = error_details(body)
    message = message or f"HTTP {status} {response.reason or ''}".strip()
    kwargs: dict[str, Any] = {"status": status, "error_code": code, "body": body}
    if status == 429:
        return RateLimited(
            message, retry_after=retry_after_seconds(response.headers), group=group, **kwargs
        )
    if status == 401:
        return NeedsSignIn(message, **kwargs)
    if status == 403:
        return PermissionDenied(message, permission_name=permission, **kwargs)
    if status in (404, 410):
        return NotFound(message, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return BadRequest(message, **kwargs)
