"""Telephony sessions end to end: the sandbox's call-control scenarios → webhook (presence
and telephony sessions for the same calls) → worker → websocket. Subscriptions carry the
sessions filter only where the token's scope has CallControl; one call per agent is tracked
and pushed; the pushes say answered elsewhere, transferred, parked, on hold, voicemail."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.telephony.models import Call, Subscription
from crm_cti.telephony.services.subscriptions import EXTENSION_EVENT_FILTER
from tests.sandbox.session_helpers import LIMITED_CLIENT
from tests.telephony.pipeline import states_in_order

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SESSIONS = "/telephony/sessions"


def _ended(sock, session_id):
    def check(_history):
        calls = sock.calls(session_id)
        return calls and calls[-1]["state"] in ("ended", "missed", "voicemail")
    return check


def _remote_filters(pipeline, sub: Subscription) -> list[str]:
    return next(s for s in pipeline.sandbox.subscriptions() if s["id"] == sub.rc_id)[
        "eventFilters"]


def test_the_subscription_carries_sessions_only_with_call_control(pipeline, settings):
    registered = (settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET)
    settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET = LIMITED_CLIENT
    agent = pipeline.sign_in("102")
    assert "CallControl" not in agent.rc_token.scope.split()
    sub = pipeline.subscribe(agent)
    remote = _remote_filters(pipeline, sub)
    assert any(item.endswith("/presence?detailedTelephonyState=true") for item in remote)
    assert not any(SESSIONS in item for item in remote)
    # Signed in through the app that has CallControl (the platform keeps subscriptions per
    # app: the other app's is not this one's, so it is made anew).
    settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET = registered
    agent = pipeline.sign_in("102")
    assert "CallControl" in agent.rc_token.scope.split()
    sub = pipeline.subscribe(agent)
    filters = _remote_filters(pipeline, sub)
    assert any(item.endswith("/presence?detailedTelephonyState=true") for item in filters)
    assert any(item.endswith(SESSIONS) for item in filters)


def test_an_existing_presence_subscription_gains_sessions_when_the_scope_allows(pipeline):
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    # As crm_cti made it before telephony sessions: presence only.
    client = client_for_agent(agent)
    try:
        client.update_subscription(sub.rc_id, event_filters=[EXTENSION_EVENT_FILTER])
    finally:
        client.close()
    Subscription.objects.filter(pk=sub.pk).update(event_filters=[EXTENSION_EVENT_FILTER])
    assert not any(SESSIONS in item for item in _remote_filters(pipeline, sub))
    again = pipeline.subscribe(agent)
    assert again.rc_id == sub.rc_id  # the same subscription, updated
    assert any(item.endswith(SESSIONS) for item in _remote_filters(pipeline, again))
    assert any(item.endswith(SESSIONS)
               for item in Subscription.objects.get(pk=sub.pk).event_filters)


def test_a_queue_call_a_colleague_answers_says_answered_by_them(pipeline):
    marcus, priya = pipeline.sign_in("102"), pipeline.sign_in("103")
    for agent in (marcus, priya):
        assert any(item.endswith(SESSIONS)
                   for item in _remote_filters(pipeline, pipeline.subscribe(agent)))
    mine, theirs = pipeline.socket(marcus), pipeline.socket(priya)
    started = pipeline.sandbox.start_call("call_queue", extension="103", agents=["103", "102"])
    session_id = started["sessionId"]
    mine.wait_for(_ended(mine, session_id), timeout=60, what="Marcus's queue call to end")
    calls = mine.calls(session_id)
    assert {c["id"] for c in calls} == {calls[0]["id"]}  # one card
    assert "missed" not in states_in_order(calls)
    final = calls[-1]
    assert (final["state"], final["outcome"], final["outcome_text"]) == (
        "ended", "answered_elsewhere", "Answered by Priya Shah")
    assert final["party_id"] and final["telephony_session_id"] == started["telephonySessionId"]
    theirs.wait_for(_ended(theirs, session_id), timeout=60, what="Priya's call to end")
    assert theirs.calls(session_id)[-1]["answered_at"] is not None
    assert Call.objects.filter(session_id=session_id).count() == 2


def test_a_blind_transfer_hands_the_notes_to_the_colleague(pipeline):
    marcus, priya = pipeline.sign_in("102"), pipeline.sign_in("103")
    for agent in (marcus, priya):
        pipeline.subscribe(agent)
    mine, theirs = pipeline.socket(marcus), pipeline.socket(priya)
    started = pipeline.sandbox.start_call("blind_transfer", extension="102", to="103")
    session_id = started["sessionId"]
    mine.wait_for(lambda _h: (c := mine.calls(session_id)) and c[-1]["state"] == "connected",
                  timeout=60, what="Marcus to answer")
    call_id = mine.calls(session_id)[-1]["id"]
    Call.objects.filter(pk=call_id).update(notes="Wants the March invoice")
    mine.wait_for(_ended(mine, session_id), timeout=60, what="Marcus's part to end")
    final = mine.calls(session_id)[-1]
    theirs.wait_for(lambda _h: (c := theirs.calls(session_id)) and c[-1]["transferred_from"],
                    timeout=60, what="Priya's card to know whose call it was")
    handed = theirs.calls(session_id)[-1]["transferred_from"]
    assert (handed["call_id"], handed["agent_name"], handed["notes"]) == (
        call_id, "Marcus Reed", "Wants the March invoice")
    mine.wait_for(lambda _h: mine.calls(session_id)[-1]["peer_name"], timeout=30,
                  what="Marcus's card to say to whom")
    final = mine.calls(session_id)[-1]
    assert (final["outcome"], final["outcome_text"]) == ("transferred",
                                                         "Transferred to Priya Shah")


def test_park_shows_the_orbit_and_then_who_picked_it_up(pipeline):
    marcus, priya = pipeline.sign_in("102"), pipeline.sign_in("103")
    for agent in (marcus, priya):
        pipeline.subscribe(agent)
    mine = pipeline.socket(marcus)
    started = pipeline.sandbox.start_call("park_pickup", extension="102", to="103")
    session_id = started["sessionId"]
    mine.wait_for(_ended(mine, session_id), timeout=60, what="the parked call to be picked up")
    parked = [c for c in mine.calls(session_id) if c["outcome"] == "parked"]
    assert parked and parked[0]["park_orbit"].startswith("*")
    assert parked[0]["outcome_text"] == f"Parked at {parked[0]['park_orbit']}"
    mine.wait_for(lambda _h: mine.calls(session_id)[-1]["peer_name"], timeout=30,
                  what="who picked it up")
    assert mine.calls(session_id)[-1]["outcome_text"] == "Picked up by Priya Shah"


def test_hold_is_pushed_with_when_it_began(pipeline):
    marcus = pipeline.sign_in("102")
    pipeline.subscribe(marcus)
    mine = pipeline.socket(marcus)
    started = pipeline.sandbox.start_call("hold_resume", extension="102")
    session_id = started["sessionId"]
    mine.wait_for(_ended(mine, session_id), timeout=60, what="the held call to end")
    calls = mine.calls(session_id)
    held = [c for c in calls if c["state"] == "on_hold"]
    assert held and held[0]["hold_started_at"] and held[0]["outcome_text"] == "On hold"
    assert calls[-1]["hold_started_at"] is None


def test_a_rejected_call_goes_to_voicemail_and_never_shows_missed(pipeline):
    marcus = pipeline.sign_in("102")
    pipeline.subscribe(marcus)
    mine = pipeline.socket(marcus)
    started = pipeline.sandbox.start_call("reject_voicemail", extension="102")
    session_id = started["sessionId"]
    mine.wait_for(_ended(mine, session_id), timeout=60, what="the call to reach voicemail")
    calls = mine.calls(session_id)
    assert states_in_order(calls) == ["ringing", "voicemail"]
    assert calls[-1]["outcome_text"] == "Went to voicemail"


def test_lost_events_of_both_kinds_still_show_the_answer(pipeline):
    """The third event of each kind is lost: the session's Answered and presence's NoCall.
    Presence's CallConnected carries the card to connected, the session's Disconnected ends
    it."""
    marcus = pipeline.sign_in("102")
    pipeline.subscribe(marcus)
    mine = pipeline.socket(marcus)
    started = pipeline.sandbox.start_call("inbound_answered", extension="102",
                                          faults=[{"type": "drop", "index": 2},
                                                  {"type": "drop", "index": 2,
                                                   "event": "telephony-sessions"}])
    session_id = started["sessionId"]
    mine.wait_for(_ended(mine, session_id), timeout=60, what="the call to end")
    calls = mine.calls(session_id)
    assert states_in_order(calls) == ["ringing", "connected", "ended"]
    assert calls[-1]["party_status"] == "Disconnected"


def test_a_subscription_loses_sessions_when_the_tokens_scope_no_longer_has_call_control(
        pipeline):
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    assert any(item.endswith(SESSIONS) for item in _remote_filters(pipeline, sub))
    # The scope the platform granted at the agent's last sign-in, without CallControl (the
    # app lost the permission); the sandbox's app keeps it, so only our record says so.
    token = RingCentralToken.objects.get(agent=agent)
    token.scope = " ".join(p for p in token.scope.split() if p != "CallControl")
    token.save(update_fields=["scope"])
    again = pipeline.subscribe(agent)
    assert again.rc_id == sub.rc_id
    filters = _remote_filters(pipeline, again)
    assert filters and not any(SESSIONS in item for item in filters)
    kept = Subscription.objects.get(pk=sub.pk).event_filters
    assert EXTENSION_EVENT_FILTER in kept and not any(SESSIONS in item for item in kept)
