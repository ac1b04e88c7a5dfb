"""What a person reads when RingCentral refused: one status and one message per kind of
``RingCentralError``, for every door (the JSON API, the dashboard's forms and recording
proxy, the sign-in pages).

It lives here, not in ``crm_cti/ringcentral/`` (which imports nothing of ours and shows no
UI): ``accounts`` is the lowest app with pages, holds the RingCentral client of each agent
(``accounts.services.client_for_agent``), and every app with views (dashboard, crm, ops)
already depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_cti.ringcentral.errors import (
    BadRequest,
    NeedsSignIn,
    NotFound,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
    RingCentralError,
    ServerError,
)

SESSION_ENDED = "Your RingCentral session has ended: sign in with RingCentral again."
NOT_ANSWERING = "RingCentral is not answering; try again."


@dataclass(frozen=True)
class Refusal:
    """``status``: the HTTP status a door answers with (a form shows ``message`` next to its
    fields instead); ``retry_after``: seconds for a ``Retry-After`` header, or None;
    ``sign_in``: the person must sign in with RingCentral again."""

    status: int
    message: str
    retry_after: int | None = None
    sign_in: bool = False


def refusal_for(exc: RingCentralError) -> Refusal:
    """The platform's own words where it gave some (a 4xx about the request), ours where it
    did not (it is down, busy, or the session is gone)."""
    if isinstance(exc, NeedsSignIn):
        return Refusal(status=401, message=SESSION_ENDED, sign_in=True)
    if isinstance(exc, RateLimited):
        # Rounded up: "try again in 0 s" would send the person straight back into the wait.
        wait = int(exc.retry_after) + 1
        return Refusal(
            status=429,
            message=f"RingCentral asks us to slow down; try again in {wait} s.",
            retry_after=wait,
        )
    if isinstance(exc, PlatformUnavailable | ServerError):
        return Refusal(status=502, message=NOT_ANSWERING)
    if isinstance(exc, PermissionDenied):
        return Refusal(status=403, message=f"RingCentral refused: {exc.message}")
    if isinstance(exc, BadRequest | NotFound):
        return Refusal(status=400, message=exc.message)
    return Refusal(status=502, message=f"RingCentral could not do it: {exc.message}")
