"""Agents: Django users linked to a RingCentral extension."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Numbers that ring the agent's own phone; company numbers (main, fax, contact center, ...)
# ring someone else, so a RingOut "from" them would never reach the agent.
PERSONAL_USAGE_TYPES = frozenset(
    {"DirectNumber", "BusinessMobileNumber", "PartnerBusinessMobileNumber", "ForwardedNumber", ""}
)


class Agent(models.Model):
    """A person who signs in with RingCentral and receives pops for their extension."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    rc_account_id = models.CharField(max_length=32, blank=True)
    rc_extension_id = models.CharField(max_length=32, unique=True)
    extension_number = models.CharField(max_length=16, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    # E.164 numbers of the extension: [{"phone_number": "+1650...", "usage_type": "DirectNumber",
    # "features": ["SmsSender", "CallerId", ...]}]
    phone_numbers = models.JSONField(default=list, blank=True)
    # Whether the agent administers crm_cti: ``admin_override`` when an admin decided it here,
    # else what RingCentral said at the last sign-in (``rc_admin``). Sign-in keeps it in line.
    is_admin = models.BooleanField(default=False)
    rc_admin = models.BooleanField(
        "admin in RingCentral", default=False,
        help_text="What RingCentral (or CRM_ADMIN_EXTENSIONS / CRM_ADMIN_ROLE_IDS) said at the "
        "last sign-in.",
    )
    admin_override = models.BooleanField(
        "admin in crm_cti", null=True, blank=True,
        help_text="Decided here, kept at every sign-in: Yes or No. Unknown follows RingCentral.",
    )
    # Set when the refresh token is dead: pages show a banner, background work pauses.
    needs_signin = models.BooleanField(default=False)
    # The "from" number the agent picked for RingOut; remembered between calls.
    ringout_from_number = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["extension_number", "name"]

    def __str__(self) -> str:
        return f"{self.name or self.user.get_username()} (ext. {self.extension_number})"

    @property
    def direct_numbers(self) -> list[str]:
        return [
            n["phone_number"]
            for n in self.phone_numbers
            if n.get("phone_number") and n.get("usage_type", "") in PERSONAL_USAGE_TYPES
        ]

    @property
    def sms_numbers(self) -> list[str]:
        return [
            n["phone_number"]
            for n in self.phone_numbers
            if n.get("phone_number") and "SmsSender" in n.get("features", [])
        ]


class SignInSession(models.Model):
    """A Django session a user signed in with, so that all of them can be ended at once
    (sign-out, a dead RingCentral session, deactivation) whatever the session backend."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signin_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of user {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"


class RingCentralToken(models.Model):
    """One RingCentral OAuth token pair, encrypted at rest (Fernet, ``TOKEN_ENCRYPTION_KEY``).

    ``key`` is ``agent:<extension id>`` for an agent's token or ``service:<hash of RC_JWT>``
    for the service credential. Only ``crm_cti.accounts.tokens`` reads or writes these rows:
    refreshes must go through its shared lock, because refresh tokens are single-use.
    """

    key = models.CharField(max_length=100, unique=True)
    agent = models.OneToOneField(
        Agent, null=True, blank=True, on_delete=models.CASCADE, related_name="rc_token"
    )
    access_token_encrypted = models.TextField()
    refresh_token_encrypted = models.TextField(blank=True)
    access_expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    # When the current access token was issued: the refresh margin is a share of its lifetime.
    issued_at = models.DateTimeField()
    scope = models.TextField(blank=True)
    owner_id = models.CharField(max_length=32, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"RingCentral token {self.key}"

    def __repr__(self) -> str:
        # Never the ciphertexts either: they are secrets to anyone holding the key.
        return f"<RingCentralToken {self.key} expires {self.access_expires_at:%Y-%m-%d %H:%M}>"


class PopPreferences(models.Model):
    """When and how a call pops on an agent's dashboard. The team's default lives in
    TeamSettings; an agent who changed theirs has an AgentPopSettings row."""

    class PopOn(models.TextChoices):
        RING = "ring", "When the call rings"
        ANSWER = "answer", "When the call is answered"
        OFF = "off", "Never (the call still shows in Recent calls)"

    pop_on = models.CharField(max_length=10, choices=PopOn.choices, default=PopOn.RING)
    open_contact = models.BooleanField(
        "open the contact page", default=False,
        help_text="In a new tab (the same one for every pop), when the caller is a contact.",
    )
    desktop_notification = models.BooleanField(
        default=True, help_text="When the dashboard is not the tab in front."
    )
    pop_inbound = models.BooleanField("inbound calls", default=True)
    pop_outbound = models.BooleanField("outbound calls", default=True)
    pop_internal = models.BooleanField("internal calls (extension to extension)", default=True)
    pop_queue = models.BooleanField(
        "queue calls", default=True,
        help_text="Inbound calls to a number that is not yours (a call queue or a company "
        "number).",
    )

    POP_FIELDS = (
        "pop_on", "open_contact", "desktop_notification",
        "pop_inbound", "pop_outbound", "pop_internal", "pop_queue",
    )

    class Meta:
        abstract = True

    def pop_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.POP_FIELDS}


class TeamSettings(PopPreferences):
    """The one row of team-wide settings (pk 1), edited by admins on /settings/team/."""

    class MatchPolicy(models.TextChoices):
        ASK = "ask", "Ask the agent to choose"
        UPDATED = "updated", "The most recently updated contact"
        RECENT_CALL = "recent_call", "The contact with the most recent call"

    match_policy = models.CharField(
        "several contacts on one number", max_length=12, choices=MatchPolicy.choices,
        default=MatchPolicy.UPDATED,
    )
    require_disposition = models.BooleanField(
        default=False,
        help_text="An answered call's card stays on the dashboard until its disposition is set.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "team settings"

    def __str__(self) -> str:
        return "Team settings"


class AgentPopSettings(PopPreferences):
    """An agent's own pop settings; without a row the agent follows the team's default."""

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="pop_settings")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "agent pop settings"

    def __str__(self) -> str:
        return f"Pop settings of {self.agent}"
