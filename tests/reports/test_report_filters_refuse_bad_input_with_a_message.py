"""Bad filter values give a message next to the filter (and a 400 for a CSV), never a 500
and never a report of something else."""

import pytest

from tests.support.people import call_make

BAD = [
    ({"period": "fortnight"}, "period"),
    ({"period": "custom"}, "date_from"),
    ({"period": "custom", "date_from": "yesterday"}, "date_from"),
    ({"period": "custom", "date_from": "9999-12-31"}, "date_from"),
    ({"period": "custom", "date_from": "2026-03-08", "date_to": "2026-03-01"}, "date_to"),
    ({"agent": "999999"}, "agent"),
    ({"agent": "x' OR 1=1"}, "agent"),
    ({"direction": "sideways"}, "direction"),
    ({"queue": "9" * 41}, "queue"),
]


@pytest.mark.parametrize(("params", "field"), BAD)
def test_page_shows_the_message(admin_client_agent, admin_agent, params, field):
    call_make(admin_agent)
    response = admin_client_agent.get("/reports/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist"' in html
    assert f'id="id_{field}"' in html
    assert 'id="report-summary"' not in html


@pytest.mark.parametrize(("params", "field"), BAD)
def test_csv_says_what_is_wrong(admin_client_agent, params, field):
    response = admin_client_agent.get("/reports/summary.csv", params)
    assert response.status_code == 400
    assert response.content.decode().startswith("The filters are not valid:")
    assert field in response.content.decode()


def test_unknown_table_is_404(admin_client_agent):
    assert admin_client_agent.get("/reports/passwords.csv").status_code == 404


def test_no_calls_is_an_empty_report_not_an_error(agent_client):
    html = agent_client.get("/reports/").content.decode()
    assert 'data-figure="Calls"><div class="kpi-value">0</div>' in html
    assert 'data-figure="Answer rate"><div class="kpi-value">—</div>' in html
