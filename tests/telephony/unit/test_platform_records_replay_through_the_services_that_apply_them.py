"""The platform's records, kept as the sandbox answered them (tests/fixtures/records/,
written by ``python -m tests.fixtures.records.capture``), replayed through the services
that apply them: active calls, the call log, RingOut statuses, stored notifications, and
the push journal."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from crm_cti.telephony.models import Call, RingOut, TelephonyEvent
from crm_cti.telephony.notifications import event_parse, parse_time, payload_load
from crm_cti.telephony.push import agent_group_name, push_journal_add, push_journal_replay
from crm_cti.telephony.services import ringout as ringouts
from crm_cti.telephony.services.activecalls import active_calls_apply
from crm_cti.telephony.services.calllog import call_log_record_apply
from crm_cti.telephony.services.events import events_process_batch
from crm_cti.telephony.services.scopes import Scope
from tests.support.people import agent_create, contact_make
from tests.telephony.conftest import fixture_events

RECORDS = Path(__file__).resolve().parents[2] / "fixtures" / "records"
CALLER = "+16504445567"


def _responses(name: str) -> list[Any]:
    return json.loads((RECORDS / f"{name}.json").read_text())["responses"]


def _scope(agent) -> Scope:
    return Scope(key=f"agent:{agent.pk}", client=None, user_key="", account_level=False,
                 agent=agent)


@pytest.fixture
def agent(db):
    return agent_create(extension="102")


@pytest.fixture
def ada(db):
    return contact_make("Ada", "Lovelace", CALLER)


def _live_call(agent, session_id: str, **fields) -> Call:
    """The call as the events left it: ringing, its caller's number not known yet."""
    defaults = dict(
        agent=agent, rc_extension_id=agent.rc_extension_id, session_id=session_id,
        direction=Call.Direction.INBOUND, state=Call.State.RINGING,
        started_at=timezone.now() - timedelta(minutes=5),
        last_event_at=timezone.now() - timedelta(minutes=5),
    )
    defaults.update(fields)
    return Call.objects.create(**defaults)


def test_active_calls_apply_fills_a_live_call_then_ends_it_when_the_platform_did(
    agent, ada, settings
):
    settings.RECONCILE_GRACE_SECONDS = 30
    ringing, connected, ended = _responses("active_calls_answered_inbound")
    session = ringing["records"][0]["sessionId"]
    call = _live_call(agent, session)

    assert active_calls_apply(scope=_scope(agent), records=ringing["records"]) == [call.pk]
    call.refresh_from_db()
    # What the events lacked, from the record; the caller's contact matched.
    assert (call.from_number, call.to_name) == (CALLER, "Marcus Reed")
    assert call.telephony_session_id == ringing["records"][0]["telephonySessionId"]
    assert call.contact == ada and call.from_e164 == CALLER
    assert call.state == Call.State.RINGING

    # Still "In Progress": nothing changes.
    assert active_calls_apply(scope=_scope(agent), records=connected["records"]) == []

    # Gone from the events for a while, "Accepted" in active calls: its NoCall was lost.
    assert active_calls_apply(scope=_scope(agent), records=ended["records"]) == [call.pk]
    call.refresh_from_db()
    record = ended["records"][0]
    assert call.state == Call.State.ENDED and call.result == "Accepted"
    assert call.duration == record["duration"]
    assert call.ended_at == parse_time(record["startTime"]) + timedelta(
        seconds=record["duration"])


def test_active_calls_apply_ends_a_connected_call_absent_from_them(agent, settings):
    settings.RECONCILE_GRACE_SECONDS = 30
    call = _live_call(agent, "absent", state=Call.State.CONNECTED,
                      answered_at=timezone.now() - timedelta(minutes=4), missed_due_at=None)
    assert active_calls_apply(scope=_scope(agent), records=[]) == [call.pk]
    call.refresh_from_db()
    assert call.state == Call.State.ENDED and call.duration >= 235


@pytest.mark.parametrize(("result", "state"), [
    ("Accepted", Call.State.ENDED),
    ("Missed", Call.State.MISSED),
    ("Voicemail", Call.State.VOICEMAIL),
])
def test_call_log_record_apply_gives_each_call_its_record_of_authority(agent, ada, result,
                                                                       state):
    (log,) = _responses("call_log_answered_missed_voicemail")
    record = next(r for r in log["records"] if r["result"] == result)
    # Its NoCall was lost: still ringing here, and its number unknown.
    call = _live_call(agent, record["sessionId"])
    call_log_record_apply(call=call, record=record)
    call.save()
    call.refresh_from_db()
    assert call.state == state and call.result == result
    assert call.enrichment == Call.Enrichment.DONE and call.enrich_due_at is None
    assert call.duration == record["duration"]
    assert call.ended_at == call.started_at + timedelta(seconds=record["duration"])
    assert call.rc_call_log_id == record["id"] and call.legs == record["legs"]
    assert call.from_number == CALLER and call.contact == ada


def test_call_log_record_apply_keeps_what_the_events_knew(agent):
    (log,) = _responses("call_log_answered_missed_voicemail")
    record = next(r for r in log["records"] if r["result"] == "Accepted")
    answered = timezone.now() - timedelta(minutes=3)
    call = _live_call(agent, record["sessionId"], state=Call.State.ENDED,
                      from_number="+14155550100", from_name="Caller ID name",
                      answered_at=answered, ended_at=answered + timedelta(seconds=7))
    call_log_record_apply(call=call, record=record)
    assert (call.from_number, call.from_name) == ("+14155550100", "Caller ID name")
    assert call.ended_at == answered + timedelta(seconds=7)  # the events' end stays
    assert call.duration == record["duration"]  # the platform's figure wins


def test_ringout_statuses_are_applied_until_one_is_final(agent):
    statuses = _responses("ringout_statuses")
    ringout = RingOut(agent=agent, rc_id=statuses[0]["id"], from_number="+16505550102",
                      to_number="+14155550123")
    seen = []
    for info in statuses:
        ringouts.ringout_status_apply(ringout=ringout, info=info)
        seen.append((ringout.caller_status, ringout.callee_status, ringout.finished_at is None))
    assert seen[0] == ("InProgress", "InProgress", True)
    assert seen[-1] == ("Success", "Success", False)
    assert ringouts.ringout_to_dict(ringout)["final"] is True


@pytest.mark.integration
@pytest.mark.timeout(90)
def test_ringout_poll_reads_the_platform_until_the_ringout_is_final(fresh_sandbox, settings,
                                                                   db, eager_tasks):
    from crm_cti.ringcentral.budget import budget_reset
    from tests.support.agents import agent_sign_in

    settings.RC_SERVER_URL = fresh_sandbox.url
    settings.RINGOUT_POLL_SECONDS = 0  # polls back to back (the chain's pace is not tested)
    budget_reset()
    agent = agent_sign_in(fresh_sandbox, "102")
    ringout = ringouts.ringout_create(agent=agent, to_number="+14155550123",
                                      from_number="+16505550102")
    polls = 0
    while ringouts.ringout_poll(ringout_id=ringout.pk):
        polls += 1
        assert polls < 120, "the RingOut never finished"
        time.sleep(0.25)  # the platform's pace: it rings the agent, then the callee
    ringout.refresh_from_db()
    assert ringout.finished_at is not None and ringout.call_status == "Success"
    assert ringout.polls == polls + 1
    # Finished: a poll more reads nothing and asks for no other.
    assert ringouts.ringout_poll(ringout_id=ringout.pk) is False


def _store(payload: dict[str, Any]) -> TelephonyEvent:
    """As the webhook stores a notification: the cleaned payload, parsed once."""
    cleaned = payload_load(json.dumps(payload).encode())
    parsed = event_parse(cleaned)
    return TelephonyEvent.objects.create(
        uuid=parsed.uuid, rc_extension_id=parsed.extension_id, sequence=parsed.sequence,
        event_timestamp=parsed.timestamp, payload=cleaned,
    )


@pytest.mark.django_db(transaction=True)
def test_events_process_batch_applies_stored_notifications_as_one_batch(eager_tasks):
    payloads = fixture_events("seed_answered_inbound")
    agent = agent_create(extension="102")
    agent.rc_extension_id = str(payloads[0]["body"]["extensionId"])  # the tutorial's
    agent.save(update_fields=["rc_extension_id"])
    events = [_store(payload) for payload in payloads]
    # In any order of ids: the batch applies each extension's events in sequence order.
    ids = [event.pk for event in reversed(events)]
    assert events_process_batch(event_ids=ids) == 1
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    (call,) = Call.objects.all()
    assert call.agent == agent and call.state == Call.State.ENDED
    assert call.answered_at is not None and call.duration is not None
    # Applied already: a second run finds nothing pending.
    assert events_process_batch(event_ids=ids) == 0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_push_journal_replay_sends_again_what_a_killed_worker_journaled(distributed_mode,
                                                                        settings, redis_url):
    settings.REDIS_URL = redis_url
    agent = agent_create(extension="102")
    call = _live_call(agent, "journaled", from_number=CALLER)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(agent_group_name(agent.pk), channel)
    try:
        with transaction.atomic():
            push_journal_add(call_ids=[call.pk])
        # The worker died here: committed, journaled, never pushed nor crossed off.
        assert push_journal_replay(older_than=0) == 1

        async def receive() -> dict[str, Any]:
            return await asyncio.wait_for(layer.receive(channel), timeout=5)

        message = async_to_sync(receive)()["message"]
        assert message["type"] == "call" and message["call"]["id"] == call.pk
        assert message["call"]["state"] == "ringing"
        # Crossed off once replayed.
        assert push_journal_replay(older_than=0) == 0
    finally:
        async_to_sync(layer.group_discard)(agent_group_name(agent.pk), channel)
