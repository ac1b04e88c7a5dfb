"""An agent cannot read or change another agent's calls, notes, recordings or RingOuts
through any endpoint that takes an id. The endpoints are taken from the URL configuration:
an id-taking route without a check here fails the first test. The recording proxy checks
the caller before it asks RingCentral for anything, and never hands out the bearer token."""

from __future__ import annotations

import pytest
import requests

from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.crm.models import Contact
from crm_cti.telephony.models import Call, RingOut
from tests.accounts.signin_helpers import sign_in
from tests.security.conftest import all_routes
from tests.support.people import call_make, contact_make, disposition_make

pytestmark = pytest.mark.django_db

# Every route that takes an object id, and whose objects belong to one agent. Contacts are
# the team's shared CRM: every agent may open them, but the call timeline on a contact page
# lists only the reader's own calls (checked below).
ID_ROUTES = {
    "/calls/<int:call_id>/",
    "/calls/<int:call_id>/notes/",
    "/calls/<int:call_id>/recording/",
    "/calls/<int:call_id>/dismiss/",
    "/calls/<int:call_id>/contact/",
    "/calls/<int:call_id>/add-number/",
    "/api/ringout/<int:ringout_id>/",
    # Every call-control button: tests/security/test_no_agent_controls_another_agents_call.py
    "/api/calls/<int:call_id>/control/<slug:action>/",
    "/contacts/<int:contact_id>/",
    "/contacts/<int:contact_id>/edit/",
    # Messaging's: tests/messaging/test_agent_b_sees_none_of_agent_as_messages.py.
    "/voicemail/<int:message_id>/audio/",
    "/voicemail/<int:message_id>/read/",
    "/followups/<int:followup_id>/done/",
    "/followups/<int:followup_id>/assign/",
}


def test_every_id_route_is_covered():
    assert {route for route, _ in all_routes() if "<int:" in route} == ID_ROUTES


@pytest.fixture
def owner_with_recording(rc, client):
    """Agent 102 signed in for real, with a call whose recording exists in the sandbox."""
    assert sign_in(client, username="102").status_code == 302
    owner = Agent.objects.get(extension_number="102")
    injected = requests.post(f"{rc.url}/sandbox/calllog",
                             json={"extension": "102", "records": 30, "seed": 7}, timeout=10)
    assert injected.status_code == 201
    record = client_for_agent(owner).list_call_log(with_recording=True, per_page=5)["records"][0]
    call = call_make(
        owner, session_id=record["sessionId"], notes="owner's private notes",
        disposition=disposition_make("Follow-up needed"),
        recording={"id": record["recording"]["id"],
                   "content_uri": record["recording"]["contentUri"],
                   "type": "Automatic", "duration": 45},
    )
    ringout = RingOut.objects.create(agent=owner, rc_id="ro-owner", from_number="+16505550102",
                                     to_number="+14155550100", call_status="InProgress")
    client.logout()
    return owner, call, ringout


def _recording_fetches(rc) -> int:
    by_operation = rc.stats().get("by_operation", {})
    return sum(n for op, n in by_operation.items() if "content" in op.lower())


def test_another_agent_gets_nothing_by_id(rc, client, owner_with_recording):
    owner, call, ringout = owner_with_recording
    assert sign_in(client, username="103").status_code == 302
    fetches_before = _recording_fetches(rc)

    for path in (f"/calls/{call.pk}/", f"/calls/{call.pk}/recording/",
                 f"/api/ringout/{ringout.pk}/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"private notes" not in response.content
    assert client.post(f"/calls/{call.pk}/notes/",
                       {"notes": "overwritten", "disposition": ""}).status_code == 404
    contact = Contact.objects.create(first_name="Intruder")
    for action in ("dismiss", "contact", "add-number"):
        response = client.post(f"/calls/{call.pk}/{action}/", {"contact": contact.pk})
        assert response.status_code == 404, action
    assert not contact.phones.exists()
    assert client.delete(f"/api/ringout/{ringout.pk}/").status_code == 404
    # The live list refuses another agent's id for a non-admin, as the socket does (4403)
    # and as for an id that does not exist; the history ignores it.
    live = client.get("/api/calls/live/", {"agent": owner.pk})
    assert live.status_code == 403 and "calls" not in live.json()
    assert f'data-call-id="{call.pk}"' not in client.get(
        "/calls/", {"agent": owner.pk}).content.decode()

    # Nothing was asked of RingCentral on the intruder's behalf, nothing changed.
    assert _recording_fetches(rc) == fetches_before
    call.refresh_from_db()
    ringout.refresh_from_db()
    assert (call.notes, call.disposition.name) == ("owner's private notes", "Follow-up needed")
    assert ringout.finished_at is None


def test_contact_timeline_shows_only_own_calls(agent_client, agent, other_agent):
    contact = contact_make("Ada", "Lovelace", "+14155550100")
    mine = call_make(agent, contact=contact)
    theirs = call_make(other_agent, contact=contact, notes="not yours")
    html = agent_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert f"/calls/{mine.pk}/" in html
    assert f"/calls/{theirs.pk}/" not in html
    assert Contact.objects.count() == 1


def test_owner_streams_the_recording_without_seeing_the_token(rc, client, owner_with_recording):
    _owner, call, _ringout = owner_with_recording
    assert sign_in(client, username="102").status_code == 302
    token = RingCentralToken.objects.get(agent__extension_number="102")
    from crm_cti.accounts.crypto import decrypt_token

    access = decrypt_token(token.access_token_encrypted)
    response = client.get(f"/calls/{call.pk}/recording/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert response["Content-Type"].startswith("audio/") and len(body) > 1000
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    assert access not in headers and access.encode() not in body
    assert "Authorization" not in response and rc.url not in headers
    assert response["Cache-Control"] == "private, no-store"


def test_admin_reads_any_call(admin_client_agent, other_agent):
    call = call_make(other_agent, notes="visible to admins")
    assert admin_client_agent.get(f"/calls/{call.pk}/").status_code == 200
    assert Call.objects.get(pk=call.pk).notes == "visible to admins"
