"""call_rules.py: the facts of a call decided once (final state, duration, ending, filling
the parties, the other party's contact, the NoCall grace). Pure on unsaved rows, except
where a contact must be looked up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_cti.telephony.call_rules import (
    call_blanks_fill,
    call_duration,
    call_end,
    call_end_time,
    call_final_state,
    call_missed_deadline,
    call_numbers_refresh,
)
from crm_cti.telephony.models import Call
from crm_cti.telephony.services.calls import calls_link_contact
from tests.support.people import agent_create, call_make, contact_make

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
IN, OUT = Call.Direction.INBOUND, Call.Direction.OUTBOUND


def _call(**fields) -> Call:
    return Call(rc_extension_id="400000102", session_id="s", **fields)


@pytest.mark.parametrize(("direction", "answered", "result", "state"), [
    (IN, False, "", Call.State.MISSED),
    (OUT, False, "", Call.State.ENDED),
    (IN, True, "", Call.State.ENDED),
    (IN, False, "Accepted", Call.State.ENDED),
    (IN, True, "Voicemail", Call.State.VOICEMAIL),
    (IN, True, "Missed", Call.State.MISSED),
])
def test_the_final_state_reads_the_call_log_result_first_then_the_events(
    direction, answered, result, state
):
    call = _call(direction=direction, result=result, answered_at=T0 if answered else None)
    assert call_final_state(call) == state


def test_the_duration_is_the_talk_time_of_the_events():
    assert call_duration(_call(direction=IN)) is None  # still live
    assert call_duration(_call(direction=IN, ended_at=T0)) == 0  # never answered
    talk = _call(direction=IN, answered_at=T0, ended_at=T0 + timedelta(seconds=42.9))
    assert call_duration(talk) == 42
    clocks_apart = _call(direction=IN, answered_at=T0, ended_at=T0 - timedelta(seconds=3))
    assert call_duration(clocks_apart) == 0


def test_ending_a_call_leaves_no_missed_deadline_pending():
    call = _call(direction=IN, state=Call.State.RINGING, missed_due_at=T0)
    call_end(call, at=T0)
    assert (call.ended_at, call.state, call.missed_due_at) == (T0, Call.State.MISSED, None)


def test_a_record_ends_a_call_at_start_plus_duration_when_it_has_both():
    assert call_end_time(started_at=T0, duration=30, otherwise=None) == T0 + timedelta(seconds=30)
    assert call_end_time(started_at=None, duration=30, otherwise=T0) == T0
    assert call_end_time(started_at=T0, duration=None, otherwise=None) is None


def test_a_source_fills_blank_parties_and_never_overwrites_a_known_one():
    call = _call(direction=IN, from_number="", from_name="Known", to_number="+16505550102")
    filled = call_blanks_fill(call, {"from_number": "+16504445567", "from_name": "Other",
                                     "to_number": "+19999999999", "to_name": ""})
    assert filled is True
    assert (call.from_number, call.from_name, call.to_number) == (
        "+16504445567", "Known", "+16505550102")
    assert call_blanks_fill(call, {"from_name": "Again", "to_name": "Agent"}) is False
    assert call.to_name == "Agent"


def test_the_missed_deadline_is_the_grace_away_or_none_without_grace(settings):
    settings.CALL_MISSED_GRACE_SECONDS = 8
    assert call_missed_deadline(now=T0) == T0 + timedelta(seconds=8)
    settings.CALL_MISSED_GRACE_SECONDS = 0
    assert call_missed_deadline(now=T0) is None


@pytest.mark.django_db
def test_the_other_party_is_matched_by_direction():
    ada = contact_make("Ada", "Lovelace", "+16504445567")
    inbound = _call(direction=IN, from_number="(650) 444-5567", to_number="+14155550100")
    call_numbers_refresh(inbound)
    assert inbound.other_number == "(650) 444-5567"
    assert (inbound.from_e164, inbound.contact, inbound.contact_matches) == (
        "+16504445567", ada, 1)
    outbound = _call(direction=OUT, from_number="+14155550100", to_number="+16504445567")
    call_numbers_refresh(outbound)
    assert outbound.other_number == "+16504445567" and outbound.contact == ada
    reversed_ = _call(direction=OUT, from_number="+16504445567", to_number="+14155550100")
    call_numbers_refresh(reversed_)
    assert reversed_.contact is None


@pytest.mark.django_db
def test_a_contact_made_from_a_pop_card_takes_the_calls_whose_other_party_it_is():
    agent = agent_create(extension="102")
    theirs = call_make(agent, direction=IN, from_number="+16504445567",
                       from_e164="+16504445567", to_e164="+16505550102")
    dialled = call_make(agent, direction=OUT, from_e164="+16505550102",
                        to_number="+16504445567", to_e164="+16504445567")
    ours = call_make(agent, direction=OUT, from_e164="+16504445567", to_e164="+14155550100")
    grace = contact_make("Grace", "Hopper", "+16504445567")
    assert calls_link_contact(contact=grace, e164="+16504445567") == 2
    assert set(Call.objects.filter(contact=grace)) == {theirs, dialled}
    assert Call.objects.get(pk=ours.pk).contact is None
