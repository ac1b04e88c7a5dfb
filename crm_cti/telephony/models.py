"""Calls, the raw telephony events they are built from, and webhook subscriptions."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.db.models import Q


def verification_token_hash(token: str) -> str:
    """The indexed lookup key of a verification token (the token itself is compared in
    constant time after the row is found, so the hash only has to be a good index)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Subscription(models.Model):
    """A RingCentral webhook subscription we created, per extension or for the account."""

    class Mode(models.TextChoices):
        EXTENSION = "extension", "Per extension"
        ACCOUNT = "account", "Account"

    # Empty while the creation request is in flight: the platform can deliver before we
    # learn the id, and the webhook view adopts such a delivery by its verification token.
    rc_id = models.CharField(max_length=64, blank=True, db_index=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.EXTENSION)
    # Null in account mode (the service credential owns it).
    agent = models.ForeignKey(
        "accounts.Agent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    verification_token = models.CharField(max_length=128)
    # sha256 of verification_token (set on save): the webhook finds a delivery's
    # subscription by its token before it parses the body.
    verification_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    event_filters = models.JSONField(default=list, blank=True)
    address = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=32, blank=True)  # Active, Blacklisted, ...
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One live subscription per agent, and one for the account.
            models.UniqueConstraint(
                fields=["agent"],
                condition=Q(agent__isnull=False),
                name="subscription_one_per_agent",
            ),
            models.UniqueConstraint(
                fields=["mode"], condition=Q(mode="account"), name="subscription_one_account"
            ),
        ]

    def __str__(self) -> str:
        owner = self.agent or "account"
        return f"{self.rc_id or '(creating)'} for {owner} [{self.status or 'new'}]"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.verification_token_hash = (
            verification_token_hash(self.verification_token) if self.verification_token else ""
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "verification_token" in update_fields:
            kwargs["update_fields"] = {*update_fields, "verification_token_hash"}
        super().save(*args, **kwargs)


class ExtensionState(models.Model):
    """Per extension, the newest presence ``sequence`` applied.

    The tracker locks this row (``select_for_update``) so two workers applying events of
    one extension serialise, and older events cannot overwrite newer state.
    """

    rc_extension_id = models.CharField(max_length=32, unique=True)
    last_sequence = models.BigIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"ext {self.rc_extension_id} @ {self.last_sequence}"


class TelephonyEvent(models.Model):
    """One webhook delivery, kept as received. ``uuid`` makes a redelivery a no-op."""

    class Outcome(models.TextChoices):
        PENDING = "", "Pending"
        APPLIED = "applied", "Applied"
        STALE = "stale", "Older than the newest applied (facts merged)"
        FAILED = "failed", "Failed"

    uuid = models.CharField(max_length=64, unique=True)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    rc_extension_id = models.CharField(max_length=32, db_index=True)
    sequence = models.BigIntegerField()
    event_timestamp = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    # Null until a worker applied it: the sweeper re-enqueues those the broker lost.
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    error = models.TextField(blank=True)
    # How many times an applier or the sweeper took this event up without finishing it: past
    # EVENT_MAX_ATTEMPTS it is marked failed instead of blocking its extension for ever.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="event_unprocessed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} ext {self.rc_extension_id} seq {self.sequence}"


class Call(models.Model):
    """One call as one extension sees it (an internal call is two rows: one per side)."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class State(models.TextChoices):
        RINGING = "ringing", "Ringing"
        CONNECTED = "connected", "Connected"
        ON_HOLD = "on_hold", "On hold"
        # In a park orbit (the caller waits for someone to pick the call up).
        PARKED = "parked", "Parked"
        ENDED = "ended", "Ended"
        MISSED = "missed", "Missed"
        VOICEMAIL = "voicemail", "Voicemail"

    LIVE_STATES = (State.RINGING, State.CONNECTED, State.ON_HOLD, State.PARKED)
    FINAL_STATES = (State.ENDED, State.MISSED, State.VOICEMAIL)

    class Enrichment(models.TextChoices):
        NONE = "", "Not needed yet"
        PENDING = "pending", "Waiting for the call log"
        DONE = "done", "Call log applied"
        GAVE_UP = "gave_up", "Call log never showed the call"

    agent = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    rc_extension_id = models.CharField(max_length=32)
    session_id = models.CharField(max_length=64)
    telephony_session_id = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    from_number = models.CharField(max_length=40, blank=True)
    from_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_number = models.CharField(max_length=40, blank=True)
    to_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    to_name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    # How many contacts share the other party's number (the pop says "and N others").
    contact_matches = models.PositiveIntegerField(default=0)
    # Why this contact (crm.matching.Rule), the stored number that matched, the company of a
    # company line, the candidates when several contacts share the number.
    match_info = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True)  # seconds
    result = models.CharField(max_length=64, blank=True)  # call-log result, e.g. "Missed"
    legs = models.JSONField(default=list, blank=True)
    # {"id", "content_uri", "type", "duration"} from the call log; null without one.
    recording = models.JSONField(null=True, blank=True)
    rc_call_log_id = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    # The team's own list (crm.Disposition); deactivated, never deleted, once used.
    disposition = models.ForeignKey(
        "crm.Disposition", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # From telephony sessions (CallControl; blank on presence alone). The agent's party in
    # the telephony session: what Call Control acts on.
    party_id = models.CharField(max_length=64, blank=True)
    # The newest session `sequence` applied: once a session event set the state, presence
    # only adds facts (its NoCall is not the end the session's status is).
    session_sequence = models.BigIntegerField(default=0)
    # The party's status code (Setup ... Disconnected) and reason, as the newest event says.
    party_status = models.CharField(max_length=20, blank=True)
    party_reason = models.CharField(max_length=32, blank=True)
    # The party that took over from this one (peerId: answered elsewhere, transferred,
    # picked up) and who that is ("Answered by Priya Shah").
    peer_party_id = models.CharField(max_length=64, blank=True)
    peer_name = models.CharField(max_length=200, blank=True)
    park_orbit = models.CharField(max_length=32, blank=True)
    # Since when the call is on hold (the card's hold timer); null when it is not.
    hold_started_at = models.DateTimeField(null=True, blank=True)
    reached_voicemail = models.BooleanField(default=False)
    queue_call = models.BooleanField(default=False)
    # The call of the agent who transferred this one here (its notes and disposition show).
    transferred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Tracker bookkeeping: the newest presence sequence that set `state`, per-status facts.
    last_sequence = models.BigIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    enrichment = models.CharField(
        max_length=10, choices=Enrichment.choices, blank=True, default=""
    )
    enrich_attempts = models.PositiveSmallIntegerField(default=0)
    enrich_due_at = models.DateTimeField(null=True, blank=True)
    # Set by a NoCall that ended a call that only rang, without terminationType "final":
    # the call still shows as ringing until then, because several devices ringing send a
    # transitional NoCall (its "intermediate" marker is deprecated) before Ringing again.
    # Past it with no newer event, the call ends as missed (tracker.calls_missed_expire).
    missed_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rc_extension_id", "session_id"], name="call_unique_per_extension"
            ),
        ]
        indexes = [
            # Recent calls / call log pages for one agent.
            models.Index(fields=["agent", "-started_at"], name="call_agent_recent_idx"),
            # Live calls of one agent (snapshot, /api/calls/live/).
            models.Index(fields=["agent", "state"], name="call_agent_state_idx"),
            models.Index(fields=["session_id"], name="call_session_idx"),
            # A telephony-session event finds presence's row of its call by this too.
            models.Index(fields=["telephony_session_id"], name="call_telephony_session_idx"),
            models.Index(
                fields=["enrich_due_at"],
                condition=Q(enrichment="pending"),
                name="call_enrich_pending_idx",
            ),
            models.Index(
                fields=["missed_due_at"],
                condition=Q(missed_due_at__isnull=False),
                name="call_missed_due_idx",
            ),
            # Reports of the whole team for a period (crm_cti/reports): every column the
            # day x hour totals, dispositions, top callers and queue list group by is in
            # the index, so PostgreSQL answers them from it alone (index-only scans, a
            # third of the time of reading the table: README "Performance"). An agent's
            # own reports use call_agent_recent_idx; a queue's, the to_e164 index.
            models.Index(
                fields=["started_at", "agent", "direction", "state", "answered_at", "ended_at",
                        "disposition", "from_e164", "to_e164"],
                name="call_report_period_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.from_number} -> {self.to_number} [{self.state}]"

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    @property
    def other_number(self) -> str:
        """The number of the party on the other side of the agent."""
        return self.from_number if self.direction == self.Direction.INBOUND else self.to_number

    @property
    def other_e164(self) -> str:
        """``other_number`` in E.164 ("" when it is not a phone number)."""
        return self.from_e164 if self.direction == self.Direction.INBOUND else self.to_e164

    @classmethod
    def other_e164_is(cls, e164: str) -> Q:
        """Calls whose other party (``other_number``) has this E.164 number."""
        return Q(direction=cls.Direction.INBOUND, from_e164=e164) | Q(
            direction=cls.Direction.OUTBOUND, to_e164=e164
        )


class CallLogSync(models.Model):
    """High-water mark of the call-log import per agent (incremental history import)."""

    agent = models.OneToOneField(
        "accounts.Agent", on_delete=models.CASCADE, related_name="call_log_sync"
    )
    synced_until = models.DateTimeField(null=True, blank=True)
    imported = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.agent} until {self.synced_until}"


class RingOut(models.Model):
    """A RingOut the server placed for an agent; polled until its status is final."""

    agent = models.ForeignKey(
        "accounts.Agent", on_delete=models.CASCADE, related_name="ringouts"
    )
    rc_id = models.CharField(max_length=64, db_index=True)
    from_number = models.CharField(max_length=40)
    to_number = models.CharField(max_length=40)
    call_status = models.CharField(max_length=32, blank=True)
    caller_status = models.CharField(max_length=32, blank=True)
    callee_status = models.CharField(max_length=32, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    polls = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"RingOut {self.rc_id} {self.from_number} -> {self.to_number} [{self.call_status}]"


class EventConnection(models.Model):
    """The WebSocket transport's connection of one subscription owner (the account, or one
    agent): the gateway session to recover (``wsc``) and the last sequence whose
    notification is stored, who holds it, and what the operations page shows."""

    # "account" or "agent:<pk>" (telephony.services.scopes keys).
    owner = models.CharField(max_length=40, unique=True)
    agent = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.CASCADE,
        related_name="event_connections",
    )
    # Embedded mode's lease (distributed mode leases in Redis): holder id and its expiry.
    holder = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # The gateway session token: reconnecting with it within the recovery window replays
    # what the platform sent while nobody was connected.
    wsc = models.CharField(max_length=200, blank=True)
    sequence = models.BigIntegerField(default=0)
    subscription_id = models.CharField(max_length=64, blank=True)
    connected_since = models.DateTimeField(null=True, blank=True)
    last_notification_at = models.DateTimeField(null=True, blank=True)
    recoveries = models.PositiveIntegerField(default=0)
    failed_recoveries = models.PositiveIntegerField(default=0)
    # When calls were last repaired from active calls because notifications were lost.
    reconciled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner"]

    def __str__(self) -> str:
        return f"{self.owner} [{'connected' if self.connected_since else 'disconnected'}]"
