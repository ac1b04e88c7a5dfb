"""With ``TELEPHONY_SHARDS`` streams, each extension's events go to one shard, appliers
share the shards through leases (each reads only its own), every extension's events are
applied in sequence order whoever reads them, and the sweeper still announces lost events
again, to the right shard. Real Redis, real database."""

from __future__ import annotations

import itertools
import uuid

import pytest

from crm_cti.celery import app
from crm_cti.redis_client import redis_client
from crm_cti.telephony import stream as event_stream
from crm_cti.telephony.models import Call, TelephonyEvent
from tests.telephony.conftest import Webhook, fixture_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The fixtures' three extensions land on three different shards of three.
SHARDS = 3
FLOWS = ("hold_resume", "seed_answered_inbound", "seed_ringout_two_legged")


@pytest.fixture
def sharded(redis_url, settings, monkeypatch):
    settings.REDIS_URL = redis_url
    settings.TELEPHONY_SHARDS = SHARDS
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "task_default_queue", f"test-shards-{uuid.uuid4().hex}")
    keys = event_stream.stream_keys()
    yield keys
    client = redis_client()
    client.delete(*keys, app.conf.task_default_queue,
                  *client.keys(f"{app.conf.task_default_queue}:*"))


def _post_all(client, subscription) -> dict[str, list[str]]:
    hook = Webhook(client=client, subscription=subscription)
    for flow in FLOWS:
        assert set(hook.replay(flow)) == {200}
    return {flow: [str(e["body"]["extensionId"]) for e in fixture_events(flow)] for flow in FLOWS}


def _drain(appliers: list[event_stream.Applier], rounds: int = 30) -> None:
    for _ in range(rounds):
        handled = sum(applier.step() for applier in appliers)
        if not handled and not TelephonyEvent.objects.filter(processed_at__isnull=True).exists():
            return


def test_each_extension_goes_to_one_shard_and_two_appliers_split_them(
    client, subscription, sharded
):
    extensions = _post_all(client, subscription)
    shards = {event_stream.shard_of(ext) for exts in extensions.values() for ext in exts}
    assert shards == {0, 1, 2}
    for flow, exts in extensions.items():
        shard = event_stream.shard_of(exts[0])
        assert redis_client().xlen(event_stream.stream_key(shard)) == len(exts), flow
    assert event_stream.stream_backlog() == {
        "waiting": sum(len(exts) for exts in extensions.values()), "unacknowledged": 0}

    first, second = event_stream.Applier(consumer="a"), event_stream.Applier(consumer="b")
    client_ = redis_client()
    first._shards_refresh(client_)
    assert first.shards == [0, 1, 2]  # alone: every shard
    second._shards_refresh(client_)
    assert second.shards == []  # all held
    # The second one's arrival makes the first give back what is over its share.
    first._next_lease = second._next_lease = 0.0
    first._shards_refresh(client_)
    second._shards_refresh(client_)
    assert len(first.shards) == 2 and len(second.shards) == 1
    assert set(first.shards).isdisjoint(second.shards)
    assert sorted(first.shards + second.shards) == [0, 1, 2]
    _drain([first, second])

    states = dict(Call.objects.values_list("session_id", "state"))
    assert len(states) == len(FLOWS)
    assert set(states.values()) == {Call.State.ENDED}
    # Every event applied, none of them after a later one of its extension.
    events = list(TelephonyEvent.objects.order_by("rc_extension_id", "sequence", "pk"))
    assert {e.outcome for e in events} == {TelephonyEvent.Outcome.APPLIED}
    for before, after in itertools.pairwise(events):
        if before.rc_extension_id == after.rc_extension_id:
            assert before.processed_at <= after.processed_at
    for key in sharded:
        assert redis_client().xlen(key) == 0


def test_a_stopped_applier_gives_its_shards_to_the_other(client, subscription, sharded):
    first, second = event_stream.Applier(consumer="a"), event_stream.Applier(consumer="b")
    first.step()
    second.step()
    assert first.shards == [0, 1, 2] and second.shards == []
    first.shards_release()
    _post_all(client, subscription)
    second._next_lease = 0.0
    _drain([second])
    assert second.shards == [0, 1, 2]
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()


def test_the_sweeper_announces_lost_events_again_on_their_shard(
    client, subscription, sharded, settings
):
    settings.EVENT_SWEEP_AFTER_SECONDS = 0
    extensions = _post_all(client, subscription)
    lost = event_stream.shard_of(extensions["hold_resume"][0])
    redis_client().delete(event_stream.stream_key(lost))  # that shard's stream is gone
    assert event_stream.events_sweep() == len(extensions["hold_resume"])
    assert redis_client().xlen(event_stream.stream_key(lost)) == len(extensions["hold_resume"])
    _drain([event_stream.Applier(consumer="one")])
    assert set(Call.objects.values_list("state", flat=True)) == {Call.State.ENDED}
