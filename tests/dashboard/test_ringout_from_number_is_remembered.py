"""The agent picks their RingOut "from" number once; it is remembered on the Agent."""

from crm_cti.accounts.models import Agent


def test_pick_a_direct_number(agent_client, agent):
    response = agent_client.post(
        "/calls/ringout-from/", {"choice": "+16505550102"}, HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"ok": True, "from_number": "+16505550102"}
    assert Agent.objects.get(pk=agent.pk).ringout_from_number == "+16505550102"
    # Every page carries it for the dial buttons.
    assert 'data-ringout-from="+16505550102"' in agent_client.get("/contacts/").content.decode()


def test_pick_another_number_of_ones_own(agent_client, agent):
    agent_client.post(
        "/calls/ringout-from/", {"choice": "other", "other": "(415) 555-0199"},
        HTTP_ACCEPT="application/json",
    )
    assert Agent.objects.get(pk=agent.pk).ringout_from_number == "+14155550199"


def test_bad_number_is_reported_next_to_the_field(agent_client, agent):
    response = agent_client.post(
        "/calls/ringout-from/", {"choice": "other", "other": "12"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200 and response.json()["ok"] is False
    assert "other" in response.json()["errors"]
    assert Agent.objects.get(pk=agent.pk).ringout_from_number == ""
