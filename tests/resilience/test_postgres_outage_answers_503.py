"""PostgreSQL unreachable for a moment (a proxy between the product and the database is
cut): the webhook answers 503, so RingCentral redelivers, and never 200 for an event it did
not keep; once the database is back the redelivered events are stored and applied."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.resilience.harness import (
    DeliveryLog,
    TcpProxy,
    call_events,
    database_url_via,
    deliver,
    deliver_until_accepted,
)
from tests.support.stack import database_url_for_tests, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

EXT = "400900201"


@pytest.fixture
def pg_proxy(distributed_mode):
    target = urlparse(database_url_for_tests())
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.start()
    yield proxy
    proxy.close()


def test_postgres_outage(stack_factory, pg_proxy, subscription, record_property):
    import requests

    stack = stack_factory({"DATABASE_URL": database_url_via(pg_proxy.port)})
    token = subscription.verification_token
    first, second = (
        call_events(subscription_id=subscription.rc_id, extension_id=EXT,
                    session_id=f"pg-{n}", first_sequence=1 + 3 * n)
        for n in range(2)
    )
    log = DeliveryLog()
    deliver_until_accepted(stack.url, token, first, log)

    pg_proxy.cut()
    outage = DeliveryLog()
    session = requests.Session()
    for event in second:
        for _attempt in range(3):
            deliver(session, stack.url, token, event, outage)
    statuses = outage.statuses()
    assert 200 not in statuses, f"200 for an event that could not be stored: {statuses}"
    assert set(statuses) == {503}, statuses
    # The health check tells the load balancer too.
    assert requests.get(stack.url + "/healthz", timeout=10).status_code == 503

    pg_proxy.restore()
    # RingCentral redelivers what was not answered 200.
    deliver_until_accepted(stack.url, token, second, log)
    wait_until(
        lambda: not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
        and TelephonyEvent.objects.count() == 6,
        timeout=60, interval=0.25, what=f"every event to be applied\n{stack.logs()}",
    )
    assert set(Call.objects.values_list("session_id", "state")) == {
        ("pg-0", "ended"), ("pg-1", "ended")
    }
    record_property("outage_deliveries", len(outage.deliveries))
