"""Telephony-session notifications replayed through the real webhook, alone and beside
presence for the same call, in every order: one call per agent (merged by the session),
ordered by the session's ``sequence``, the same rows whatever the order; a queue call a
colleague answered is "answered elsewhere", not missed; a transferred call knows whose it
was; hold, park and voicemail show as such."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from crm_cti.crm.models import Disposition
from crm_cti.telephony.models import Call, ExtensionState, Subscription, TelephonyEvent
from crm_cti.telephony.notifications import parse_time
from crm_cti.telephony.serializers import call_to_dict
from tests.support.people import agent_create
from tests.telephony.conftest import Webhook, fixture_events
from tests.telephony.grace import grace_pass, short_grace  # noqa: F401 - fixture

FLOWS = ["sessions_answered_with_presence", "sessions_multi_device_with_presence",
         "sessions_queue_answered_elsewhere", "sessions_blind_transfer",
         "sessions_hold_then_park", "sessions_voicemail"]


@pytest.fixture
def agents(db):
    return agent_create(extension="102", name="Ava Agent"), agent_create(
        extension="103", name="Priya Shah")


def _rows() -> list[tuple]:
    """Every call as a comparable tuple, the session's facts included (the first agent's
    call of a transfer named by its extension: ids differ between replays)."""
    return [
        (c.rc_extension_id, c.session_id, c.direction, c.state, c.from_number, c.to_number,
         c.started_at, c.answered_at, c.ended_at, c.duration, c.agent_id, c.party_id,
         c.party_status, c.party_reason, c.peer_name, c.park_orbit, c.hold_started_at,
         c.reached_voicemail, c.queue_call,
         c.transferred_from.rc_extension_id if c.transferred_from else None)
        for c in Call.objects.select_related("transferred_from")
        .order_by("rc_extension_id", "session_id")
    ]


def _replay_in(webhook: Webhook, events: list[dict]) -> list[tuple]:
    Call.objects.all().delete()
    TelephonyEvent.objects.all().delete()
    ExtensionState.objects.all().delete()
    assert set(webhook.replay(events)) == {200}
    return _rows()


def _orders(events: list[dict]) -> list[list[dict]]:
    orders = list(itertools.permutations(events))
    # Enough orders to cover every swap without all 5040 of 7 events.
    return [list(order) for order in orders[:: max(len(orders) // 24, 1)]] + [events[::-1]]


@pytest.mark.parametrize("flow", FLOWS)
def test_every_order_gives_the_same_calls(webhook, agents, flow):
    events = fixture_events(flow)
    expected = _replay_in(webhook, events)
    for order in _orders(events):
        assert _replay_in(webhook, order) == expected


def test_presence_and_sessions_of_one_call_make_one_call(webhook, agents):
    events = fixture_events("sessions_answered_with_presence")
    assert set(webhook.replay(events)) == {200}
    call = Call.objects.get()
    assert (call.state, call.duration, call.agent, call.session_sequence) == (
        "ended", 15, agents[0], 4)
    assert call.party_id == "p-a6abd24ca6774373a8120a3390d30601-1"
    assert call.telephony_session_id == "s-a6abd24ca6774373a8120a3390d30601"
    assert (call.party_status, call.last_sequence) == ("Disconnected", 72)
    # Presence and sessions keep their own order: the extension's and the session's rows.
    keys = set(TelephonyEvent.objects.values_list("rc_extension_id", flat=True))
    assert "400000102" in keys and len(keys) == 2
    assert ExtensionState.objects.get(rc_extension_id="400000102").last_sequence == 72


@pytest.mark.usefixtures("short_grace")
def test_a_transitional_presence_nocall_never_shows_missed_once_the_session_speaks(
        webhook, agents):
    events = {e["uuid"]: e for e in fixture_events("sessions_multi_device_with_presence")}
    webhook.replay([events["tsm-1"], events["tsm-2"], events["tsm-p1"], events["tsm-p2"]])
    grace_pass()
    call = Call.objects.get()
    # Presence flashed NoCall; the session still says Proceeding: ringing, no deadline.
    assert (call.state, call.missed_due_at, call.ended_at) == ("ringing", None, None)
    webhook.replay([events["tsm-p3"], events["tsm-3"], events["tsm-4"]])
    call = Call.objects.get()
    assert (call.state, call.duration) == ("ended", 10)


@pytest.mark.parametrize("order", ["as sent", "reversed"])
def test_a_queue_call_a_colleague_answered_is_answered_elsewhere(webhook, agents, order):
    events = fixture_events("sessions_queue_answered_elsewhere")
    webhook.replay(events if order == "as sent" else events[::-1])
    ava = Call.objects.get(rc_extension_id="400000102")
    priya = Call.objects.get(rc_extension_id="400000103")
    assert ava.pk != priya.pk and Call.objects.count() == 2
    assert (ava.state, ava.answered_at, ava.queue_call) == ("ended", None, True)
    assert ava.peer_name == "Priya Shah"
    shown = call_to_dict(ava)
    assert (shown["outcome"], shown["peer_name"]) == ("answered_elsewhere", "Priya Shah")
    assert (priya.state, call_to_dict(priya)["outcome"]) == ("ended", "ended")
    assert priya.answered_at is not None


def test_a_transferred_call_shows_the_first_agents_notes_and_disposition(webhook, agents):
    events = fixture_events("sessions_blind_transfer")
    webhook.replay(events[:4])  # Ava answered and transferred; Priya's party not seen yet
    ava = Call.objects.get()
    assert (ava.state, ava.party_reason, ava.peer_name) == ("ended", "BlindTransfer", "")
    follow_up = Disposition.objects.create(name="Follow-up")
    Call.objects.filter(pk=ava.pk).update(notes="Wants the March invoice", disposition=follow_up)
    webhook.replay(events[4:5])
    priya = Call.objects.get(rc_extension_id="400000103")
    assert priya.transferred_from_id == ava.pk
    assert Call.objects.get(pk=ava.pk).peer_name == "Priya Shah"
    webhook.replay(events[5:])
    shown = call_to_dict(Call.objects.get(pk=priya.pk))
    assert shown["transferred_from"] == {
        "call_id": ava.pk, "agent_name": "Ava Agent", "notes": "Wants the March invoice",
        "disposition": follow_up.pk, "disposition_label": "Follow-up"}
    assert shown["state"] == "ended" and shown["duration"] == 26
    assert call_to_dict(Call.objects.get(pk=ava.pk))["outcome"] == "transferred"


def test_hold_runs_a_timer_from_when_it_began_and_park_shows_the_orbit(webhook, agents):
    events = fixture_events("sessions_hold_then_park")
    webhook.replay(events[:4])
    call = Call.objects.get()
    assert call.state == "on_hold"
    assert call.hold_started_at == parse_time(events[3]["timestamp"])
    assert call_to_dict(call)["outcome"] == "on_hold"
    webhook.replay(events[4:5])
    call = Call.objects.get()
    assert (call.state, call.hold_started_at) == ("connected", None)
    webhook.replay(events[5:])
    shown = call_to_dict(Call.objects.get())
    assert (shown["state"], shown["outcome"], shown["park_orbit"]) == (
        "parked", "parked", "*801")
    assert shown["outcome_text"] == "Parked at *801"
    assert shown["hold_started_at"] is None  # parked is not on hold: no hold timer


def test_a_call_that_went_to_voicemail_says_so(webhook, agents):
    events = fixture_events("sessions_voicemail")
    webhook.replay(events)
    call = Call.objects.get()
    assert (call.state, call.reached_voicemail, call.answered_at) == ("voicemail", True, None)
    assert call_to_dict(call)["outcome"] == "voicemail"
    assert call.ended_at == parse_time(events[3]["timestamp"])


def test_the_platforms_documented_sample_pops_a_ringing_call(webhook):
    (sample,) = fixture_events("sessions_rc_docs_sample")
    sample.pop("subscriptionId")  # delivered to our test subscription instead
    assert webhook.replay([sample]) == [200]
    call = Call.objects.get()
    assert (call.rc_extension_id, call.state, call.direction) == ("809646016", "ringing",
                                                                 "inbound")
    assert (call.from_number, call.to_name) == ("+14083388064", "TESTER Babji")
    assert call.party_id == "p-a6abd24ca6774373a8120a3390d3cbe8-2"
    # A redelivery is a no-op, like presence's.
    assert webhook.replay([sample]) == [200]
    assert TelephonyEvent.objects.count() == 1


def test_an_agents_subscription_takes_only_its_own_extensions_sessions(client, agents,
                                                                        eager_tasks):
    ava, _priya = agents
    own = Webhook(client=client, subscription=Subscription.objects.create(
        rc_id="sub-ava", agent=ava, verification_token="ava-token-0123456789", status="Active"))
    events = fixture_events("sessions_queue_answered_elsewhere")
    priyas = [e for e in events if "/extension/400000103/" in e["event"]]
    assert set(own.replay(priyas)) == {403}
    avas = [e for e in events if "/extension/400000102/telephony" in e["event"]]
    assert set(own.replay(avas)) == {200}
    assert list(Call.objects.values_list("rc_extension_id", flat=True)) == ["400000102"]


def test_sessions_start_no_later_than_their_first_event(webhook, agents):
    events = fixture_events("sessions_blind_transfer")
    webhook.replay(events[::-1])
    priya = Call.objects.get(rc_extension_id="400000103")
    assert priya.started_at == parse_time(events[4]["timestamp"])
    assert priya.started_at - Call.objects.get(rc_extension_id="400000102").started_at == (
        timedelta(seconds=10))


def test_the_history_and_the_call_page_say_what_happened(webhook, agents, client):
    ava, priya = agents
    webhook.replay("sessions_queue_answered_elsewhere")
    webhook.replay("sessions_blind_transfer")
    client.force_login(ava.user)
    history = client.get("/calls/").content.decode()
    assert "Answered by Priya Shah" in history and "Transferred to Priya Shah" in history
    queue_call = Call.objects.get(agent=ava, session_id="880000000603")
    page = client.get(f"/calls/{queue_call.pk}/").content.decode()
    assert "Answered by Priya Shah" in page
    client.force_login(priya.user)
    received = Call.objects.get(agent=priya, session_id="880000000604")
    page = client.get(f"/calls/{received.pk}/").content.decode()
    assert 'id="call-transferred-from">Ava Agent<' in page


def test_a_session_event_finds_presences_call_by_its_telephony_session_id(webhook, agents):
    events = fixture_events("sessions_answered_with_presence")
    presence = [e for e in events if "presence" in e["event"]]
    sessions = [e for e in events if "telephony/sessions" in e["event"]]
    for event in sessions:
        event["body"]["sessionId"] = "legacy-id-the-presence-events-do-not-carry"
    webhook.replay(presence + sessions)
    call = Call.objects.get()
    assert (call.session_id, call.state, call.party_status) == (
        "880000000601", "ended", "Disconnected")


@pytest.mark.parametrize("flow", ["sessions_answered_with_presence",
                                  "sessions_multi_device_with_presence"])
def test_a_late_session_setup_never_turns_an_answered_call_back_to_ringing(webhook, agents,
                                                                          flow):
    """Presence and sessions are applied in their own orders (the extension's, the
    session's): a party's Setup or Proceeding applied after presence said CallConnected is
    old news about that party, and the card never goes back from connected to ringing."""
    events = fixture_events(flow)
    for order in _orders(events):
        Call.objects.all().delete()
        TelephonyEvent.objects.all().delete()
        ExtensionState.objects.all().delete()
        shown: list[str] = []
        for event in order:
            assert webhook.replay([event]) == [200]
            state = Call.objects.filter(rc_extension_id="400000102").values_list(
                "state", flat=True).first()
            if state and (not shown or shown[-1] != state):
                shown.append(state)
        answered = next((i for i, s in enumerate(shown) if s in ("connected", "on_hold")),
                        None)
        assert answered is None or "ringing" not in shown[answered:], (
            [e["body"].get("sequence") for e in order], shown)
