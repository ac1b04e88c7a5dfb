"""GET /api/calls/live/: the signed-in agent's live calls, as call objects."""

from datetime import timedelta

from django.utils import timezone

from tests.support.people import call_make

SCHEMA_KEYS = {
    "session_id", "direction", "state", "from_number", "from_name", "to_number", "to_name",
    "contact", "started_at", "answered_at", "ended_at", "duration", "result", "recording",
}


def test_anonymous_is_401(client, db):
    assert client.get("/api/calls/live/").status_code == 401


def test_agent_sees_own_live_and_just_ended_calls(agent_client, agent, other_agent):
    now = timezone.now()
    ringing = call_make(agent, state="ringing", answered_at=None, ended_at=None, duration=None)
    just_ended = call_make(agent, state="ended", ended_at=now - timedelta(seconds=10))
    call_make(agent, state="ended", ended_at=now - timedelta(hours=1))
    call_make(other_agent, state="connected", ended_at=None)
    response = agent_client.get("/api/calls/live/")
    assert response.status_code == 200
    calls = response.json()["calls"]
    assert {c["session_id"] for c in calls} == {ringing.session_id, just_ended.session_id}
    for call in calls:
        assert set(call) >= SCHEMA_KEYS
    by_id = {c["session_id"]: c for c in calls}
    assert by_id[ringing.session_id]["state"] == "ringing"
    assert by_id[just_ended.session_id]["state"] == "ended"


def test_admin_may_watch_another_agent(client, admin_agent, other_agent):
    call_make(other_agent, state="connected", ended_at=None)
    client.force_login(admin_agent.user)
    calls = client.get(f"/api/calls/live/?agent={other_agent.pk}").json()["calls"]
    assert len(calls) == 1


def test_agent_cannot_watch_another_agent(agent_client, other_agent):
    call_make(other_agent, state="connected", ended_at=None)
    response = agent_client.get(f"/api/calls/live/?agent={other_agent.pk}")
    assert response.status_code == 403
    assert "calls" not in response.json()
