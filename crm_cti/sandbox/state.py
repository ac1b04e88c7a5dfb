"""In-memory state of one sandbox run. ``POST /sandbox/reset`` replaces it with a fresh one."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import string
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crm_cti.sandbox import config
from crm_cti.sandbox.seed import Extension, seed_call_queues, seed_extensions, seed_other_account

_ALPHABET = string.ascii_letters + string.digits


def now() -> float:
    return time.time()


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds, the platform's timestamp format."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


def random_token(prefix: str, length: int = 64) -> str:
    """An opaque RingCentral-like token string."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def record_id() -> str:
    """A call-log record id like the platform's (``IXtVRs-3B7A_PfE``)."""
    alphabet = _ALPHABET + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(15))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class TokenRecord:
    access: str
    refresh: str
    owner_id: str
    client_id: str
    grant: str
    scope: str
    created: float
    access_expires_at: float
    refresh_expires_at: float
    endpoint_id: str
    session_id: str
    # active | revoked | rotated
    status: str = "active"

    def access_status(self, at: float) -> str:
        if self.status != "active":
            return self.status
        return "expired" if at >= self.access_expires_at else "active"

    def public(self, at: float) -> dict[str, Any]:
        return {
            "owner_id": self.owner_id,
            "access_sha256": sha256(self.access),
            "refresh_sha256": sha256(self.refresh),
            "status": self.access_status(at),
            "grant": self.grant,
            "client_id": self.client_id,
            "created": iso(self.created),
            "access_expires_at": iso(self.access_expires_at),
            "refresh_expires_at": iso(self.refresh_expires_at),
        }


@dataclass
class AuthCode:
    code: str
    owner_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class Subscription:
    id: str
    owner_id: str
    client_id: str
    event_filters: list[str]
    address: str
    verification_token: str | None
    expires_in: int
    created: float
    expires_at: float
    status: str = "Active"
    blacklisted_data: dict[str, Any] | None = None
    consecutive_failures: int = 0
    # "WebHook" (delivered to ``address``) or "WebSocket" (to the gateway session ``ws_session``).
    transport: str = "WebHook"
    ws_session: str | None = None

    def expired(self, at: float) -> bool:
        return at >= self.expires_at


@dataclass
class Leg:
    """One extension's view of a call (its entry in that extension's ``activeCalls``)."""

    extension: Extension
    direction: str
    from_number: str
    from_name: str | None
    to_number: str
    to_name: str | None
    call_id: str = field(default_factory=lambda: secrets.token_hex(16))
    party_id: str = field(default_factory=lambda: f"p-{secrets.token_hex(12)}-1")
    record_id: str = field(default_factory=record_id)
    status: str = "NoCall"
    termination: str | None = None
    ringing_at: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    # Call-log vocabulary, fixed when the leg ends.
    action: str = "Phone Call"
    result: str = "In Progress"
    leg_type: str = "Accept"
    # Whether this leg is in the extension's current presence (removed after its NoCall).
    listed: bool = False
    # Its telephony-session party (crm_cti.sandbox.sessions): a code call control sets
    # (Gone, Parked, VoiceMail) wins over the one derived from ``status``.
    party_code: str | None = None
    party_reason: str | None = None
    peer: dict[str, str] | None = None
    park_id: str | None = None
    queue_call: bool = False
    device_id: str | None = None
    # Setup was announced (a party's first event), and its last sent (code, reason).
    party_setup: bool = False
    # The call went to this extension's voicemail (rejected, transferred or forwarded there).
    to_voicemail: bool = False
    party_sent: tuple[str, str | None] | None = None
    # The voicemail the caller left on this leg (its message-store id; the call log links it).
    voicemail_id: int | None = None


@dataclass
class Call:
    session_id: str
    telephony_session_id: str
    scenario: str
    start: float
    legs: list[Leg]
    faults: list[dict[str, Any]] = field(default_factory=list)
    ended_at: float | None = None
    # Nominal (unscaled) seconds of talk, counted from real time times the speed.
    talk_seconds: float = 0.0
    recording_id: str | None = None
    record: bool = True
    ringout_id: str | None = None
    # False: NoCall events carry no terminationType (the platform deprecated "intermediate";
    # a product must not rely on the markers).
    termination_markers: bool = True
    task: asyncio.Task | None = field(default=None, repr=False)
    # Per (extension id) index of events this call has produced (faults address them).
    event_counts: Counter = field(default_factory=Counter)
    held_events: dict[str, list] = field(default_factory=dict)
    # Telephony session: ``origin.type``, the per-session ``sequence``, on-demand recordings.
    origin: str = "Call"
    session_sequence: int = 0
    recordings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass
class RingOut:
    id: str
    owner_id: str
    session_id: str
    from_number: str
    to_number: str
    caller_id: str | None
    outcome: str
    call_status: str = "InProgress"
    caller_status: str = "InProgress"
    callee_status: str = "InProgress"
    cancelled: bool = False


def _stats() -> dict[str, Any]:
    return {
        "requests": Counter(),
        "throttled": Counter(),
        "by_operation": Counter(),
        "token_grants": Counter(
            {"authorization_code": 0, "refresh_token": 0, "jwt": 0, "password": 0}
        ),
        "refresh_failures": 0,
        "revocations": 0,
        "deliveries": Counter(),
        # WebSocket gateway connections accepted, by the owner's extension id.
        "ws_connections": Counter(),
    }


class SandboxState:
    """Everything one sandbox run knows. Single-threaded (one asyncio loop): no locks."""

    def __init__(self, cfg: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = cfg or config.default_config()
        self.started = now()
        self.account_id = config.ACCOUNT_ID
        self.main_number = config.MAIN_NUMBER
        self.extensions: dict[str, Extension] = seed_extensions()
        # Call queues (Department extensions): their message store holds queue voicemail.
        self.call_queues: dict[str, Extension] = seed_call_queues()
        # Users of another account on the same platform: they can sign in and read their own
        # extension, and appear in nothing of this account (seed.OTHER_ACCOUNT_ID).
        self.other_account: dict[str, Extension] = seed_other_account()
        self.tokens: list[TokenRecord] = []
        self.by_access: dict[str, TokenRecord] = {}
        self.by_refresh: dict[str, TokenRecord] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.calls: dict[str, Call] = {}
        # extension id -> {leg call id: (call, leg)} of the calls in its presence now.
        self.listed: dict[str, dict[str, tuple[Call, Leg]]] = {}
        self.call_log: list[dict[str, Any]] = []
        self.call_log_by_id: dict[str, dict[str, Any]] = {}
        self.recordings: dict[str, dict[str, Any]] = {}
        self.ringouts: dict[str, RingOut] = {}
        # Every SMS and pager message sent through the API (``GET /sandbox/messages``).
        self.messages: list[dict[str, Any]] = []
        # The message store (messagestore.py): extension id -> {message id: stored record};
        # conversation ids by (owner, other parties); a change counter for message-sync.
        self.message_store: dict[str, dict[int, dict[str, Any]]] = {}
        self.conversations: dict[tuple[str, tuple[str, ...]], int] = {}
        self.message_changes = 0
        # The address the sandbox is reached at (learnt from requests), for URIs in events.
        self.base_url = f"http://127.0.0.1:{config.DEFAULT_PORT}"
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=20000)
        self.stats = _stats()
        # Rate limiting: (owner, client, group) -> deque of request times; penalties.
        self.rate_hits: dict[tuple[str, str, str], deque[float]] = {}
        self.rate_penalty: dict[tuple[str, str, str], float] = {}
        self.tasks: set[asyncio.Task] = set()
        self.queues: dict[str, asyncio.Queue] = {}
        self.workers: dict[str, asyncio.Task] = {}
        # The WebSocket gateway (wssession.py): unused single-use tokens, sessions by wsc token.
        self.ws_tokens: dict[str, Any] = {}
        self.ws_sessions: dict[str, Any] = {}
        self._session_counter = 0
        self._message_counter = 0

    # -- lookups ---------------------------------------------------------------------
    def extension_by_number(self, number: str) -> Extension | None:
        for ext in self.extensions.values():
            if number == ext.number:
                return ext
        return None

    def call_queue_by_number(self, number: str) -> Extension | None:
        """A call queue by extension number or id."""
        for queue in self.call_queues.values():
            if number in (queue.number, queue.id):
                return queue
        return None

    def extension_by_login(self, username: str) -> Extension | None:
        """Sign-in name: extension number, direct number (with or without +1) or email."""
        raw = username.strip()
        digits = "".join(ch for ch in raw if ch.isdigit())
        for ext in self.extensions.values():
            if raw == ext.number or raw.lower() == ext.email:
                return ext
            if digits and digits in {ext.direct_number.lstrip("+"), ext.direct_number[2:]}:
                return ext
        return None

    def extension_by_phone(self, number: str) -> Extension | None:
        digits = "".join(ch for ch in number if ch.isdigit())
        for ext in self.extensions.values():
            if digits and digits in {ext.direct_number.lstrip("+"), ext.direct_number[2:]}:
                return ext
        return None

    # -- ids -------------------------------------------------------------------------
    def next_session_id(self) -> str:
        self._session_counter += 1
        return str(int(self.started) % 1000000 * 10000 + self._session_counter)

    def next_message_id(self) -> int:
        self._message_counter += 1
        return int(self.started) % 1000000 * 100000 + self._message_counter

    # -- background work ---------------------------------------------------------------
    def delivery_stop(self, sub_id: str) -> None:
        """Forget a deleted subscription's queue and stop its worker (delivery.py's)."""
        self.queues.pop(sub_id, None)
        worker = self.workers.pop(sub_id, None)
        if worker is not None:
            worker.cancel()

    def spawn(self, coro: Any) -> asyncio.Task:
        """Run ``coro`` in the background; reset cancels whatever is still running."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def shutdown(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()

    def scaled(self, seconds: float) -> float:
        return max(0.0, float(seconds)) / float(self.config["speed"])
