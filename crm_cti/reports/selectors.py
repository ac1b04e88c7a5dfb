"""The reports' aggregate queries. Every figure is defined here once (README "Reports").

- calls: every call that started in the period (either direction, live ones included);
- answered: the agent was connected (``answered_at`` set), either direction;
- missed: an inbound call never answered that ended missed or in voicemail (voicemail is
  also counted on its own);
- answer rate: answered inbound calls / inbound calls;
- talk time: ``ended_at - answered_at`` of answered calls that ended (``duration`` is not
  used: the call log's duration counts the ringing too);
- time to answer: ``answered_at - started_at`` of answered inbound calls.

The page needs three scans of the period's calls whatever its length: one GROUP BY day of
week x hour gives the heat map *and* (summed) every total; one gives the top callers and
one the dispositions (plus one for the queue list).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import (
    ExtractHour,
    ExtractIsoWeekDay,
    TruncHour,
)

from crm_cti.accounts.access import is_admin
from crm_cti.accounts.models import Agent
from crm_cti.crm.models import Contact, ContactPhone, Disposition
from crm_cti.dashboard.selectors import calls_visible_to
from crm_cti.telephony.models import Call

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
TOP_CALLERS = 10
QUEUE_CHOICES = 30
# Per sort or hash of one report query, for its transaction only: a day x hour grouping of
# 1,000,000 calls hashes in about 30 MB.
REPORT_WORK_MEM = "64MB"

# What is counted: started_at is never null in a period, and in the report index, where
# "id" is not: counting it keeps the scans index-only (Django refuses COUNT(*) FILTER).
_ROW = "started_at"
_INBOUND = Q(direction=Call.Direction.INBOUND)
_ANSWERED = Q(answered_at__isnull=False)
_MISSED = _INBOUND & Q(answered_at__isnull=True) & Q(
    state__in=[Call.State.MISSED, Call.State.VOICEMAIL]
)
# A clock that went backwards (a call log correcting a webhook's guess) must not subtract.
_TALKED = _ANSWERED & Q(ended_at__isnull=False) & Q(ended_at__gte=F("answered_at"))
_WAITED = _INBOUND & _ANSWERED & Q(started_at__isnull=False) & Q(
    answered_at__gte=F("started_at")
)
_TALK = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
_WAIT = ExpressionWrapper(F("answered_at") - F("started_at"), output_field=DurationField())


@dataclass
class Totals:
    """The counts and sums one heat-map cell holds; the report's totals are their sum."""

    calls: int = 0
    inbound: int = 0
    answered: int = 0
    inbound_answered: int = 0
    missed: int = 0
    voicemail: int = 0
    talk_seconds: float = 0.0
    talked: int = 0
    wait_seconds: float = 0.0
    waited: int = 0

    def add(self, other: Totals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def answer_rate(self) -> float | None:
        """Answered inbound / inbound, 0..1; None without inbound calls."""
        return self.inbound_answered / self.inbound if self.inbound else None

    @property
    def average_talk_seconds(self) -> float | None:
        return self.talk_seconds / self.talked if self.talked else None

    @property
    def average_wait_seconds(self) -> float | None:
        return self.wait_seconds / self.waited if self.waited else None


@dataclass
class Report:
    start: datetime
    end: datetime
    totals: Totals
    # heat[weekday 0=Mon..6][hour 0..23] = calls
    heat: list[list[int]]
    by_hour: list[int]
    by_weekday: list[int]
    top_callers: list[dict[str, Any]]
    dispositions: list[dict[str, Any]]


def report_calls(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    agent: Agent | None = None,
    queue: str = "",
    direction: str = "",
) -> QuerySet[Call]:
    """The calls a report counts: those ``user`` may see (an agent only their own: the
    ``agent`` filter is an admin's), started in [start, end), narrowed by the filters."""
    calls = calls_visible_to(user).filter(started_at__gte=start, started_at__lt=end)
    if agent is not None and is_admin(user):
        calls = calls.filter(agent=agent)
    if queue:
        # The queue list names a call by its E.164 number when it has one (_DIALLED): one
        # column at a time, so that the to_e164 index serves it.
        dialled = Q(to_e164=queue) if queue.startswith("+") else Q(to_e164="", to_number=queue)
        calls = calls.filter(_INBOUND & dialled)
    if direction:
        calls = calls.filter(direction=direction)
    return calls


def _seconds(value: timedelta | int | float | None) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    # SQLite sums a duration expression as microseconds.
    return float(value) / 1_000_000


_CELL_AGGREGATES = {
    "n_calls": Count(_ROW),
    "n_inbound": Count(_ROW, filter=_INBOUND),
    "n_answered": Count(_ROW, filter=_ANSWERED),
    "n_inbound_answered": Count(_ROW, filter=_INBOUND & _ANSWERED),
    "n_missed": Count(_ROW, filter=_MISSED),
    "n_voicemail": Count(_ROW, filter=_MISSED & Q(state=Call.State.VOICEMAIL)),
    "talk": Sum(_TALK, filter=_TALKED),
    "n_talked": Count(_ROW, filter=_TALKED),
    "wait": Sum(_WAIT, filter=_WAITED),
    "n_waited": Count(_ROW, filter=_WAITED),
}


def _totals(row: dict[str, Any]) -> Totals:
    return Totals(
        calls=row["n_calls"],
        inbound=row["n_inbound"],
        answered=row["n_answered"],
        inbound_answered=row["n_inbound_answered"],
        missed=row["n_missed"],
        voicemail=row["n_voicemail"],
        talk_seconds=_seconds(row["talk"]),
        talked=row["n_talked"],
        wait_seconds=_seconds(row["wait"]),
        waited=row["n_waited"],
    )


def _whole_hours(tz: tzinfo, *moments: datetime) -> bool:
    """Whether ``tz`` is a whole number of hours from UTC at each of ``moments``."""
    for moment in moments:
        offset = moment.astimezone(tz).utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return False
    return True


def report_cells(
    *, calls: QuerySet[Call], tz: tzinfo, start: datetime, end: datetime
) -> dict[tuple[int, int], Totals]:
    """Totals per (weekday 0=Monday..6, hour 0..23) in ``tz``; empty cells are absent.

    Grouped by UTC hour (``date_trunc('hour', started_at AT TIME ZONE 'UTC')``, whose
    distinct values PostgreSQL knows from the statistics of migration
    telephony 0006_call_report_indexes, so it hashes the groups in parallel workers), then
    each hour placed in ``tz`` here: exact across daylight-saving changes, three times
    faster than grouping by the local weekday and hour (bench/reports.py). A zone that is
    not a whole number of hours from UTC (India, Nepal, ...) at the period's ends is
    grouped by its local weekday and hour in SQL instead.
    """
    cells: dict[tuple[int, int], Totals] = {}
    if _whole_hours(tz, start, end):
        rows = (
            calls.order_by()
            .values(bucket=TruncHour("started_at", tzinfo=UTC))
            .annotate(**_CELL_AGGREGATES)
        )
        for row in rows:
            local = row["bucket"].astimezone(tz)
            cells.setdefault((local.weekday(), local.hour), Totals()).add(_totals(row))
        return cells
    rows = (
        calls.order_by()
        .values(
            weekday=ExtractIsoWeekDay("started_at", tzinfo=tz),
            hour=ExtractHour("started_at", tzinfo=tz),
        )
        .annotate(**_CELL_AGGREGATES)
    )
    for row in rows:
        cells[(int(row["weekday"]) - 1, int(row["hour"]))] = _totals(row)
    return cells


@contextmanager
def report_memory() -> Iterator[None]:
    """Room for the report's GROUP BYs to hash in memory (PostgreSQL): with the default
    4 MB work_mem the day x hour grouping of 300,000 calls sorts on disk, and takes twice
    as long (bench/reports.py). SET LOCAL ends with the transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [REPORT_WORK_MEM])
        yield


def _any_name(where: Q, column: str) -> str:
    """The name one call matching ``where`` carries in ``column`` (the platform gives a
    number the same name on its calls, or none): the first row the number's index finds.
    Not "the first call with a name": a number never named would be read to its last call.
    """
    return next(iter(Call.objects.filter(where).values_list(column, flat=True)[:1]), "")


def report_top_callers(*, calls: QuerySet[Call], limit: int = TOP_CALLERS) -> list[dict[str, Any]]:
    """The external numbers that called most (inbound calls), with how many were answered
    and the contact that has the number (or the caller ID name a call carried).

    Grouped by ``from_e164`` alone, a column of the report index (an index-only scan);
    calls without an E.164 number (withheld, or from a colleague's extension) are one row
    with an empty number. The names are then looked up for those ten numbers only.
    """
    rows = list(
        calls.filter(_INBOUND)
        .order_by()
        .values("from_e164")
        .annotate(calls=Count(_ROW), answered=Count(_ROW, filter=_ANSWERED))
        .order_by("-calls", "from_e164")[:limit]
    )
    numbers = [r["from_e164"] for r in rows if r["from_e164"]]
    contacts: dict[str, Contact] = {}
    for phone in (
        ContactPhone.objects.filter(e164__in=numbers).select_related("contact")
        .order_by("-contact__updated_at")
    ):
        contacts.setdefault(phone.e164, phone.contact)
    for row in rows:
        number = row["number"] = row.pop("from_e164")
        contact = row["contact"] = contacts.get(number)
        row["name"] = contact.full_name if contact else ""
        if contact is None and number:
            row["name"] = _any_name(Q(from_e164=number), "from_name")
    return rows


def report_dispositions(*, calls: QuerySet[Call]) -> list[dict[str, Any]]:
    """Calls per disposition (the team's list, crm.Disposition), with its name; calls without
    one count as "No disposition". The one place that knows how a disposition is stored."""
    rows = list(
        calls.order_by().values("disposition").annotate(calls=Count(_ROW))
        .order_by("-calls", "disposition")
    )
    names = dict(
        Disposition.objects.filter(pk__in=[r["disposition"] for r in rows if r["disposition"]])
        .values_list("pk", "name")
    )
    return [
        {"label": names.get(r["disposition"], "No disposition"), "calls": r["calls"]}
        for r in rows
    ]


def report_queues(*, calls: QuerySet[Call], limit: int = QUEUE_CHOICES) -> list[dict[str, Any]]:
    """The E.164 numbers inbound callers dialled, busiest first, but an agent's own direct
    number (a call to it is no queue's): the queue filter's choices, with the name the
    platform gave the number. Grouped from the report index alone."""
    personal = {n for a in Agent.objects.only("phone_numbers") for n in a.direct_numbers}
    with report_memory():
        rows = list(
            calls.filter(_INBOUND).exclude(to_e164="").exclude(to_e164__in=personal)
            .order_by()
            .values("to_e164")
            .annotate(calls=Count(_ROW))
            .order_by("-calls", "to_e164")[:limit]
        )
    for row in rows:
        number = row["number"] = row.pop("to_e164")
        row["name"] = _any_name(Q(to_e164=number), "to_name")
    return rows


def report_build(*, calls: QuerySet[Call], start: datetime, end: datetime, tz: tzinfo) -> Report:
    """Every figure of the page for ``calls`` (already narrowed by report_calls)."""
    with report_memory():
        cells = report_cells(calls=calls, tz=tz, start=start, end=end)
        top_callers = report_top_callers(calls=calls)
        dispositions = report_dispositions(calls=calls)
    totals = Totals()
    heat = [[0] * 24 for _ in WEEKDAYS]
    for (weekday, hour), cell in cells.items():
        totals.add(cell)
        heat[weekday][hour] = cell.calls
    return Report(
        start=start,
        end=end,
        totals=totals,
        heat=heat,
        by_hour=[sum(day[hour] for day in heat) for hour in range(24)],
        by_weekday=[sum(day) for day in heat],
        top_callers=top_callers,
        dispositions=dispositions,
    )
