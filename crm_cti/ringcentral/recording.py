"""What a ``RingCentralClient`` is made with (a ``TokenSource``: ``StaticToken``, or the
accounts domain's refreshing source) and what it streams back (``RecordingContent``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

import requests

from crm_cti.ringcentral.errors import NeedsSignIn, PlatformUnavailable


class TokenSource(Protocol):
    """Where a client gets its access token; ``crm_cti.accounts`` implements the real ones."""

    @property
    def user_key(self) -> str:
        """Whose budget requests count against (stable per RingCentral user)."""
        ...

    def access_token(self) -> str:
        """A token valid now (the source refreshes it when it is about to expire)."""
        ...

    def after_unauthorized(self, rejected: str) -> str:
        """The platform said 401 to ``rejected``: return a newer token or raise NeedsSignIn."""
        ...


class StaticToken:
    """A token that cannot be refreshed: the sign-in callback reading the new agent's profile."""

    def __init__(self, access_token: str, *, user_key: str = "") -> None:
        self._token = access_token
        self._user_key = user_key

    @property
    def user_key(self) -> str:
        return self._user_key

    def access_token(self) -> str:
        return self._token

    def after_unauthorized(self, rejected: str) -> str:
        raise NeedsSignIn("the access token was refused", status=401)

    def __repr__(self) -> str:
        return f"StaticToken(user_key={self._user_key!r})"


class RecordingContent:
    """A streamed recording: ``with client.stream_recording_content(uri) as rec:``.

    ``content_type`` and ``content_length`` (int or None) come from the platform's headers,
    and for a ``Range`` request ``status`` 206 with ``content_range``; ``accept_ranges`` says
    whether the platform serves ranges. Iterating yields ``bytes`` chunks; closing releases
    the connection.
    """

    def __init__(self, response: requests.Response, *, chunk_size: int = 64 * 1024) -> None:
        self._response = response
        self.chunk_size = chunk_size
        self.status: int = response.status_code
        self.content_type: str = response.headers.get("Content-Type", "audio/mpeg")
        length = response.headers.get("Content-Length")
        self.content_length: int | None = int(length) if length and length.isdigit() else None
        self.content_range: str | None = response.headers.get("Content-Range")
        self.accept_ranges: str | None = response.headers.get("Accept-Ranges")

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._response.iter_content(chunk_size=self.chunk_size):
                if chunk:
                    yield chunk
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise PlatformUnavailable(f"recording stream broke: {type(exc).__name__}") from None
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> RecordingContent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The Range values a player sends (one range; "bytes=1000-", "bytes=0-99", "bytes=-500"):
# anything else is not passed on to RingCentral, and the whole file is served.
_RANGE = re.compile(r"^bytes=(\d+-\d*|-\d+)$")


def range_header(value: str | None) -> str | None:
    """A player's ``Range`` header as it may be passed on, or None."""
    value = (value or "").replace(" ", "")
    return value if _RANGE.match(value) else None
