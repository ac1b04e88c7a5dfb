"""A report as tables (what the page shows beside each chart and what each CSV holds) and
as charts: the same rows feed the table, the chart and the download."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString

from crm_cti.dashboard.services import csv_safe_cell
from crm_cti.dashboard.templatetags.ui import duration
from crm_cti.reports import charts
from crm_cti.reports.selectors import WEEKDAYS, Report

TABLES = ("summary", "hours", "weekdays", "heatmap", "callers", "dispositions")


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    # "text", "int", "seconds" (shown as m:ss) or "percent" (0..100), one per column.
    kinds: list[str]
    rows: list[list[Any]]
    chart: SafeString | None = None
    # The summary's figures each have their own kind (its value column mixes them).
    row_kinds: list[str] | None = None

    def display_rows(self) -> list[list[tuple[str, bool]]]:
        """Each row as (text, is a number) pairs: numbers are right-aligned."""
        if self.row_kinds is not None:
            return [
                [(str(label), False), (_display(value, kind), True)]
                for (label, value), kind in zip(self.rows, self.row_kinds, strict=True)
            ]
        return [
            [(_display(value, kind), kind != "text")
             for value, kind in zip(row, self.kinds, strict=True)]
            for row in self.rows
        ]

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([csv_safe_cell(_csv(value)) for value in row])
        return buffer.getvalue()


def _display(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "seconds":
        return duration(round(value))
    if kind == "percent":
        return f"{value:.1f} %"
    return str(value)


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 1)
    return value


def _summary(report: Report) -> Table:
    t = report.totals
    rate = t.answer_rate
    rows: list[list[Any]] = [
        ["Calls", t.calls, "int"],
        ["Inbound calls", t.inbound, "int"],
        ["Answered", t.answered, "int"],
        ["Answered inbound", t.inbound_answered, "int"],
        ["Missed", t.missed, "int"],
        ["of which voicemail", t.voicemail, "int"],
        ["Answer rate", None if rate is None else rate * 100, "percent"],
        ["Total talk time", t.talk_seconds if t.talked else None, "seconds"],
        ["Average talk time", t.average_talk_seconds, "seconds"],
        ["Average time to answer", t.average_wait_seconds, "seconds"],
    ]
    return Table(
        name="summary", title="Summary", columns=["Figure", "Value"], kinds=["text", "text"],
        rows=[[figure, value] for figure, value, _ in rows],
        row_kinds=[kind for _, _, kind in rows],
    )


def report_tables(report: Report) -> dict[str, Table]:
    """Every table of ``report``, by name (TABLES), each with its chart."""
    hours = [f"{h:02d}" for h in range(24)]
    tables = {
        "summary": _summary(report),
        "hours": Table(
            name="hours", title="Calls by hour of day", columns=["Hour", "Calls"],
            kinds=["text", "int"],
            rows=[[f"{h}:00", n] for h, n in zip(hours, report.by_hour, strict=True)],
            chart=charts.bar_chart(
                items=list(zip(hours, report.by_hour, strict=True)), title="Calls by hour of day"
            ),
        ),
        "weekdays": Table(
            name="weekdays", title="Calls by day of week", columns=["Day", "Calls"],
            kinds=["text", "int"],
            rows=[[d, n] for d, n in zip(WEEKDAYS, report.by_weekday, strict=True)],
            chart=charts.bar_chart(
                items=list(zip(WEEKDAYS, report.by_weekday, strict=True)),
                title="Calls by day of week",
            ),
        ),
        "heatmap": Table(
            name="heatmap", title="Calls by day and hour", columns=["Day", *hours],
            kinds=["text"] + ["int"] * 24,
            rows=[[d, *row] for d, row in zip(WEEKDAYS, report.heat, strict=True)],
            chart=charts.heat_map(
                rows=report.heat, row_labels=WEEKDAYS, title="Calls by day of week and hour"
            ),
        ),
        "callers": Table(
            name="callers", title="Top callers",
            columns=["Number", "Name", "Calls", "Answered"],
            kinds=["text", "text", "int", "int"],
            rows=[
                [r["number"] or "Withheld or internal", r["name"], r["calls"], r["answered"]]
                for r in report.top_callers
            ],
            chart=charts.bar_chart(
                items=[
                    (r["name"] or r["number"] or "Withheld or internal", r["calls"])
                    for r in report.top_callers
                ],
                title="Top callers", horizontal=True,
            ),
        ),
        "dispositions": Table(
            name="dispositions", title="Dispositions", columns=["Disposition", "Calls"],
            kinds=["text", "int"],
            rows=[[r["label"], r["calls"]] for r in report.dispositions],
            chart=charts.bar_chart(
                items=[(r["label"], r["calls"]) for r in report.dispositions],
                title="Dispositions", horizontal=True,
            ),
        ),
    }
    return tables
