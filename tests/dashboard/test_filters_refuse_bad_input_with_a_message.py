"""Filters and ids from the address bar never make a page answer 500: an id too large for
PostgreSQL, a search of thousands of words or characters gets the page back with a message
next to the filter (PostgreSQL refuses what SQLite accepts, so this runs on PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.support.people import call_make, contact_make

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

HUGE = "9" * 23
WORDS = " ".join(f"word{i}" for i in range(3000))


@pytest.fixture(autouse=True)
def _postgres(distributed_mode):
    """PostgreSQL is where these inputs used to fail."""


def test_a_contact_id_out_of_range_gets_a_message(agent_client, agent):
    call_make(agent)
    response = agent_client.get("/calls/", {"contact": HUGE})
    assert response.status_code == 200
    page = response.content.decode()
    assert "No contact has the id" in page
    assert 'data-call-id' not in page  # an invalid filter matches nothing, not everything


def test_a_contact_filter_of_thousands_of_words_gets_a_message(agent_client, agent):
    call_make(agent)
    response = agent_client.get("/calls/", {"contact": WORDS})
    assert response.status_code == 200
    assert "at most" in response.content.decode()
    few = agent_client.get("/calls/", {"contact": " ".join(["a"] * 40)})
    assert few.status_code == 200 and "at most 10 words" in few.content.decode()


def test_the_csv_export_refuses_bad_filters_with_400(agent_client, agent):
    response = agent_client.get("/calls/export.csv", {"contact": HUGE})
    assert response.status_code == 400
    assert "No contact has the id" in response.content.decode()


def test_an_agent_id_out_of_range_on_admin_pages(admin_client_agent):
    assert admin_client_agent.get("/calls/", {"agent": HUGE}).status_code in (200, 404)
    # No such agent to watch: the dashboard and the API refuse it as the socket does (4403).
    assert admin_client_agent.get("/", {"agent": HUGE}).status_code == 403
    assert admin_client_agent.get("/api/calls/live/", {"agent": HUGE}).status_code == 403


def test_ids_out_of_range_in_the_path_are_404(agent_client):
    for path in (f"/contacts/{HUGE}/", f"/contacts/{HUGE}/edit/", f"/calls/{HUGE}/",
                 f"/calls/{HUGE}/recording/"):
        assert agent_client.get(path).status_code == 404, path


def test_a_contact_search_of_thousands_of_words_gets_a_message(agent_client):
    contact_make("Ada", "Lovelace", "+14155550100")
    response = agent_client.get("/contacts/", {"q": WORDS})
    assert response.status_code == 200
    page = response.content.decode()
    assert "at most" in page and "Lovelace" not in page
    long_word = agent_client.get("/contacts/", {"q": "x" * 5000})
    assert long_word.status_code == 200 and "at most" in long_word.content.decode()
    assert "Lovelace" in agent_client.get("/contacts/", {"q": "ada love"}).content.decode()


def test_dates_at_the_edge_of_the_calendar_get_a_message(agent_client, agent):
    call_make(agent)
    for params in ({"date_to": "9999-12-31"}, {"date_from": "0001-01-01"},
                   {"date_from": "2026-13-45"}):
        response = agent_client.get("/calls/", params)
        assert response.status_code == 200, params
        page = response.content.decode()
        assert "data-call-id" not in page
        assert "Enter a valid date" in page or "between 1970 and 2100" in page, params
    assert agent_client.get("/calls/export.csv", {"date_to": "9999-12-31"}).status_code == 400
