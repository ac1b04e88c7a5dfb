"""Forms of the agent pages: call notes, history filters, messaging, RingOut "from"."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q

from crm_cti.accounts.models import Agent, AgentPopSettings, PopPreferences, TeamSettings
from crm_cti.crm.forms import clean_phone_field
from crm_cti.crm.models import Disposition
from crm_cti.telephony.models import Call

RESULT_CHOICES = [
    ("", "Any result"),
    ("answered", "Answered"),
    ("missed", "Missed"),
    ("voicemail", "Voicemail"),
]

TYPE_CHOICES = [
    ("", "Any type"),
    ("external", "External"),
    ("internal", "Internal (extension)"),
]

MESSAGE_MAX_CHARS = 1000
# Every word of a search is one more ILIKE condition on several columns: a few are enough.
SEARCH_MAX_WORDS = 10
# Ids are PostgreSQL bigints; a larger number cannot name any row.
MAX_ID = 2**63 - 1
# The history's date filters: wider than any call log, narrow enough for date arithmetic.
FIRST_YEAR, LAST_YEAR = 1970, 2100


def clean_search_words(value: str, *, max_words: int = SEARCH_MAX_WORDS) -> str:
    """``value`` stripped, or a ValidationError when it has more words than a search uses."""
    value = (value or "").strip()
    if len(value.split()) > max_words:
        raise forms.ValidationError(f"Search for at most {max_words} words.")
    return value


def clean_day_in_range(day: Any) -> Any:
    """``day`` (or None), or a ValidationError outside FIRST_YEAR..LAST_YEAR: a day at the
    end of the calendar has no next day to filter up to (an OverflowError)."""
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise forms.ValidationError(f"Pick a day between {FIRST_YEAR} and {LAST_YEAR}.")
    return day


class CallNotesForm(forms.Form):
    """Notes and disposition: the active dispositions, plus the call's own if an admin
    deactivated it since (so saving the notes keeps it)."""

    notes = forms.CharField(required=False, max_length=10_000, widget=forms.Textarea)
    disposition = forms.ModelChoiceField(
        required=False, queryset=Disposition.objects.none(), empty_label="—"
    )

    def __init__(self, *args: Any, current: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        condition = Q(active=True) | Q(pk=current) if current else Q(active=True)
        self.fields["disposition"].queryset = Disposition.objects.filter(condition)


class HistoryFilterForm(forms.Form):
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    direction = forms.ChoiceField(
        required=False, choices=[("", "Any direction"), *Call.Direction.choices]
    )
    type = forms.ChoiceField(required=False, choices=TYPE_CHOICES)
    result = forms.ChoiceField(required=False, choices=RESULT_CHOICES)
    phone = forms.CharField(
        required=False, max_length=40, widget=forms.TextInput(attrs={"type": "search"})
    )
    contact = forms.CharField(
        required=False, max_length=100, widget=forms.TextInput(attrs={"type": "search"})
    )
    agent = forms.ModelChoiceField(
        required=False, queryset=Agent.objects.all(), empty_label="Every agent"
    )
    disposition = forms.ModelChoiceField(
        required=False, queryset=Disposition.objects.all(), empty_label="Any disposition"
    )

    def __init__(self, *args: Any, show_agent: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not show_agent:
            del self.fields["agent"]

    def clean_date_from(self) -> Any:
        return clean_day_in_range(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> Any:
        return clean_day_in_range(self.cleaned_data.get("date_to"))

    def clean_contact(self) -> str:
        value = clean_search_words(self.cleaned_data.get("contact", ""))
        if value.isdigit() and not 0 < int(value) <= MAX_ID:
            raise forms.ValidationError(f"No contact has the id {value[:30]}.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class SmsForm(forms.Form):
    from_number = forms.ChoiceField(choices=())
    to = forms.CharField(max_length=40)
    text = forms.CharField(max_length=MESSAGE_MAX_CHARS)

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_number"].choices = [(n, n) for n in agent.sms_numbers]

    def clean_to(self) -> str:
        return clean_phone_field(self.cleaned_data.get("to", ""), required=True)

    def clean_text(self) -> str:
        text = self.cleaned_data.get("text", "").strip()
        if not text:
            raise forms.ValidationError("Write a message.")
        return text


class PagerForm(forms.Form):
    to = forms.CharField(max_length=200, help_text="Extension numbers, separated by commas")
    text = forms.CharField(max_length=MESSAGE_MAX_CHARS)

    def clean_to(self) -> list[str]:
        parts = [p for p in re.split(r"[\s,;]+", self.cleaned_data.get("to", "")) if p]
        if not parts:
            raise forms.ValidationError("Enter an extension number.")
        bad = [p for p in parts if not p.isdigit() or len(p) > 8]
        if bad:
            raise forms.ValidationError(f"Not an extension number: {', '.join(bad)}.")
        return parts

    def clean_text(self) -> str:
        text = self.cleaned_data.get("text", "").strip()
        if not text:
            raise forms.ValidationError("Write a message.")
        return text


class RingoutFromForm(forms.Form):
    """The RingOut "from" number: one of the agent's direct numbers or any number of theirs."""

    choice = forms.CharField(required=False)
    other = forms.CharField(required=False, max_length=40)

    def number(self) -> str:
        data = self.cleaned_data
        return (data.get("other") or "").strip() if data.get("choice") == "other" else (
            data.get("choice") or ""
        ).strip()


POP_FORM_FIELDS = list(PopPreferences.POP_FIELDS)


class PopSettingsForm(forms.ModelForm):
    """An agent's own pop settings (saved by ``agent_pop_settings_save``)."""

    class Meta:
        model = AgentPopSettings
        fields = POP_FORM_FIELDS
        widgets = {"pop_on": forms.RadioSelect}


class TeamSettingsForm(forms.ModelForm):
    class Meta:
        model = TeamSettings
        fields = [*POP_FORM_FIELDS, "match_policy", "require_disposition"]
        widgets = {"pop_on": forms.RadioSelect, "match_policy": forms.RadioSelect}
