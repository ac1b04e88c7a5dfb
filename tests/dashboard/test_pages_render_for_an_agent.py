"""Every page renders for a signed-in agent and sends anonymous visitors to sign in."""

import pytest

from tests.support.people import call_make, contact_make

PAGES = ["/", "/calls/", "/contacts/", "/contacts/new/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/signin/")


@pytest.mark.parametrize("url", PAGES)
def test_agent_sees_the_page_with_navigation(agent_client, agent, url):
    response = agent_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/calls/"' in html and 'href="/contacts/"' in html
    assert "Ava Agent" in html
    assert 'action="/auth/signout/"' in html
    # Operations and Admin are for admins only.
    assert 'href="/ops/"' not in html


def test_admin_sees_operations_and_admin_links(admin_client_agent):
    html = admin_client_agent.get("/").content.decode()
    assert 'href="/ops/"' in html and 'href="/admin/"' in html


def test_contact_and_call_pages_render(agent_client, agent):
    contact = contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    call = call_make(agent, contact=contact)
    assert "Phillip Marco" in agent_client.get(f"/contacts/{contact.pk}/").content.decode()
    html = agent_client.get(f"/calls/{call.pk}/").content.decode()
    assert "Phillip Marco" in html
    assert "(650) 444-5567" in html


def test_dashboard_embeds_live_calls_for_the_first_paint(agent_client, agent):
    call_make(agent, state="ringing", answered_at=None, ended_at=None, duration=None)
    html = agent_client.get("/").content.decode()
    assert 'id="live-calls"' in html
    assert '"state": "ringing"' in html


def test_admin_watches_another_agents_calls(admin_client_agent, agent):
    call_make(agent, state="ringing", answered_at=None, ended_at=None, duration=None,
              from_name="Watched Caller")
    html = admin_client_agent.get("/", {"agent": agent.pk}).content.decode()
    assert "Watching the calls of" in html and "Ava Agent" in html
    assert "Watched Caller" in html


def test_agents_cannot_watch_others(agent_client, other_agent):
    call_make(other_agent, from_name="Secret Caller")
    html = agent_client.get("/", {"agent": other_agent.pk}).content.decode()
    assert "Watching" not in html and "Secret Caller" not in html
