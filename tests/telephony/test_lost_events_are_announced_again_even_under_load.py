"""The events sweeper announces again an event the stream lost (Redis restarted, the stream
was trimmed) even while the appliers are busy with others — never one the stream still
holds — and gives up on an event after EVENT_MAX_ATTEMPTS announcements (marked failed, so
it is shown and no longer awaited). Real Redis stream, real database."""

from __future__ import annotations

import uuid

import pytest

from crm_cti.celery import app
from crm_cti.redis_client import redis_client
from crm_cti.telephony import stream as event_stream
from crm_cti.telephony.models import TelephonyEvent
from tests.resilience.harness import presence_event
from tests.telephony.conftest import Webhook

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stream(redis_url, settings, monkeypatch):
    settings.REDIS_URL = redis_url
    settings.EVENT_SWEEP_AFTER_SECONDS = 0
    settings.EVENT_MAX_ATTEMPTS = 2
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "task_default_queue", f"test-sweep-{uuid.uuid4().hex}")
    key = event_stream.stream_key()
    yield key
    redis_client().delete(key, app.conf.task_default_queue)


def _entries_of(stream: str, event_ids: set[int]) -> list[bytes]:
    return [entry_id for entry_id, fields in redis_client().xrange(stream)
            if int(fields[b"id"]) in event_ids]


def _lose(stream: str, event_ids: set[int]) -> None:
    """The stream forgets these events' entries (trimmed, or Redis lost them)."""
    entries = _entries_of(stream, event_ids)
    assert entries
    redis_client().xdel(stream, *entries)


def test_lost_events_are_announced_again_while_others_wait(client, subscription, stream):
    hook = Webhook(client=client, subscription=subscription)
    events = [presence_event(subscription_id=subscription.rc_id, extension_id=f"40000{n}",
                             sequence=1, status="Ringing", session_id=f"load-{n}")
              for n in range(5)]
    assert [hook.post(e).status_code for e in events] == [200] * 5
    stored = {e.pk: e for e in TelephonyEvent.objects.all()}
    lost = set(sorted(stored)[:2])
    waiting = set(stored) - lost
    _lose(stream, lost)
    # Three entries still wait for an applier (a busy stream): only the lost two come back.
    assert event_stream.stream_backlog()["waiting"] == 3
    assert event_stream.events_sweep() == 2
    assert len(_entries_of(stream, lost)) == 2
    assert len(_entries_of(stream, waiting)) == 3
    assert dict(TelephonyEvent.objects.values_list("pk", "attempts")) == {
        **{pk: 1 for pk in lost}, **{pk: 0 for pk in waiting}}
    # In the stream again: not announced a second time.
    assert event_stream.events_sweep() == 0

    # Lost again, and again: after EVENT_MAX_ATTEMPTS announcements it is given up on.
    _lose(stream, lost)
    assert event_stream.events_sweep() == 2
    _lose(stream, lost)
    assert event_stream.events_sweep() == 0
    for pk in lost:
        event = TelephonyEvent.objects.get(pk=pk)
        assert event.outcome == TelephonyEvent.Outcome.FAILED
        assert event.processed_at is not None
        assert "not applied after 2 attempts" in event.error
    assert not TelephonyEvent.objects.filter(pk__in=waiting, processed_at__isnull=False).exists()

    # The appliers apply what waits, the failed ones are not awaited any more.
    consumer = event_stream.Applier(consumer="one")
    for _ in range(3):
        consumer.step()
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    assert event_stream.events_sweep() == 0
