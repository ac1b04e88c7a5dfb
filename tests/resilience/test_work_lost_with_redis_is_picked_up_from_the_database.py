"""Work that lived only in the broker is picked up again from the database when Redis
restarts and loses it: the first subscription of an agent who just signed in (beat's
maintenance creates it) and a RingOut being polled (the RingOut sweep polls it again until
its status is final). Real processes on a private Redis that is restarted for real."""

from __future__ import annotations

import pytest
import requests

from crm_cti.telephony.models import RingOut, Subscription
from tests.resilience.harness import RedisServer, http_sign_in
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_a_signin_and_a_ringout_survive_a_redis_restart(stack_factory, private_redis,
                                                        fresh_sandbox, record_property):
    sandbox = fresh_sandbox
    sandbox.config(speed=10, rate_limits={"enabled": False})
    # No worker yet: what the web process queues waits in Redis, and is lost with it.
    stack = stack_factory({
        "REDIS_URL": private_redis.url,
        "RC_SERVER_URL": sandbox.url,
        "SUBSCRIPTION_CHECK_INTERVAL_SECONDS": "2",
    }, worker=False, beat=False)
    browser = http_sign_in(stack.url, "102")
    response = browser.post(stack.url + "/api/ringout/",
                            json={"to": "+14155550100", "from": "+16505550102"}, timeout=10)
    assert response.status_code == 201, response.text
    ringout_id = response.json()["ringout"]["id"]
    assert response.json()["ringout"]["final"] is False
    assert not Subscription.objects.exists()  # its creation is a task, still in the broker

    private_redis.restart()  # the sign-in's task and the RingOut's next poll are gone
    stack.start_worker()
    stack.start_beat()

    wait_until(
        lambda: Subscription.objects.filter(agent__extension_number="102", status="Active")
        .exclude(rc_id="").exists(),
        timeout=90, interval=0.5, what=f"the agent's first subscription\n{stack.logs()}",
    )
    sub = Subscription.objects.get(agent__extension_number="102")
    assert [s["id"] for s in sandbox.subscriptions() if s["status"] == "Active"] == [sub.rc_id]

    wait_until(
        lambda: RingOut.objects.filter(pk=ringout_id, finished_at__isnull=False).exists(),
        timeout=90, interval=0.5, what=f"the RingOut to be polled to its end\n{stack.logs()}",
    )
    ringout = RingOut.objects.get(pk=ringout_id)
    assert ringout.call_status == "Success", ringout.call_status
    record_property("ringout_polls", ringout.polls)
    assert requests.get(stack.url + "/healthz", timeout=5).status_code in (200, 503)
