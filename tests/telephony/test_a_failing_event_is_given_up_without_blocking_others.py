"""An event the tracker cannot apply does not wedge the applier, nor hold up its extension
or any other: its neighbours are applied at once, it is tried again (by any applier) until
it failed ``EVENT_MAX_ATTEMPTS`` times, then it is marked failed, acknowledged and shown on
the operations page. An entry whose appliers all died before acknowledging it is given up on
after as many deliveries.

The failure is a fault injected into the real PostgreSQL: a CHECK constraint refusing the
call row one caller's name produces, i.e. a permanent database error on one event, the kind
that used to keep a batch in the applier's retry list for ever (it then applied nothing
else). Real Redis stream, real database."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from crm_cti.celery import app
from crm_cti.redis_client import redis_client
from crm_cti.telephony import stream as event_stream
from crm_cti.telephony.models import Call, TelephonyEvent
from tests.resilience.harness import presence_event
from tests.telephony.conftest import Webhook

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

POISON_NAME = "Refused By The Database"
EXT_A = "400000102"
EXT_B = "400000103"


@pytest.fixture
def stream(distributed_mode, redis_url, settings, monkeypatch):
    """A deployment (queue, hence stream) of this test's own, with Celery not eager, and
    entries another applier holds claimable at once."""
    settings.REDIS_URL = redis_url
    settings.EVENT_MAX_ATTEMPTS = 3
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "task_default_queue", f"test-poison-{uuid.uuid4().hex}")
    monkeypatch.setattr(event_stream, "CLAIM_IDLE_MS", 0)
    key = event_stream.stream_key()
    yield key
    redis_client().delete(key, app.conf.task_default_queue)


@pytest.fixture
def refused_caller_name(distributed_mode, transactional_db):
    """PostgreSQL refuses any call row with POISON_NAME as the caller's name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE telephony_call ADD CONSTRAINT test_refused_caller "
            f"CHECK (from_name <> '{POISON_NAME}')"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE telephony_call DROP CONSTRAINT IF EXISTS test_refused_caller")


def _event(subscription, ext: str, sequence: int, status: str, session: str,
           name: str = "") -> dict:
    event = presence_event(subscription_id=subscription.rc_id, extension_id=ext,
                           sequence=sequence, status=status, session_id=session)
    if name:
        event["body"]["activeCalls"][0]["fromName"] = name
    return event


def test_a_failing_event_is_tried_then_failed_while_the_rest_flows(
        client, subscription, stream, refused_caller_name, admin_agent):
    hook = Webhook(client=client, subscription=subscription)
    poison = _event(subscription, EXT_A, 1, "Ringing", "poison", name=POISON_NAME)
    # The same extension's next call, and another extension's call, right behind it.
    after = [_event(subscription, EXT_A, 2, "Ringing", "a-next"),
             _event(subscription, EXT_A, 3, "CallConnected", "a-next")]
    other = [_event(subscription, EXT_B, 1, "Ringing", "b-call")]
    assert [hook.post(e).status_code for e in [poison, *after, *other]] == [200] * 4

    first = event_stream.Applier(consumer="first")
    first.step()
    # The good events were applied despite sharing a batch (and an extension) with it.
    assert Call.objects.get(session_id="a-next").state == Call.State.CONNECTED
    assert Call.objects.get(session_id="b-call").state == Call.State.RINGING
    bad = TelephonyEvent.objects.get(uuid=poison["uuid"])
    assert bad.processed_at is None and bad.attempts == 1
    assert "test_refused_caller" in bad.error
    # The applier is not wedged on it: new events are applied as they come.
    late = _event(subscription, EXT_B, 2, "CallConnected", "b-call")
    assert hook.post(late).status_code == 200
    first.step()
    assert Call.objects.get(session_id="b-call").state == Call.State.CONNECTED

    # Other appliers take the failing entry over (it is not acknowledged: an applier claims
    # such entries first thing) and try it again, until it failed EVENT_MAX_ATTEMPTS times.
    event_stream.Applier(consumer="second").step()
    bad.refresh_from_db()
    assert bad.processed_at is None and bad.attempts == 2
    second = event_stream.Applier(consumer="third")
    second.step()
    bad.refresh_from_db()
    assert bad.outcome == TelephonyEvent.Outcome.FAILED
    assert bad.processed_at is not None
    assert bad.attempts == 3
    assert "failed 3 times" in bad.error and "test_refused_caller" in bad.error
    assert redis_client().xpending(stream, event_stream.GROUP)["pending"] == 0
    assert redis_client().xlen(stream) == 0
    assert not Call.objects.filter(session_id="poison").exists()

    # It no longer holds its extension up: the next event goes through in a plain batch.
    ended = _event(subscription, EXT_A, 4, "NoCall", "a-next")
    assert hook.post(ended).status_code == 200
    second.step()
    assert Call.objects.get(session_id="a-next").state == Call.State.ENDED
    assert set(TelephonyEvent.objects.exclude(pk=bad.pk).values_list("outcome", flat=True)) \
        == {TelephonyEvent.Outcome.APPLIED}

    # The operations page lists it.
    client.force_login(admin_agent.user)
    html = client.get("/ops/").content.decode()
    assert "Failed events" in html
    assert poison["uuid"] in html
    assert 'id="q-failed">1<' in html


def test_an_entry_whose_appliers_all_died_is_given_up_after_as_many_deliveries(
        client, subscription, stream):
    hook = Webhook(client=client, subscription=subscription)
    event = _event(subscription, EXT_A, 1, "Ringing", "killer")
    assert hook.post(event).status_code == 200
    client_ = redis_client()
    # Three appliers in turn read it and die before acknowledging it.
    dead = event_stream.Applier(consumer="dead-0")
    dead._group_ensure(client_)
    assert len(dead._read(client_)) == 1
    for n in (1, 2):
        client_.xautoclaim(stream, event_stream.GROUP, f"dead-{n}", min_idle_time=0,
                           start_id="0-0", count=10)
    survivor = event_stream.Applier(consumer="survivor")
    survivor.step()
    stored = TelephonyEvent.objects.get(uuid=event["uuid"])
    assert stored.outcome == TelephonyEvent.Outcome.FAILED
    assert "delivered 3 times" in stored.error
    assert client_.xpending(stream, event_stream.GROUP)["pending"] == 0
    assert not Call.objects.exists()


def test_where_events_are_tasks_only_the_failing_event_waits(webhook, refused_caller_name,
                                                             settings):
    """Embedded mode (and eager Celery): an event is a ``telephony.event_process`` task,
    which applies its extension's pending events; a failing one is set apart the same way."""
    settings.EVENT_MAX_ATTEMPTS = 2
    sub = webhook.subscription
    poison = _event(sub, EXT_A, 1, "Ringing", "poison", name=POISON_NAME)
    assert webhook.post(poison).status_code == 200
    assert TelephonyEvent.objects.get(uuid=poison["uuid"]).attempts == 1
    assert webhook.post(_event(sub, EXT_A, 2, "Ringing", "a-next")).status_code == 200
    assert Call.objects.get(session_id="a-next").state == Call.State.RINGING
    bad = TelephonyEvent.objects.get(uuid=poison["uuid"])
    assert bad.outcome == TelephonyEvent.Outcome.FAILED and "failed 2 times" in bad.error
    assert webhook.post(_event(sub, EXT_A, 3, "CallConnected", "a-next")).status_code == 200
    assert Call.objects.get(session_id="a-next").state == Call.State.CONNECTED
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
