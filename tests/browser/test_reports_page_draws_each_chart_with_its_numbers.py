"""The reports page in Chromium on the demo's history: every chart is drawn, its table
beside it holds the same numbers, the filters change them, and an agent sees only their
own. The README's screenshot of the page is taken here (test-artifacts/reports.png)."""

from datetime import timedelta

from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from crm_cti.dashboard.selectors import day_start
from crm_cti.telephony.models import Call
from tests.browser.conftest import sign_in


def _last_30_days():
    today = timezone.localdate()
    calls = Call.objects.filter(
        started_at__gte=day_start(today - timedelta(days=29)),
        started_at__lt=day_start(today + timedelta(days=1)),
    )
    return calls


def _kpi(page, figure: str) -> str:
    return page.locator(f".kpi[data-figure='{figure}'] .kpi-value").inner_text()


def test_reports_page(browser, rc_sandbox, live_app, artifacts):
    call_command("seed_demo", verbosity=0)
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="101")
    page.click("nav a:text('Reports')")
    page.wait_for_url("**/reports/")
    page.select_option("#id_period", "30d")
    page.click("#report-filters button[type=submit]")
    page.wait_for_url("**/reports/?*period=30d*")

    calls = _last_30_days()
    assert _kpi(page, "Calls") == str(calls.count())
    inbound = calls.filter(direction="inbound")
    answered = inbound.filter(answered_at__isnull=False).count()
    assert _kpi(page, "Answer rate") == f"{answered / inbound.count() * 100:.1f} %"
    missed = inbound.filter(answered_at__isnull=True, state__in=["missed", "voicemail"])
    assert _kpi(page, "Missed") == str(missed.count())

    # Each chart is drawn, with the same numbers in the table beside it.
    heat = page.locator("#report-heatmap svg rect[data-hour]")
    assert heat.count() == 7 * 24
    cells = sum(int(heat.nth(i).get_attribute("data-value")) for i in range(heat.count()))
    assert cells == calls.count()
    for name in ("hours", "weekdays", "callers", "dispositions"):
        bars = page.locator(f"#report-{name} svg rect[data-value]")
        rows = page.locator(f"#report-{name} table tbody tr")
        assert bars.count() == rows.count() > 0, name
        last_column = rows.locator("td:last-child")
        if name == "callers":
            last_column = rows.locator("td:nth-child(3)")
        assert [bars.nth(i).get_attribute("data-value") for i in range(bars.count())] == [
            last_column.nth(i).inner_text() for i in range(rows.count())
        ], name
    page.screenshot(path=str(artifacts / "reports.png"), full_page=True)

    # A filter changes every figure; the download carries the same filters.
    page.select_option("#id_direction", "outbound")
    page.click("#report-filters button[type=submit]")
    page.wait_for_url("**direction=outbound*")
    assert _kpi(page, "Calls") == str(calls.filter(direction="outbound").count())
    assert _kpi(page, "Inbound calls") == "0"
    href = page.locator("#report-summary a:text('CSV')").get_attribute("href")
    assert href.startswith("/reports/summary.csv?") and "direction=outbound" in href
    csv_text = page.request.get(href).text()
    assert f"Calls,{calls.filter(direction='outbound').count()}" in csv_text

    # An agent: no agent filter, only their own calls.
    other = browser.new_page()
    sign_in(other, rc_sandbox, live_app, extension="102")
    other.goto("/reports/?period=30d")
    assert other.locator("#id_agent").count() == 0
    own = calls.filter(Q(agent__extension_number="102"))
    assert _kpi(other, "Calls") == str(own.count())
