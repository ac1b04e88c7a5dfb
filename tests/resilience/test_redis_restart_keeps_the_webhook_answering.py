"""Redis (broker, channel layer and cache) restarted during traffic: the webhook keeps
answering 200 because events are kept in the database; the sweeper enqueues them once Redis
is back; a browser whose socket dropped reconnects and gets a snapshot with the calls that
happened meanwhile."""

from __future__ import annotations

import time

import pytest

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.resilience.harness import (
    DeliveryLog,
    RedisServer,
    Watcher,
    call_events,
    deliver_until_accepted,
    session_cookie_for,
)
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

EXT = "400900101"


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_redis_restart_during_traffic(stack_factory, private_redis, subscription, watcher_user,
                                      record_property):
    stack = stack_factory({"REDIS_URL": private_redis.url})
    # A Celery worker holding unacknowledged (late-ack) tasks exits when its broker
    # connection breaks (kombu cannot restore them to a dead Redis): production runs it under
    # a supervisor that restarts it, and so does this test. What it held is swept again.
    stack.supervise()
    watcher = Watcher(stack.url, session_cookie_for(watcher_user), query="agent=all")
    token = subscription.verification_token
    before, during, _after = (
        call_events(subscription_id=subscription.rc_id, extension_id=EXT,
                    session_id=f"redis-{n}", first_sequence=1 + 3 * n)
        for n in range(3)
    )
    log = DeliveryLog()

    deliver_until_accepted(stack.url, token, before, log)
    watcher.wait_for(lambda h: any(m.get("call", {}).get("session_id") == "redis-0"
                                   and m["call"]["state"] == "ended" for m in h),
                     what="the first call to end in the browser")

    private_redis.stop()
    # The platform keeps delivering: ringing and connected of the second call.
    outage_log = DeliveryLog()
    deliver_until_accepted(stack.url, token, during[:2], outage_log, give_up_after=0)
    assert outage_log.statuses() == {200: 2}, "the webhook must answer while Redis is down"
    assert TelephonyEvent.objects.filter(uuid__in=[e["uuid"] for e in during[:2]]).count() == 2
    # The socket's channel layer is gone: the consumer closes it, as a browser would see.
    assert watcher.closed.wait(30), "the websocket should close when its channel layer dies"

    private_redis.start()
    # Stored while the broker was down; the sweeper enqueues them now.
    wait_until(
        lambda: Call.objects.filter(session_id="redis-1", state="connected").exists(),
        timeout=60, interval=0.25, what=f"the call received during the outage\n{stack.logs()}",
    )
    reconnect_attempts = watcher.reconnect()
    snapshot = {c["session_id"]: c["state"] for c in watcher.last_snapshot()}
    assert snapshot.get("redis-1") == "connected", snapshot

    # Traffic goes on after the restart: pushes reach the reconnected browser again.
    deliver_until_accepted(stack.url, token, during[2:] + _after, log)
    watcher.wait_for(
        lambda h: {m["call"]["session_id"] for m in h
                   if m["type"] == "call" and m["call"]["state"] == "ended"}
        >= {"redis-1", "redis-2"},
        timeout=60, what="the calls after the restart to end in the browser",
    )
    time.sleep(0.5)
    events = TelephonyEvent.objects.all()
    assert events.count() == 9
    assert not events.filter(processed_at__isnull=True).exists()
    assert set(Call.objects.values_list("state", flat=True)) == {"ended"}
    record_property("outage_acks", outage_log.statuses())
    record_property("process_restarts", dict(stack.restarts))
    record_property("reconnect_attempts", reconnect_attempts)
    record_property("outage_ack_max_seconds", max(d.seconds for d in outage_log.deliveries))
    watcher.close()
