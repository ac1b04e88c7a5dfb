"""The events process's lease: one holder per owner; the other is refused until the
holder lets go or stops renewing; only the holder renews or releases it. Real Redis in
distributed mode, the owner's database row in embedded mode."""

from __future__ import annotations

import time

import pytest

from crm_cti.telephony.websocket.lease import Lease

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_lease(settings):
    settings.EVENTS_LEASE_SECONDS = 2.0
    return settings.EVENTS_LEASE_SECONDS


def test_one_holder_until_released(short_lease) -> None:
    first, second = Lease("agent:901", "host:1:a"), Lease("agent:901", "host:2:b")
    assert first.acquire()
    assert not second.acquire() and not second.renew()
    assert first.renew() and first.acquire()  # its own lease, still
    second.release()  # not its own: changes nothing
    assert not second.acquire()
    first.release()
    assert second.acquire() and not first.renew()
    second.release()


def test_a_holder_that_stops_renewing_is_taken_over(short_lease) -> None:
    dead, standby = Lease("account", "host:1:a"), Lease("account", "host:2:b")
    assert dead.acquire()
    deadline = time.monotonic() + 4 * short_lease
    while not standby.acquire():
        assert time.monotonic() < deadline, "the standby never got the lease"
        time.sleep(0.2)
    # The old holder learns it lost the owner at its next renewal.
    assert not dead.renew()
    standby.release()


def test_owners_are_independent(short_lease) -> None:
    one, other = Lease("agent:1", "host:1:a"), Lease("agent:2", "host:2:b")
    assert one.acquire() and other.acquire()
    one.release()
    other.release()
