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
