"""An agent follows the team's default pop settings (admins set it on Team settings, with
the match policy and the required disposition) until they save their own on Pop settings;
"Use the team's default" goes back. The dashboard hands the page what applies."""

import json

import pytest

from crm_cti.accounts.models import AgentPopSettings, TeamSettings
from crm_cti.accounts.preferences import pop_settings_for

pytestmark = pytest.mark.django_db

POP_FORM = {
    "pop_on": "answer", "open_contact": "on", "pop_inbound": "on", "pop_outbound": "on",
    "pop_internal": "on",  # queue calls and desktop notifications off (unticked)
}


def _page_settings(client) -> dict:
    page = client.get("/").content.decode()
    marker = '<script id="page-settings" type="application/json">'
    start = page.index(marker) + len(marker)
    return json.loads(page[start:page.index("</script>", start)])


def test_an_agent_saves_their_own_then_goes_back_to_the_default(agent_client, agent):
    assert _page_settings(agent_client)["pop_on"] == "ring"
    page = agent_client.get("/settings/").content.decode()
    assert "You follow the team's default" in page

    assert agent_client.post("/settings/", POP_FORM).status_code == 302
    own = pop_settings_for(agent=agent)
    assert own["own"] and own["pop_on"] == "answer" and own["open_contact"] is True
    assert own["pop_queue"] is False and own["desktop_notification"] is False
    assert _page_settings(agent_client)["pop_on"] == "answer"

    agent_client.post("/settings/", {"reset": "1"})
    assert not AgentPopSettings.objects.filter(agent=agent).exists()
    assert _page_settings(agent_client)["pop_on"] == "ring"


def test_a_bad_value_is_refused_next_to_the_field(agent_client, agent):
    response = agent_client.post("/settings/", {**POP_FORM, "pop_on": "always"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not AgentPopSettings.objects.exists()


def test_admins_set_the_team_default_and_rules(admin_client_agent, agent):
    assert "Manage dispositions" in admin_client_agent.get("/settings/team/").content.decode()
    response = admin_client_agent.post(
        "/settings/team/",
        {**POP_FORM, "pop_on": "off", "match_policy": "ask", "require_disposition": "on"},
    )
    assert response.status_code == 302
    team = TeamSettings.objects.get()
    assert (team.pop_on, team.match_policy, team.require_disposition) == ("off", "ask", True)
    following = pop_settings_for(agent=agent)
    assert (following["own"], following["pop_on"], following["require_disposition"]) == (
        False, "off", True
    )


def test_agents_cannot_open_team_settings(agent_client):
    assert agent_client.get("/settings/team/").status_code == 404
    assert agent_client.post("/settings/team/", {"match_policy": "ask"}).status_code == 404
    assert not TeamSettings.objects.filter(match_policy="ask").exists()
