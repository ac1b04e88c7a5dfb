"""Every figure of the reports page, for the hand-built week in tests/reports/calls.py:
the numbers an admin downloads (CSV) and reads on the page are the ones counted by hand."""

import csv
import io

import pytest

from tests.reports.calls import BECKER, KIM, LIN, PERIOD, QUEUE


@pytest.fixture(autouse=True)
def _zone(new_york):
    """Every test here counts in New York time, with or without the week."""


def _csv(client, table, **params):
    response = client.get(f"/reports/{table}.csv", {**PERIOD, **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _summary(client, **params):
    return dict(_csv(client, "summary", **params)[1:])


def test_summary_of_the_whole_team(admin_client_agent, week):
    assert _summary(admin_client_agent) == {
        "Calls": "8",
        "Inbound calls": "6",
        "Answered": "5",
        "Answered inbound": "4",
        "Missed": "2",
        "of which voicemail": "1",
        "Answer rate": "66.7",
        "Total talk time": "600.0",
        "Average talk time": "120.0",
        "Average time to answer": "16.0",
    }


def test_calls_by_hour_and_weekday_in_the_local_time_zone(admin_client_agent, week):
    hours = dict(_csv(admin_client_agent, "hours")[1:])
    assert {h: n for h, n in hours.items() if n != "0"} == {
        "09:00": "3", "11:00": "2", "14:00": "2", "23:00": "1",
    }
    assert len(hours) == 24
    assert dict(_csv(admin_client_agent, "weekdays")[1:]) == {
        "Mon": "3", "Tue": "2", "Wed": "2", "Thu": "0", "Fri": "0", "Sat": "0", "Sun": "1",
    }
    heat = {row[0]: row[1:] for row in _csv(admin_client_agent, "heatmap")[1:]}
    assert list(heat) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    nonzero = {(day, hour): n for day, cells in heat.items()
               for hour, n in enumerate(cells) if n != "0"}
    assert nonzero == {("Mon", 9): "3", ("Tue", 14): "2", ("Wed", 11): "2", ("Sun", 23): "1"}


def test_top_callers_and_dispositions(admin_client_agent, week):
    assert _csv(admin_client_agent, "callers") == [
        ["Number", "Name", "Calls", "Answered"],
        [KIM, "Daniel Kim", "4", "3"],
        [BECKER, "", "1", "0"],
        [LIN, "", "1", "1"],
    ]
    assert _csv(admin_client_agent, "dispositions") == [
        ["Disposition", "Calls"],
        ["No disposition", "5"],
        ["Sale", "2"],
        ["Resolved", "1"],
    ]


def test_agent_queue_and_direction_filters(admin_client_agent, week, agent, other_agent):
    mine = _summary(admin_client_agent, agent=agent.pk)
    assert (mine["Calls"], mine["Answered"], mine["Missed"]) == ("7", "4", "2")
    otto = _summary(admin_client_agent, agent=other_agent.pk)
    assert (otto["Calls"], otto["Answer rate"], otto["Average time to answer"]) == (
        "1", "100.0", "30.0")
    queue = _summary(admin_client_agent, queue=QUEUE)
    assert (queue["Calls"], queue["Answered"], queue["Missed"], queue["Answer rate"]) == (
        "2", "1", "1", "50.0")
    out = _summary(admin_client_agent, direction="outbound")
    assert (out["Calls"], out["Inbound calls"], out["Answered"]) == ("2", "0", "1")
    # No inbound call: no rate and no time to answer, rather than a made-up zero.
    assert (out["Answer rate"], out["Average time to answer"], out["Total talk time"]) == (
        "", "", "300.0")


def test_the_page_shows_the_same_figures_beside_each_chart(admin_client_agent, week):
    html = admin_client_agent.get("/reports/", PERIOD).content.decode()
    assert 'data-figure="Answer rate"><div class="kpi-value">66.7 %</div>' in html
    assert 'data-figure="Average talk time"><div class="kpi-value">2:00</div>' in html
    assert 'data-figure="Total talk time"><div class="kpi-value">10:00</div>' in html
    # The heat map's busiest cell, drawn and in the table.
    assert 'data-day="Mon" data-hour="9" data-value="3"' in html
    assert 'data-label="09" data-value="3"' in html
    assert "<th scope=\"row\">Daniel Kim</th>" not in html  # first column is the number
    assert f'<th scope="row">{KIM}</th><td>Daniel Kim</td><td class="num">4</td>' in html
    # The queue filter offers the numbers callers dialled, with their name.
    assert f'<option value="{QUEUE}">{QUEUE} Sales</option>' in html


def test_presets_count_from_today(admin_client_agent, agent):
    from django.utils import timezone

    from tests.support.people import call_make

    now = timezone.now()
    call_make(agent, started_at=now - timezone.timedelta(minutes=1))
    call_make(agent, started_at=now - timezone.timedelta(days=10))
    call_make(agent, started_at=now - timezone.timedelta(days=40))
    counts = {
        period: dict(list(csv.reader(io.StringIO(admin_client_agent.get(
            "/reports/summary.csv", {"period": period}).content.decode())))[1:])["Calls"]
        for period in ("today", "7d", "30d")
    }
    assert counts == {"today": "1", "7d": "1", "30d": "2"}


def test_withheld_and_internal_callers_are_one_row(admin_client_agent, agent):
    from tests.support.people import call_make

    call_make(agent, from_number="", from_e164="", from_name="Anonymous")
    call_make(agent, from_number="103", from_e164="", from_name="Otto Other")
    call_make(agent, from_number=LIN, from_e164=LIN, from_name="NORTHWIND", answered_at=None,
              state="missed")
    rows = _csv(admin_client_agent, "callers", period="today")
    assert rows[1:] == [["Withheld or internal", "", "2", "2"], [LIN, "NORTHWIND", "1", "0"]]
