"""Typed errors for everything that can go wrong talking to RingCentral.

Callers branch on the class, never on status codes or message text: a task that gets
``RateLimited`` reschedules itself after ``retry_after`` seconds, one that gets
``NeedsSignIn`` stops working for that agent until they sign in again, and a view shows
``BadRequest.message`` (the platform's own words) next to the form that caused it.
"""

from __future__ import annotations

from typing import Any


class RingCentralError(Exception):
    """Base class: ``status`` (HTTP status or None), ``error_code`` and ``message``."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        error_code: str = "",
        body: Any = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message or self.__class__.__name__
        self.body = body
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.error_code:
            parts.append(f"[{self.error_code}]")
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        return " ".join(parts)


class NeedsSignIn(RingCentralError):
    """No usable token: the agent must sign in with RingCentral again."""


class PermissionDenied(RingCentralError):
    """403: the user or the app lacks a permission (``permission_name`` when the platform says)."""

    def __init__(self, message: str = "", *, permission_name: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.permission_name = permission_name


class NotFound(RingCentralError):
    """404 (or 410 Gone): the resource does not exist, or no longer does."""


class RateLimited(RingCentralError):
    """429, or the shared budget says a request of ``group`` must not be sent yet.

    ``retry_after`` is in seconds (float); ``sent`` says whether RingCentral actually
    answered 429 (True) or the budget refused locally before anything was sent (False).
    """

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float,
        group: str,
        sent: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(message or f"rate limit of the {group} group", **kwargs)
        self.retry_after = float(retry_after)
        self.group = group
        self.sent = sent


class ServerError(RingCentralError):
    """5xx from RingCentral after the retries an idempotent request is allowed."""


class BadRequest(RingCentralError):
    """4xx other than the above; ``message`` is the platform's own message."""


class PlatformUnavailable(RingCentralError):
    """Connection refused, DNS failure or timeout, after retries: RingCentral is unreachable."""
