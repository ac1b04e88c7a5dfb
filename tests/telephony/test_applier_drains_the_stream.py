"""In distributed mode a stored event is announced on a Redis stream and applied by the
applier (crm_cti/telephony/event_stream.py): in order, acknowledged only once applied, and taken
over from an applier that died holding it. Real Redis, real database."""

from __future__ import annotations

import uuid

import pytest

from crm_cti.celery import app
from crm_cti.redis_client import redis_client
from crm_cti.telephony import stream as event_stream
from crm_cti.telephony.models import Call, TelephonyEvent
from tests.telephony.conftest import Webhook, fixture_events
from tests.telephony.grace import grace_pass, short_grace  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stream(redis_url, settings, monkeypatch):
    """A deployment (queue, hence stream) of this test's own, with Celery not eager."""
    settings.REDIS_URL = redis_url
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "task_default_queue", f"test-applier-{uuid.uuid4().hex}")
    key = event_stream.stream_key()
    yield key
    redis_client().delete(key, app.conf.task_default_queue)


def _drain(consumer: event_stream.Applier, *, rounds: int = 20) -> int:
    handled = 0
    for _ in range(rounds):
        step = consumer.step()
        handled += step
        if step == 0 and not TelephonyEvent.objects.filter(processed_at__isnull=True).exists():
            break
    return handled


def test_posted_events_wait_on_the_stream_until_applied(client, subscription, stream):
    hook = Webhook(client=client, subscription=subscription)
    assert hook.replay("seed_answered_inbound") == [200, 200, 200]
    assert TelephonyEvent.objects.filter(processed_at__isnull=True).count() == 3
    assert not Call.objects.exists()  # nothing applied in the request
    assert redis_client().xlen(stream) == 3
    assert event_stream.stream_backlog() == {"waiting": 3, "unacknowledged": 0}

    assert _drain(event_stream.Applier(consumer="one")) == 3
    call = Call.objects.get()
    assert call.state == Call.State.ENDED and call.answered_at is not None
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    # Acknowledged and deleted: nothing left pending for anyone to take over.
    assert redis_client().xlen(stream) == 0
    assert redis_client().xpending(stream, event_stream.GROUP)["pending"] == 0


@pytest.mark.usefixtures("short_grace")
def test_events_a_dead_applier_held_are_taken_over(client, subscription, stream, monkeypatch):
    hook = Webhook(client=client, subscription=subscription)
    assert hook.replay("seed_missed_inbound") == [200] * len(fixture_events("seed_missed_inbound"))
    dead = event_stream.Applier(consumer="dead")
    dead._group_ensure(redis_client())
    held = dead._read(redis_client())  # read, then "killed" before applying
    assert len(held) == len(fixture_events("seed_missed_inbound"))
    assert redis_client().xpending(stream, event_stream.GROUP)["pending"] == len(held)
    assert event_stream.stream_backlog() == {"waiting": 0, "unacknowledged": len(held)}

    monkeypatch.setattr(event_stream, "CLAIM_IDLE_MS", 0)
    assert _drain(event_stream.Applier(consumer="survivor")) == len(held)
    grace_pass()  # the NoCall has no terminationType: missed once its grace has passed
    assert Call.objects.get().state == Call.State.MISSED
    assert redis_client().xpending(stream, event_stream.GROUP)["pending"] == 0


def test_a_batch_applies_each_extension_in_sequence_order(client, subscription, stream):
    """Events posted newest first still end in the right state: the batch applies every
    pending event of the extension in ``sequence`` order."""
    hook = Webhook(client=client, subscription=subscription)
    events = fixture_events("seed_answered_inbound")
    assert hook.replay(list(reversed(events))) == [200, 200, 200]
    _drain(event_stream.Applier(consumer="one"))
    call = Call.objects.get()
    assert call.state == Call.State.ENDED and call.answered_at is not None
    outcomes = set(TelephonyEvent.objects.values_list("outcome", flat=True))
    assert outcomes <= {TelephonyEvent.Outcome.APPLIED, TelephonyEvent.Outcome.STALE}


def test_the_sweeper_leaves_events_to_busy_appliers(client, subscription, stream, settings):
    """An overload is not made worse: while the stream holds entries, the sweeper adds no
    second copy of them; once it has drained, what it lost is swept."""
    from crm_cti.telephony import stream as event_stream

    settings.EVENT_SWEEP_AFTER_SECONDS = 0
    hook = Webhook(client=client, subscription=subscription)
    assert hook.replay("seed_answered_inbound") == [200, 200, 200]
    assert event_stream.events_sweep() == 0  # three entries wait for an applier

    redis_client().delete(stream)  # the stream is lost (Redis restarted without them)
    assert event_stream.events_sweep() == 3
