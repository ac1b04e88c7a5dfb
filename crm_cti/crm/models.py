"""CRM contacts and their phone numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Contact(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True, db_index=True)
    title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("crm:contact_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"


class ContactPhone(models.Model):
    """One number of a contact. ``e164`` is the normalized form every lookup uses."""

    class Label(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        WORK = "work", "Work"
        HOME = "home", "Home"
        OTHER = "other", "Other"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    label = models.CharField(max_length=10, choices=Label.choices, default=Label.WORK)
    raw = models.CharField(max_length=40)
    e164 = models.CharField(max_length=20, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "e164"], name="contactphone_unique_per_contact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.e164} ({self.label})"


class ContactImport(models.Model):
    """One CSV upload from the admin, processed by a Celery task; progress is read from here."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    # The file itself is kept so the worker (maybe another machine) can read it from the DB.
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "errors": {"phone": ["'12' is not a valid phone number."]}}]
    row_errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Saved with every committed batch of rows: an unfinished import not updated for a while
    # lost its task (broker restarted, worker killed) and the sweep starts it again.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Runs started; an import that keeps killing its worker is given up after a few.
    attempts = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename or 'import'} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return int(100 * self.processed_rows / self.total_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ContactChange(models.Model):
    """Who changed a contact, when, and what: the numbers decide every agent's pops.

    ``changes`` maps each field that changed to ``[before, after]``; ``phones`` is the list
    of the contact's numbers (``"+16505550100 (work)"``). Kept when the contact is deleted.
    """

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    # The contact's name at the time, so the trail still reads after a delete.
    contact_name = models.CharField(max_length=201, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Where the change was made: "contact page", "pop card", "admin", "CSV import", ...
    source = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.contact_name or 'contact'} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        if self.changed_by is None:
            return f"system ({self.source})" if self.source else "system"
        user = self.changed_by
        return user.get_full_name() or user.get_username()


class Disposition(models.Model):
    """One outcome an agent can set on a call ("Sale", "Follow-up needed", ...): the team's
    own list, managed by admins. A disposition in use is deactivated, never deleted, so the
    history keeps its label."""

    name = models.CharField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    requires_note = models.BooleanField(
        default=False, help_text="The agent must write a note on the call to set it."
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class CompanyLine(models.Model):
    """A number that reaches a whole company (a switchboard): a call from it matches the
    company, never one of the people whose contact lists it."""

    e164 = models.CharField(max_length=20, unique=True)
    company = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company", "e164"]

    def __str__(self) -> str:
        return f"{self.company} ({self.e164})"


class NumberChoice(models.Model):
    """The contact an agent picked for a number several contacts share: their next call
    from (or to) that number pops that contact."""

    agent = models.ForeignKey("accounts.Agent", on_delete=models.CASCADE, related_name="+")
    e164 = models.CharField(max_length=20)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "e164"], name="numberchoice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.e164} → {self.contact_id} for agent {self.agent_id}"
