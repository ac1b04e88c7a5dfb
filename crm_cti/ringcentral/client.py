"""``RingCentralClient``: typed methods for every RingCentral call the product makes.

Every method returns the platform's JSON as a ``dict`` (field names exactly as in
rc-public-openapi.yml, e.g. ``records``, ``navigation``, ``paging``) or raises a typed
error from ``crm_cti.ringcentral.errors``. What every request gets, in order:

1. the shared budget of its throttling group: if it says wait, ``RateLimited(sent=False)``
   is raised and nothing is sent (also during a 429 penalty);
2. a current access token from the ``TokenSource`` (refreshed before expiry by the source);
3. a timeout (``RC_TIMEOUT_SECONDS``);
4. on 401, one refresh through the source and one retry;
5. for idempotent requests (GET, PUT, DELETE, subscription renewal) only, retries with
   exponential backoff on 5xx and on connection errors/timeouts (``RC_MAX_RETRIES``);
   a POST that creates something is never repeated;
6. the ``X-Rate-Limit-*`` headers of the response fed back into the budget.

A client holds one HTTP session: use it from one thread at a time (create one per task or
request; ``client_for_agent`` is cheap).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_oauthlib import OAuth2Session

from crm_cti.ringcentral import allow_plain_http_to_loopback, plain_http_host
from crm_cti.ringcentral.budget import budget_observe, budget_take, operation_group
from crm_cti.ringcentral.errors import (
    PlatformUnavailable,
    RateLimited,
    ServerError,
)
from crm_cti.ringcentral.http import error_from_response
from crm_cti.ringcentral.messagestore import MessageStoreMethods

# What a client is made with and what it streams, in their own module (names kept here).
from crm_cti.ringcentral.recording import (  # noqa: F401
    RecordingContent,
    StaticToken,
    TokenSource,
)

logger = logging.getLogger(__name__)

API = "/restapi/v1.0"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# A retry that would hold the caller (a page, a task slot) longer than this is not made.
MAX_RETRY_DELAY_SECONDS = 8.0


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    return str(value)


def _listify(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class RingCentralClient(MessageStoreMethods):
    """The only way the product talks to RingCentral (see the module docstring)."""

    def __init__(
        self,
        token_source: TokenSource,
        *,
        server_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_seconds: float | None = None,
    ) -> None:
        self.token_source = token_source
        self.server_url = (server_url or settings.RC_SERVER_URL).rstrip("/")
        self.timeout = settings.RC_TIMEOUT_SECONDS if timeout is None else timeout
        self.max_retries = settings.RC_MAX_RETRIES if max_retries is None else max_retries
        self.backoff_seconds = (
            settings.RC_RETRY_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
        )
        allow_plain_http_to_loopback(self.server_url)
        self._session = OAuth2Session(settings.RC_CLIENT_ID)

    def __repr__(self) -> str:
        return f"RingCentralClient(user_key={self.user_key!r}, server={self.server_url!r})"

    @property
    def user_key(self) -> str:
        return self.token_source.user_key

    def close(self) -> None:
        self._session.close()

    # -- transport ---------------------------------------------------------------------

    def _absolute(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.server_url + path_or_url

    def _may_send_token_to(self, url: str) -> bool:
        """Only the platform (or its media host) ever sees our bearer token, and only over
        TLS unless it is the loopback sandbox."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        own = (urlsplit(self.server_url).hostname or "").lower()
        if parts.scheme != "https" and not plain_http_host(host):
            return False
        return host == own or host == "ringcentral.com" or host.endswith(".ringcentral.com")

    def _retry_delay(self, attempt: int, response: requests.Response | None) -> float | None:
        """Seconds to wait before retry ``attempt``, or None when waiting is not worth it
        (the platform asks for longer than a caller should be held: fail now, typed)."""
        delay = self.backoff_seconds * (2**attempt)
        if response is not None:
            retry_after = response.headers.get("Retry-After")
            if retry_after and retry_after.replace(".", "", 1).isdigit():
                delay = max(delay, float(retry_after))
        if delay > MAX_RETRY_DELAY_SECONDS:
            return None
        # Jitter, so that N workers that failed together do not retry together.
        return delay * (0.5 + random.random() / 2)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
        idempotent: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send one request with budget, token, timeout, refresh-on-401 and retries.

        Returns the successful ``requests.Response``; raises a typed error otherwise.
        """
        method = method.upper()
        url = self._absolute(path_or_url)
        if not self._may_send_token_to(url):
            raise PlatformUnavailable(f"refusing to send the token to {urlsplit(url).hostname}")
        group = operation_group(method, url)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        user_key = self.user_key
        attempt = 0
        refreshed = False
        while True:
            if user_key:
                wait = budget_take(user_key=user_key, group=group)
                if wait > 0:
                    raise RateLimited(
                        f"{group} budget exhausted for this user; retry in {wait:.1f}s",
                        retry_after=wait,
                        group=group,
                        sent=False,
                    )
            token = self.token_source.access_token()
            self._session.token = {"access_token": token, "token_type": "Bearer"}
            sent_at = time.time()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    timeout=self.timeout,
                    stream=stream,
                    # Streamed bodies are media (recordings), everything else JSON.
                    headers={"Accept": "*/*" if stream else "application/json", **(headers or {})},
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                delay = self._retry_delay(attempt, None)
                if idempotent and attempt < self.max_retries and delay is not None:
                    logger.warning(
                        "RingCentral %s %s: %s, retrying",
                        method,
                        urlsplit(url).path,
                        type(exc).__name__,
                    )
                    time.sleep(delay)
                    attempt += 1
                    continue
                raise PlatformUnavailable(
                    f"RingCentral unreachable ({type(exc).__name__}) for {method} "
                    f"{urlsplit(url).path}"
                ) from None
            if user_key:
                budget_observe(
                    user_key=user_key,
                    group=group,
                    status=response.status_code,
                    headers=response.headers,
                    sent_at=sent_at,
                )
            status = response.status_code
            if status < 400:
                return response
            if status == 401 and not refreshed:
                response.close()
                refreshed = True
                self.token_source.after_unauthorized(token)
                continue
            delay = self._retry_delay(attempt, response)
            if (
                status in RETRYABLE_STATUSES
                and idempotent
                and attempt < self.max_retries
                and delay is not None
            ):
                logger.warning(
                    "RingCentral %s %s: HTTP %s, retrying", method, urlsplit(url).path, status
                )
                response.close()
                time.sleep(delay)
                attempt += 1
                continue
            error = error_from_response(response, group=group)
            response.close()
            if isinstance(error, ServerError | RateLimited):
                logger.warning("RingCentral %s %s: %s", method, urlsplit(url).path, error)
            raise error

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ServerError(
                "RingCentral answered with a body that is not JSON", status=response.status_code
            ) from None

    @staticmethod
    def _scope(account_level: bool) -> str:
        return f"{API}/account/~" if account_level else f"{API}/account/~/extension/~"

    # -- account and extension ---------------------------------------------------------

    def get_extension(self, extension_id: str = "~") -> dict[str, Any]:
        """``GetExtensionInfoResponse``: id, extensionNumber, name, contact{email...},
        permissions{admin{enabled}}, roles[], status, type."""
        return self._json("GET", f"{API}/account/~/extension/{extension_id}")

    def get_account(self) -> dict[str, Any]:
        """``GetAccountInfoResponse``: id, mainNumber, status, serviceInfo..."""
        return self._json("GET", f"{API}/account/~")

    def list_phone_numbers(self, *, extension_id: str = "~") -> dict[str, Any]:
        """The extension's phone numbers: ``{"records": [UserPhoneNumberInfo...]}`` (all pages
        merged; each record has phoneNumber, usageType, features[], type)."""
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self._json(
                "GET",
                f"{API}/account/~/extension/{extension_id}/phone-number",
                params={"page": page, "perPage": 100},
            )
            records.extend(data.get("records", []))
            if not (data.get("navigation") or {}).get("nextPage"):
                data["records"] = records
                return data
            page += 1

    # -- calls ------------------------------------------------------------------------

    def list_active_calls(
        self, *, account_level: bool = False, view: str = "Simple", page: int = 1,
        per_page: int = 100,
    ) -> dict[str, Any]:
        """Active calls (live and ended within ~2 minutes) of the extension or, with
        ``account_level=True`` (admin: ReadCompanyCallLog), of every extension:
        ``{"records": [CallLogRecord...], "paging", "navigation"}``."""
        return self._json(
            "GET",
            f"{self._scope(account_level)}/active-calls",
            params={"view": view, "page": page, "perPage": per_page},
        )

    @staticmethod
    def _call_log_params(
        *,
        date_from: Any = None,
        date_to: Any = None,
        type: str | list[str] | None = None,
        direction: str | list[str] | None = None,
        phone_number: str | None = None,
        session_id: str | None = None,
        with_recording: bool | None = None,
        view: str = "Simple",
        page: int = 1,
        per_page: int = 100,
    ) -> dict[str, Any]:
        return {
            "dateFrom": _iso(date_from),
            "dateTo": _iso(date_to),
            "type": _listify(type),
            "direction": _listify(direction),
            "phoneNumber": phone_number,
            "sessionId": session_id,
            "withRecording": _bool(with_recording),
            "view": view,
            "page": page,
            "perPage": per_page,
        }

    def list_call_log(
        self,
        *,
        account_level: bool = False,
        date_from: Any = None,
        date_to: Any = None,
        type: str | list[str] | None = None,
        direction: str | list[str] | None = None,
        phone_number: str | None = None,
        session_id: str | None = None,
        with_recording: bool | None = None,
        view: str = "Simple",
        page: int = 1,
        per_page: int = 100,
    ) -> dict[str, Any]:
        """One page of the call log: ``{"records": [...], "paging": {...}, "navigation":
        {...}}``. Dates may be ``datetime`` or ISO strings; ``type``/``direction`` a value or
        a list (``Voice``/``Fax``, ``Inbound``/``Outbound``)."""
        return self._json(
            "GET",
            f"{self._scope(account_level)}/call-log",
            params=self._call_log_params(
                date_from=date_from,
                date_to=date_to,
                type=type,
                direction=direction,
                phone_number=phone_number,
                session_id=session_id,
                with_recording=with_recording,
                view=view,
                page=page,
                per_page=per_page,
            ),
        )

    def iter_call_log(self, *, account_level: bool = False, **filters: Any) -> Iterator[dict]:
        """Every record matching ``filters`` (those of ``list_call_log``), page after page,
        following ``navigation.nextPage``. Each page is one Heavy request: a
        ``RateLimited`` may interrupt the iteration between pages."""
        data = self.list_call_log(account_level=account_level, **filters)
        while True:
            yield from data.get("records", [])
            next_uri = ((data.get("navigation") or {}).get("nextPage") or {}).get("uri")
            if not next_uri or not data.get("records"):
                return
            next_url = self._absolute(next_uri)
            if urlsplit(next_url).hostname != urlsplit(self.server_url).hostname:
                # Never follow a link off the platform with our token; ask for the page.
                page = int((data.get("paging") or {}).get("page") or 1) + 1
                data = self.list_call_log(
                    account_level=account_level, **{**filters, "page": page}
                )
            else:
                data = self._json("GET", next_url)

    def get_call_log_record(self, record_id: str, *, account_level: bool = False) -> dict:
        """One ``CallLogRecord`` by id (Detailed view, with ``legs``)."""
        return self._json(
            "GET", f"{self._scope(account_level)}/call-log/{record_id}", params={"view": "Detailed"}
        )

    # -- recordings --------------------------------------------------------------------

    def get_recording(self, recording_id: str) -> dict[str, Any]:
        """``GetCallRecordingResponse``: id, contentUri, contentType, duration."""
        return self._json("GET", f"{API}/account/~/recording/{recording_id}")

    def stream_recording_content(
        self, content_uri: str, *, byte_range: str | None = None
    ) -> RecordingContent:
        """Open the audio at ``content_uri`` (absolute, possibly on the media host) for
        streaming; use as a context manager and iterate for ``bytes``. ``byte_range`` is a
        ``Range`` header value (``bytes=1000-``), for a player that seeks."""
        headers = {"Range": byte_range} if byte_range else None
        response = self.request("GET", content_uri, stream=True, headers=headers)
        return RecordingContent(response)

    # -- RingOut -----------------------------------------------------------------------

    def create_ringout(
        self,
        *,
        from_number: str,
        to_number: str,
        caller_id: str | None = None,
        play_prompt: bool = False,
    ) -> dict[str, Any]:
        """Start a RingOut (``GetRingOutStatusResponse``: id, status{callStatus,
        callerStatus, calleeStatus}). Never retried: a repeat would ring twice."""
        body: dict[str, Any] = {
            "from": {"phoneNumber": from_number},
            "to": {"phoneNumber": to_number},
            "playPrompt": play_prompt,
        }
        if caller_id:
            body["callerId"] = {"phoneNumber": caller_id}
        return self._json("POST", f"{API}/account/~/extension/~/ring-out", json=body)

    def get_ringout(self, ringout_id: str) -> dict[str, Any]:
        """The RingOut's current status (Light; poll every few seconds at most)."""
        return self._json("GET", f"{API}/account/~/extension/~/ring-out/{ringout_id}")

    def cancel_ringout(self, ringout_id: str) -> None:
        """Cancel a RingOut while the callee is still ringing (``NotFound`` once it ended)."""
        self._json("DELETE", f"{API}/account/~/extension/~/ring-out/{ringout_id}")

    # -- devices and Call Control ---------------------------------------------------------

    def list_devices(self, *, extension_id: str = "~") -> dict[str, Any]:
        """The extension's devices (``GetExtensionDevicesResponse``: records[] with id, type
        HardPhone/SoftPhone/..., name, status) — what ``answer``, ``pickup`` and
        ``call_out`` take as ``deviceId``."""
        return self._json("GET", f"{API}/account/~/extension/{extension_id}/device")

    @staticmethod
    def _call_session_path(telephony_session_id: str) -> str:
        return f"{API}/account/~/telephony/sessions/{telephony_session_id}"

    def get_call_session(self, telephony_session_id: str) -> dict[str, Any]:
        """``CallSessionObject``: id, origin{type}, parties[] (id, extensionId, direction,
        status{code, reason, peerId}, from, to, park, recordings)."""
        return self._json("GET", self._call_session_path(telephony_session_id))

    def end_call_session(self, telephony_session_id: str) -> None:
        """Hang up the whole call."""
        self._json("DELETE", self._call_session_path(telephony_session_id))

    def call_party_action(
        self, telephony_session_id: str, party_id: str, action: str,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One Call Control operation on a party (``hold``, ``unhold``, ``answer``,
        ``pickup``, ``reject``, ``ignore``, ``transfer``, ``forward``, ``reply``, ``park``,
        ``bridge``, ``recordings``) with its request body; the party (``CallParty``) or the
        recording as the platform returns it, ``{}`` for a 204. Never retried: a repeated
        transfer or answer would act twice."""
        path = f"{self._call_session_path(telephony_session_id)}/parties/{party_id}/{action}"
        return self._json("POST", path, json=body if body is not None else {},
                          idempotent=False)

    def drop_call_party(self, telephony_session_id: str, party_id: str) -> None:
        """The party leaves the call (its user hangs up)."""
        self._json("DELETE", f"{self._call_session_path(telephony_session_id)}/parties/{party_id}")

    def set_call_recording(
        self, telephony_session_id: str, party_id: str, recording_id: str, *, active: bool,
    ) -> dict[str, Any]:
        """Pause (``active=False``) or resume an on-demand recording (``CallRecording``)."""
        path = (f"{self._call_session_path(telephony_session_id)}/parties/{party_id}"
                f"/recordings/{recording_id}")
        return self._json("PATCH", path, json={"active": active}, idempotent=False)

    def call_out(
        self, *, device_id: str, to_number: str | None = None,
        to_extension_number: str | None = None,
    ) -> dict[str, Any]:
        """Call from one of the agent's devices (``CallSession``: session{id, parties[]}).
        Exactly one of ``to_number`` and ``to_extension_number``. Never retried."""
        if (to_number is None) == (to_extension_number is None):
            raise ValueError("call_out needs exactly one of to_number, to_extension_number")
        target = ({"phoneNumber": to_number} if to_number is not None
                  else {"extensionNumber": to_extension_number})
        return self._json("POST", f"{API}/account/~/telephony/call-out",
                          json={"from": {"deviceId": device_id}, "to": target},
                          idempotent=False)

    # -- messages ----------------------------------------------------------------------

    def send_sms(
        self, *, from_number: str, to_numbers: list[str] | str, text: str
    ) -> dict[str, Any]:
        """Send an SMS from one of the agent's SmsSender numbers (``GetSMSMessageInfoResponse``)."""
        return self._json(
            "POST",
            f"{API}/account/~/extension/~/sms",
            json={
                "from": {"phoneNumber": from_number},
                "to": [{"phoneNumber": n} for n in _listify(to_numbers) or []],
                "text": text,
            },
        )

    def send_pager(
        self,
        *,
        from_extension_number: str,
        to_extension_numbers: list[str] | str,
        text: str,
    ) -> dict[str, Any]:
        """Send a company pager message to extensions (``GetInternalTextMessageInfoResponse``)."""
        return self._json(
            "POST",
            f"{API}/account/~/extension/~/company-pager",
            json={
                "from": {"extensionNumber": from_extension_number},
                "to": [{"extensionNumber": n} for n in _listify(to_extension_numbers) or []],
                "text": text,
            },
        )

    # -- subscriptions -----------------------------------------------------------------

    def create_subscription(
        self,
        *,
        event_filters: list[str],
        address: str,
        verification_token: str,
        expires_in: int,
    ) -> dict[str, Any]:
        """Create a WebHook subscription (``SubscriptionInfo``: id, status, expirationTime,
        eventFilters, deliveryMode). The platform validates ``address`` during this call."""
        return self._json(
            "POST",
            f"{API}/subscription",
            json={
                "eventFilters": list(event_filters),
                "deliveryMode": {
                    "transportType": "WebHook",
                    "address": address,
                    "verificationToken": verification_token,
                },
                "expiresIn": int(expires_in),
            },
        )

    def get_subscription(self, id: str) -> dict[str, Any]:
        """One ``SubscriptionInfo``."""
        return self._json("GET", f"{API}/subscription/{id}")

    def list_subscriptions(self) -> dict[str, Any]:
        """``{"records": [SubscriptionInfo...]}`` of this app and user."""
        return self._json("GET", f"{API}/subscription")

    def renew_subscription(self, id: str) -> dict[str, Any]:
        """Extend the subscription by its ``expiresIn``; repeating it is harmless, so it is
        retried like an idempotent request."""
        return self._json("POST", f"{API}/subscription/{id}/renew", idempotent=True)

    def update_subscription(
        self,
        id: str,
        *,
        event_filters: list[str] | None = None,
        expires_in: int | None = None,
    ) -> dict[str, Any]:
        """Change the filters and/or lifetime. The platform requires ``eventFilters`` in an
        update, so without ``event_filters`` the current ones are read first."""
        if event_filters is None:
            event_filters = list(self.get_subscription(id).get("eventFilters", []))
        body: dict[str, Any] = {"eventFilters": list(event_filters)}
        if expires_in is not None:
            body["expiresIn"] = int(expires_in)
        return self._json("PUT", f"{API}/subscription/{id}", json=body)

    def delete_subscription(self, id: str) -> None:
        """Delete the subscription (``NotFound`` when it is already gone)."""
        self._json("DELETE", f"{API}/subscription/{id}")
