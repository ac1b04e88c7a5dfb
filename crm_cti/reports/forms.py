"""The reports page's filters: a period (a preset or custom days), agent, queue, direction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.dashboard.forms import clean_day_in_range
from crm_cti.telephony.models import Call

PERIODS = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("custom", "Custom"),
]
# The presets, as a number of days ending today (today included).
PRESET_DAYS = {"today": 1, "7d": 7, "30d": 30}
DEFAULT_PERIOD = "7d"


class ReportFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    agent = forms.ModelChoiceField(
        required=False, queryset=Agent.objects.all(), empty_label="Every agent"
    )
    # Which number the caller dialled: crm_cti has no record of call queues (see README
    # "Reports"), so a queue is the number its callers dial. Choices come from the data.
    # A text field shown as a list: any number may be asked for (a bookmark from another
    # period), the list offers what the period shows.
    queue = forms.CharField(
        required=False, max_length=40, label="Queue (number dialled)", widget=forms.Select
    )
    direction = forms.ChoiceField(
        required=False, choices=[("", "Any direction"), *Call.Direction.choices]
    )

    def __init__(
        self,
        *args: Any,
        show_agent: bool = False,
        queues: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not show_agent:
            # An agent's report is always their own: the field is not even offered.
            del self.fields["agent"]
        self.fields["queue"].widget.choices = [("", "Any number"), *(queues or [])]

    def clean_date_from(self) -> date | None:
        return clean_day_in_range(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> date | None:
        return clean_day_in_range(self.cleaned_data.get("date_to"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        period = data.get("period") or DEFAULT_PERIOD
        data["period"] = period
        if period == "custom":
            start, end = data.get("date_from"), data.get("date_to")
            if start is None and "date_from" not in self.errors:
                self.add_error("date_from", "Pick the first day of the period.")
            if start and end and start > end:
                self.add_error("date_to", "The end date is before the start date.")
        return data

    def bounds(self) -> tuple[date, date]:
        """The first and last day of the period (both included), in the current time
        zone; only after ``is_valid()`` (an unbound form gives the default period)."""
        data = self.cleaned_data if self.is_bound else {"period": DEFAULT_PERIOD}
        today = timezone.localdate()
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom":
            return data["date_from"], data.get("date_to") or max(today, data["date_from"])
        return today - timedelta(days=PRESET_DAYS[period] - 1), today
