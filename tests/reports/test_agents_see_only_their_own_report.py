"""An agent's report counts only their own calls: asking for another agent's, by the page or
by a CSV, still gives their own figures; the agent filter is not even offered."""

import csv
import io

import pytest
from django.test import Client

from tests.reports.calls import LIN, PERIOD


@pytest.fixture(autouse=True)
def _zone(new_york):
    """Every test here counts in New York time, with or without the week."""


def _rows(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("params", [{}, {"agent": "OTHER"}])
def test_agent_gets_their_own_numbers_by_csv(agent_client, other_agent, week, params):
    params = {k: other_agent.pk if v == "OTHER" else v for k, v in params.items()}
    summary = dict(_rows(agent_client.get("/reports/summary.csv", {**PERIOD, **params}))[1:])
    assert summary["Calls"] == "7"
    callers = _rows(agent_client.get("/reports/callers.csv", {**PERIOD, **params}))
    assert LIN not in {row[0] for row in callers}


def test_other_agent_sees_only_theirs(other_agent, week):
    client = Client()
    client.force_login(other_agent.user)
    summary = dict(_rows(client.get("/reports/summary.csv", PERIOD))[1:])
    assert (summary["Calls"], summary["Answered"]) == ("1", "1")


def test_agent_page_has_no_agent_filter_and_own_figures(agent_client, other_agent, week):
    html = agent_client.get("/reports/", {**PERIOD, "agent": other_agent.pk}).content.decode()
    assert 'name="agent"' not in html
    assert 'data-figure="Calls"><div class="kpi-value">7</div>' in html
    assert LIN not in html


def test_reports_need_a_sign_in(client, week):
    assert client.get("/reports/").status_code == 302
    assert client.get("/reports/summary.csv").status_code == 302
