"""What comes back from a customer: SMS, pager messages and voicemails as the platform's
message store holds them (one row per message and per store: ``agent`` is whose store), the
follow-ups that missed calls and voicemails open, the reply templates admins keep, and each
agent's message-sync position."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CallQueue(models.Model):
    """A call queue of the account (a Department extension): its voicemail box is read by
    admins (the queue's messages belong to no agent)."""

    rc_extension_id = models.CharField(max_length=32, unique=True)
    extension_number = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["extension_number", "name"]

    def __str__(self) -> str:
        return f"{self.name} (ext. {self.extension_number})"


class Message(models.Model):
    class Type(models.TextChoices):
        SMS = "SMS", "SMS"
        PAGER = "Pager", "Pager"
        VOICEMAIL = "VoiceMail", "Voicemail"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    # Whose store: an agent's, or (agent None) a call queue's voicemail box.
    agent = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.CASCADE,
        related_name="messages",
    )
    queue = models.ForeignKey(
        CallQueue, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    # The platform's message id: unique within one store, so a redelivered or replayed
    # event, a sync and the send that created it all land on the same row.
    rc_id = models.CharField(max_length=64)
    type = models.CharField(max_length=10, choices=Type.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    from_number = models.CharField(max_length=40, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_numbers = models.JSONField(default=list, blank=True)
    # The other party (E.164, or an extension number for pager): the thread a message is in.
    counterpart = models.CharField(max_length=40, blank=True, db_index=True)
    counterpart_name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    conversation_id = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=20, blank=True)  # messageStatus
    read = models.BooleanField(default=False)
    # Read state we changed here and have not yet told RingCentral (a failed PUT retries).
    read_pending = models.BooleanField(default=False)
    created_at_rc = models.DateTimeField(db_index=True)
    modified_at_rc = models.DateTimeField(null=True, blank=True)
    # Voicemail: the audio attachment, its length, the transcript once Completed.
    audio_attachment_id = models.CharField(max_length=64, blank=True)
    audio_content_type = models.CharField(max_length=60, blank=True)
    audio_duration = models.PositiveIntegerField(null=True, blank=True)
    transcript_attachment_id = models.CharField(max_length=64, blank=True)
    transcription_status = models.CharField(max_length=20, blank=True)
    transcript = models.TextField(blank=True)
    # The missed call a voicemail was left on.
    call = models.ForeignKey(
        "telephony.Call", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="voicemails",
    )
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at_rc", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "rc_id"], name="message_unique_per_store"),
            models.UniqueConstraint(fields=["queue", "rc_id"], name="message_unique_per_queue"),
            models.CheckConstraint(
                condition=models.Q(agent__isnull=False, queue__isnull=True)
                | models.Q(agent__isnull=True, queue__isnull=False),
                name="message_in_one_store",
            ),
        ]
        indexes = [models.Index(fields=["agent", "counterpart", "-created_at_rc"])]

    def __str__(self) -> str:
        return f"{self.type} {self.direction} {self.counterpart} ({self.rc_id})"

    @property
    def is_voicemail(self) -> bool:
        return self.type == self.Type.VOICEMAIL


class FollowUp(models.Model):
    """Work a missed call or a voicemail leaves: open until the number is called back and
    connected, or someone marks it done with a note."""

    class Reason(models.TextChoices):
        MISSED_CALL = "missed_call", "Missed call"
        VOICEMAIL = "voicemail", "Voicemail"

    class Closed(models.TextChoices):
        CALLED_BACK = "called_back", "Called back"
        DONE = "done", "Marked done"

    # None: a queue call nobody in particular missed (admins assign it).
    agent = models.ForeignKey(
        "accounts.Agent", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="followups",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    number = models.CharField(max_length=40, blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="followups",
    )
    call = models.OneToOneField(
        "telephony.Call", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="followup",
    )
    voicemail = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="followup"
    )
    due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_how = models.CharField(max_length=20, choices=Closed.choices, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    closing_call = models.ForeignKey(
        "telephony.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"follow-up {self.get_reason_display()} {self.number}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ReplyTemplate(models.Model):
    """A canned SMS reply admins keep; offered wherever an SMS is written."""

    name = models.CharField(max_length=80, unique=True)
    text = models.TextField(max_length=1000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class MessageSync(models.Model):
    """Where an agent's (or a call queue's) message-sync stands: the token an incremental
    sync continues from."""

    agent = models.OneToOneField(
        "accounts.Agent", null=True, blank=True, on_delete=models.CASCADE,
        related_name="message_sync",
    )
    queue = models.OneToOneField(
        CallQueue, null=True, blank=True, on_delete=models.CASCADE, related_name="message_sync"
    )
    sync_token = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"message sync of {self.agent_id or self.queue}"
