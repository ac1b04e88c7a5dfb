"""Every missed call opens a follow-up for the agent who missed it (nobody's for a queue
call); calling the number back and being connected closes it, and so does marking it done
with a note. The nav counts the open ones; admins reassign."""

from __future__ import annotations

import copy

import pytest

from crm_cti.messaging.models import FollowUp
from crm_cti.telephony.models import Call
from tests.support.people import agent_create
from tests.telephony.conftest import fixture_events

pytestmark = pytest.mark.django_db

CALLER = "+14155550100"
PRESENCE = "/restapi/v1.0/account/~/extension/400000102/presence?detailedTelephonyState=true"


def _callback_events(missed: list[dict]) -> list[dict]:
    """The agent calls the caller back: ringing out, connected, hung up (after the miss)."""
    last = missed[-1]
    events = []
    for n, status in enumerate(("Ringing", "CallConnected", "NoCall"), start=1):
        event = copy.deepcopy(last)
        event["uuid"] = f"cb-{n}"
        event["body"]["sequence"] = last["body"]["sequence"] + n
        event["body"]["telephonyStatus"] = status
        leg = event["body"]["activeCalls"][0]
        leg.update({"id": "leg-back", "sessionId": "880000000999", "telephonySessionId":
                    "s-880000000999", "partyId": "p-back", "direction": "Outbound",
                    "from": "+16505550102", "to": CALLER, "toName": "Ada Lovelace",
                    "telephonyStatus": status})
        leg.pop("fromName", None)
        leg.pop("terminationType", None)
        events.append(event)
    return events


def test_a_missed_call_opens_a_follow_up_that_a_connected_call_back_closes(webhook):
    agent = agent_create(extension="102")
    missed = fixture_events("missed_inbound_final")
    assert webhook.replay(missed) == [200, 200]
    call = Call.objects.get(session_id="880000000603")
    assert call.state == Call.State.MISSED
    followup = FollowUp.objects.get(call=call)
    assert followup.agent == agent and followup.is_open and followup.number == CALLER
    assert followup.due_at > call.started_at

    assert webhook.replay(_callback_events(missed)) == [200, 200, 200]
    followup.refresh_from_db()
    assert not followup.is_open
    assert followup.closed_how == FollowUp.Closed.CALLED_BACK
    assert followup.closing_call == Call.objects.get(session_id="880000000999")


def test_a_call_back_that_never_connects_leaves_it_open(webhook):
    agent_create(extension="102")
    missed = fixture_events("missed_inbound_final")
    webhook.replay(missed)
    unanswered = [e for e in _callback_events(missed)
                  if e["body"]["telephonyStatus"] != "CallConnected"]
    webhook.replay(unanswered)
    assert FollowUp.objects.get().is_open


def test_a_queue_call_missed_is_nobodys_until_an_admin_assigns_it(webhook, client):
    # The call rang the agent through a number that is not theirs (a queue's).
    agent = agent_create(extension="102", numbers=["+16505550177"])
    admin = agent_create(extension="101", admin=True)
    webhook.replay(fixture_events("missed_inbound_final"))
    followup = FollowUp.objects.get()
    assert followup.agent is None

    client.force_login(admin.user)
    page = client.get("/followups/")
    assert page.status_code == 200
    assert f'data-followup-id="{followup.pk}"' in page.content.decode()
    response = client.post(f"/followups/{followup.pk}/assign/", {"agent": str(agent.pk)})
    assert response.status_code == 302
    followup.refresh_from_db()
    assert followup.agent == agent


def test_marking_done_needs_a_note_and_the_nav_counts_what_is_open(webhook, client):
    agent = agent_create(extension="102")
    webhook.replay(fixture_events("missed_inbound_final"))
    followup = FollowUp.objects.get()
    client.force_login(agent.user)
    page = client.get("/followups/").content.decode()
    assert 'id="followups-open" data-count="1"' in page
    assert "overdue" not in page
    FollowUp.objects.filter(pk=followup.pk).update(due_at=followup.created_at)
    assert "overdue" in client.get("/followups/").content.decode()

    refused = client.post(f"/followups/{followup.pk}/done/", {"note": "  "},
                          HTTP_ACCEPT="application/json")
    assert refused.status_code == 200 and refused.json()["ok"] is False
    assert "note" in refused.json()["errors"]
    done = client.post(f"/followups/{followup.pk}/done/", {"note": "Left a message"},
                       HTTP_ACCEPT="application/json")
    assert done.json()["ok"] is True
    followup.refresh_from_db()
    assert followup.closed_how == FollowUp.Closed.DONE and followup.note == "Left a message"
    assert 'id="followups-open" data-count="0"' in client.get("/followups/").content.decode()
    again = client.post(f"/followups/{followup.pk}/done/", {"note": "twice"},
                        HTTP_ACCEPT="application/json")
    assert again.json()["ok"] is False


def test_the_history_shows_what_became_of_the_missed_call(webhook, client):
    agent = agent_create(extension="102")
    missed = fixture_events("missed_inbound_final")
    webhook.replay(missed)
    client.force_login(agent.user)
    assert "Follow-up open" in client.get("/calls/").content.decode()
    webhook.replay(_callback_events(missed))
    assert "Follow-up: called back" in client.get("/calls/").content.decode()


def test_a_voicemail_and_its_call_opened_at_once_end_as_one_follow_up(webhook):
    """Two workers applying the call and its voicemail at the same moment each open one;
    the pairing after their commits leaves one, with both."""
    from crm_cti.messaging.models import Message
    from crm_cti.messaging.services.followups import followups_pair

    agent = agent_create(extension="102")
    webhook.replay(fixture_events("missed_inbound_final"))
    call = Call.objects.get(session_id="880000000603")
    vm = Message.objects.create(agent=agent, rc_id="vm-1", type="VoiceMail",
                                direction="inbound", counterpart=CALLER,
                                created_at_rc=call.ended_at)
    FollowUp.objects.create(agent=agent, reason=FollowUp.Reason.VOICEMAIL, number=CALLER,
                            voicemail=vm, due_at=call.ended_at)
    assert FollowUp.objects.count() == 2

    assert followups_pair(agent_id=agent.pk, number=CALLER) == 1
    only = FollowUp.objects.get()
    assert (only.call, only.voicemail, only.reason) == (call, vm, FollowUp.Reason.VOICEMAIL)
    vm.refresh_from_db()
    assert vm.call == call
