"""The reports page and its CSV downloads: filters in, selectors and tables out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm_cti.accounts.access import is_admin
from crm_cti.dashboard.selectors import day_start
from crm_cti.reports.forms import ReportFilterForm
from crm_cti.reports.selectors import Report, report_build, report_calls, report_queues
from crm_cti.reports.tables import TABLES, Table, report_tables


@dataclass
class _Page:
    form: ReportFilterForm
    report: Report | None
    tables: dict[str, Table]


def _report_page(request: HttpRequest, *, with_queues: bool = True) -> _Page:
    """The filters and, when they are valid, the report they select (never a report of
    something else when a filter is wrong: the page shows the message instead).
    ``with_queues``: list the queue filter's choices (the page does, a CSV needs none)."""
    show_agent = is_admin(request.user)
    form = ReportFilterForm(request.GET or None, show_agent=show_agent)
    if form.is_bound and not form.is_valid():
        return _Page(form=form, report=None, tables={})
    data: dict[str, Any] = form.cleaned_data if form.is_bound else {}
    first, last = form.bounds()
    start, end = day_start(first), day_start(last + timedelta(days=1))
    agent = data.get("agent") if show_agent else None
    if with_queues:
        queues = report_queues(
            calls=report_calls(user=request.user, start=start, end=end, agent=agent)
        )
        choices = [(q["number"], f"{q['number']} {q['name']}".strip()) for q in queues]
        if data.get("queue") and data["queue"] not in {c[0] for c in choices}:
            choices.append((data["queue"], data["queue"]))
        form.fields["queue"].widget.choices = [("", "Any number"), *choices]
    calls = report_calls(
        user=request.user, start=start, end=end, agent=agent,
        queue=data.get("queue", ""), direction=data.get("direction", ""),
    )
    report = report_build(calls=calls, start=start, end=end, tz=timezone.get_current_timezone())
    return _Page(form=form, report=report, tables=report_tables(report))


@login_required
@require_GET
def reports_view(request: HttpRequest) -> HttpResponse:
    page = _report_page(request)
    report = page.report
    return render(
        request,
        "reports/reports.html",
        {
            "form": page.form,
            "report": report,
            "summary": page.tables.get("summary"),
            "charts": [page.tables[name] for name in TABLES[1:] if name in page.tables],
            "last_day": (report.end - timedelta(days=1)) if report else None,
            "show_agent": is_admin(request.user),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@login_required
@require_GET
def reports_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in TABLES:
        raise Http404("No such report table.")
    page = _report_page(request, with_queues=False)
    if page.report is None:
        text = "\n".join(
            f"{field}: {' '.join(errors)}" for field, errors in page.form.errors.items()
        )
        return HttpResponse(
            f"The filters are not valid:\n{text}\n", status=400, content_type="text/plain"
        )
    first = timezone.localtime(page.report.start).strftime("%Y%m%d")
    last = timezone.localtime(page.report.end - timedelta(days=1)).strftime("%Y%m%d")
    response = HttpResponse(page.tables[table].csv_text(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{table}-{first}-{last}.csv"'
    return response
