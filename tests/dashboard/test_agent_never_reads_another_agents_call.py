"""An agent can never read or change another agent's call, notes or recording by id;
an admin can read every call."""

import pytest

from crm_cti.telephony.models import Call
from tests.support.people import call_make


@pytest.fixture
def foreign_call(other_agent):
    return call_make(
        other_agent, notes="secret notes of Otto",
        recording={"id": "r1", "content_uri": "http://127.0.0.1:9/recording/r1/content",
                   "type": "Automatic", "duration": 40},
    )


@pytest.mark.parametrize("suffix", ["", "recording/"])
def test_get_another_agents_call_is_404(agent_client, foreign_call, suffix):
    response = agent_client.get(f"/calls/{foreign_call.pk}/{suffix}")
    assert response.status_code == 404
    assert b"secret notes" not in response.content


def test_posting_notes_to_another_agents_call_is_404(agent_client, foreign_call):
    response = agent_client.post(f"/calls/{foreign_call.pk}/notes/", {"notes": "overwritten"})
    assert response.status_code == 404
    assert Call.objects.get(pk=foreign_call.pk).notes == "secret notes of Otto"


def test_history_and_csv_list_only_own_calls(agent_client, agent, foreign_call):
    own = call_make(agent, from_number="+14155550101", from_e164="+14155550101")
    html = agent_client.get("/calls/").content.decode()
    assert f'data-call-id="{own.pk}"' in html
    assert f'data-call-id="{foreign_call.pk}"' not in html
    csv_text = b"".join(agent_client.get("/calls/export.csv").streaming_content).decode()
    ids = [line.split(",")[0] for line in csv_text.splitlines()[1:]]
    assert ids == [str(own.pk)]


def test_agent_filter_is_ignored_for_agents(agent_client, agent, other_agent, foreign_call):
    html = agent_client.get("/calls/", {"agent": other_agent.pk}).content.decode()
    assert f'data-call-id="{foreign_call.pk}"' not in html


def test_admin_reads_every_call(admin_client_agent, foreign_call):
    response = admin_client_agent.get(f"/calls/{foreign_call.pk}/")
    assert response.status_code == 200
    assert "secret notes of Otto" in response.content.decode()
