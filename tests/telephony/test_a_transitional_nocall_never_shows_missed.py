"""Several devices ringing without the (deprecated) ``terminationType: intermediate`` marker:
the transitional NoCall never shows "Missed", never fires what a missed call fires, and the
call carries on on the same card. A NoCall after only Ringing counts as missed once the grace
(``CALL_MISSED_GRACE_SECONDS``) has passed with no newer event; ``final`` ends it at once.
Every order of every flow ends the same way.
"""

from __future__ import annotations

import itertools

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client

from crm_cti.dashboard.consumers import AgentConsumer
from crm_cti.telephony import stream as event_stream
from crm_cti.telephony.models import Call, ExtensionState, Subscription, TelephonyEvent
from crm_cti.telephony.notifications import parse_time
from crm_cti.telephony.tracker import ApplyResult, extensions_apply
from tests.support.people import agent_create
from tests.telephony.conftest import Webhook, WebsocketCommunicator, calls_state, fixture_events
from tests.telephony.grace import grace_pass, short_grace  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("short_grace")


def test_nocall_then_ringing_carries_on_the_same_card(webhook, agent):
    events = fixture_events("multi_device_nocall_then_ringing")
    webhook.replay(events[:1])
    ringing = Call.objects.get()
    webhook.replay(events[1:2])
    call = Call.objects.get()
    # Not missed, not ended, nothing waiting for the call log: only a deadline.
    assert call.state == "ringing"
    assert call.ended_at is None
    assert call.enrichment == Call.Enrichment.NONE
    assert call.missed_due_at is not None
    webhook.replay(events[2:3])
    call = Call.objects.get()
    assert (call.pk, call.state, call.started_at) == (ringing.pk, "ringing", ringing.started_at)
    assert call.missed_due_at is None
    webhook.replay(events[3:])
    grace_pass()
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.answered_at is not None
    assert call.duration == 45


def test_nocall_then_connected_carries_on_the_same_card(webhook, agent):
    events = fixture_events("multi_device_transitional_nocall")
    webhook.replay(events[:2])
    call = Call.objects.get()
    assert call.state == "ringing"
    assert call.ended_at is None
    webhook.replay(events[2:3])
    assert Call.objects.get().state == "connected"
    webhook.replay(events[3:])
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.duration == 60


def test_nocall_without_marker_is_missed_once_the_grace_has_passed(webhook, agent):
    webhook.replay("multi_device_missed_without_marker")
    call = Call.objects.get()
    assert call.state == "ringing"
    assert call.enrichment == Call.Enrichment.NONE
    # What beat runs every 30 s ends it even if the delayed check was lost.
    grace_pass_without_check()
    call = Call.objects.get()
    assert call.state == "missed"
    assert call.missed_due_at is None
    # As of the last NoCall, not of when the grace ran out.
    last_nocall = fixture_events("multi_device_missed_without_marker")[-1]["timestamp"]
    assert call.ended_at == parse_time(last_nocall)
    assert call.duration == 0
    # What a missed call fires: it now waits for its call-log record.
    assert call.enrichment == Call.Enrichment.PENDING


def test_final_nocall_is_missed_at_once(webhook, agent):
    webhook.replay("missed_inbound_final")
    call = Call.objects.get()
    assert call.state == "missed"
    assert call.missed_due_at is None
    assert call.enrichment == Call.Enrichment.PENDING


def test_nocall_after_connected_ends_at_once(webhook, agent):
    webhook.replay("hold_resume")
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.missed_due_at is None


def test_a_ringing_after_the_grace_still_reopens_the_same_card(webhook, agent):
    events = fixture_events("multi_device_nocall_then_ringing")
    webhook.replay(events[:2])
    grace_pass()
    assert Call.objects.get().state == "missed"
    webhook.replay(events[2:3])
    call = Call.objects.get()
    assert call.state == "ringing"
    assert call.ended_at is None
    assert Call.objects.count() == 1


def test_no_grace_setting_misses_at_once(webhook, agent, settings):
    settings.CALL_MISSED_GRACE_SECONDS = 0
    webhook.replay(fixture_events("seed_missed_inbound"))
    assert Call.objects.get().state == "missed"


def grace_pass_without_check() -> None:
    """The grace passes and only the periodic sweep runs (the delayed check never came)."""
    import time

    from django.conf import settings

    time.sleep(settings.CALL_MISSED_GRACE_SECONDS + 0.02)
    event_stream.events_sweep()


# --------------------------------------------------------------------------- every order

FLOWS = {
    # flow: (state before the grace has passed, state after)
    "multi_device_nocall_then_ringing": ("ended", "ended"),
    "multi_device_transitional_nocall": ("ended", "ended"),
    "multi_device_missed_without_marker": ("ringing", "missed"),
    "seed_missed_inbound": ("ringing", "missed"),
    "missed_inbound_final": ("missed", "missed"),
}


def _replay_in(webhook, events) -> tuple[list[tuple], list[tuple]]:
    Call.objects.all().delete()
    TelephonyEvent.objects.all().delete()
    ExtensionState.objects.all().delete()
    assert set(webhook.replay(events)) == {200}
    before = calls_state()
    grace_pass()
    return before, calls_state()


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_every_order_of_every_flow_ends_the_same(webhook, agent, flow):
    events = fixture_events(flow)
    expected = _replay_in(webhook, events)
    state_before, state_after = FLOWS[flow]
    assert [c[3] for c in expected[0]] == [state_before]
    assert [c[3] for c in expected[1]] == [state_after]
    for order in itertools.permutations(events):
        assert _replay_in(webhook, list(order)) == expected, [e["uuid"] for e in order]
    # And every event twice.
    assert _replay_in(webhook, events + events) == expected


# --------------------------------------------------------------------------- what is pushed


async def _socket(user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/", user=user)
    connected, code = await comm.connect()
    assert connected, code
    assert (await comm.receive_json_from())["type"] == "snapshot"
    return comm


def _webhook() -> Webhook:
    sub = Subscription.objects.create(rc_id="sub-grace", verification_token="tok-grace",
                                      status="Active")
    return Webhook(client=Client(), subscription=sub)


async def _pushed_while(comm: WebsocketCommunicator, work) -> list[dict]:
    await sync_to_async(work)()
    messages = []
    while not await comm.receive_nothing(timeout=0.3):
        message = await comm.receive_json_from(timeout=1)
        # The calls pushed (a missed call also pushes the agent's follow-up count).
        if message.get("type") == "call":
            messages.append(message)
    return messages


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_tasks")
@pytest.mark.parametrize(
    ("flow", "states"),
    [
        ("multi_device_nocall_then_ringing", ["ringing", "connected", "ended"]),
        ("multi_device_transitional_nocall", ["ringing", "connected", "ended"]),
        ("flapping_status", ["ringing", "connected", "ended"]),
    ],
)
async def test_the_agents_socket_never_gets_missed_during_a_multi_device_flow(flow, states):
    agent = await sync_to_async(agent_create)(extension="102")
    webhook = await sync_to_async(_webhook)()
    comm = await _socket(agent.user)

    def replay_and_wait() -> None:
        webhook.replay(fixture_events(flow))
        grace_pass()

    messages = await _pushed_while(comm, replay_and_wait)
    assert [m["call"]["state"] for m in messages] == states
    # One card: every message is about the same call, which started when it first rang.
    assert len({(m["call"]["id"], m["call"]["started_at"]) for m in messages}) == 1
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_tasks")
async def test_the_agents_socket_gets_missed_only_when_the_grace_has_passed():
    agent = await sync_to_async(agent_create)(extension="102")
    webhook = await sync_to_async(_webhook)()
    comm = await _socket(agent.user)

    during = await _pushed_while(
        comm, lambda: webhook.replay(fixture_events("multi_device_missed_without_marker"))
    )
    assert [m["call"]["state"] for m in during] == ["ringing"]
    after = await _pushed_while(comm, grace_pass)
    assert [m["call"]["state"] for m in after] == ["missed"]
    assert after[0]["call"]["id"] == during[0]["call"]["id"]
    await comm.disconnect()


# --------------------------------------------------------------------------- the check


def _apply_as_one_batch(events, subscription) -> ApplyResult:
    for event in events:
        TelephonyEvent.objects.create(
            uuid=event["uuid"], subscription=subscription,
            rc_extension_id=event["body"]["extensionId"], sequence=event["body"]["sequence"],
            payload=event)
    result = ApplyResult()
    with transaction.atomic():
        extensions_apply(extension_ids=[events[0]["body"]["extensionId"]], result=result)
    return result


@pytest.mark.django_db
def test_a_check_is_asked_for_only_while_a_call_waits_out_its_grace(subscription):
    events = fixture_events("multi_device_nocall_then_ringing")
    waiting = _apply_as_one_batch(events[:2], subscription)
    assert waiting.missed_pending_call_ids == [Call.objects.get().pk]
    assert waiting.messages[-1]["state"] == "ringing"
    # The NoCall and the Ringing after it in one batch: nothing to check.
    Call.objects.all().delete()
    TelephonyEvent.objects.all().delete()
    ExtensionState.objects.all().delete()
    carried_on = _apply_as_one_batch(events[:3], subscription)
    assert carried_on.missed_pending_call_ids == []
    assert [m["state"] for m in carried_on.messages] == ["ringing"]
