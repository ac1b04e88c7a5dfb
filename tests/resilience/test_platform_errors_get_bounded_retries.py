"""RingCentral answering 500, 503, timing out or storming 429: reads are retried a bounded
number of times with backoff, writes are never repeated, a 429 stops every request of its
group for the penalty (no request storm), and the pages say that RingCentral is slow while
everything else keeps working.

The platform is the sandbox with faults injected (``/sandbox/config`` ``faults``); requests
are counted by the sandbox itself."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent
from crm_cti.ringcentral.errors import PlatformUnavailable, RateLimited, ServerError
from crm_cti.telephony.services import calllog
from tests.accounts.signin_helpers import sign_in
from tests.support.people import call_make

pytestmark = pytest.mark.django_db

# Counted for docs/RELIABILITY.md ("faults injected").
INJECTED: dict[str, int] = {}


@pytest.fixture
def agent_signed_in(rc, client, settings):
    settings.RC_MAX_RETRIES = 2
    settings.RC_RETRY_BACKOFF_SECONDS = 0.05
    assert sign_in(client, username="102").status_code == 302
    return Agent.objects.get(extension_number="102")


def _count(rc, fragment: str, method: str = "") -> int:
    return sum(n for op, n in rc.stats()["by_operation"].items()
               if fragment in op and op.startswith(method))


def _fault(rc, **fault) -> None:
    rc.config(faults=[fault])
    key = f"{fault.get('status') or 'timeout'}"
    INJECTED[key] = INJECTED.get(key, 0) + 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_read_is_retried_twice_then_fails_typed(rc, agent_signed_in, status):
    _fault(rc, path_contains="/call-log", status=status)
    with pytest.raises(ServerError):
        client_for_agent(agent_signed_in).list_call_log()
    assert _count(rc, "call-log") == 3  # one request and RC_MAX_RETRIES retries, no more


def test_a_passing_blip_is_absorbed(rc, agent_signed_in):
    _fault(rc, path_contains="/call-log", status=503, times=1)
    assert "records" in client_for_agent(agent_signed_in).list_call_log()
    assert _count(rc, "call-log") == 2


def test_a_timeout_is_retried_then_reported_unavailable(rc, agent_signed_in, settings):
    settings.RC_TIMEOUT_SECONDS = 0.3
    _fault(rc, path_contains="/call-log", delay=1.0)
    with pytest.raises(PlatformUnavailable):
        client_for_agent(agent_signed_in).list_call_log()
    assert _count(rc, "call-log") == 3


def test_a_write_is_never_repeated(rc, agent_signed_in, client):
    _fault(rc, path_contains="/sms", status=503)
    response = client.post("/calls/sms/", {"from_number": agent_signed_in.sms_numbers[0],
                                           "to": "+14155550100", "text": "hello"},
                           HTTP_ACCEPT="application/json")
    assert response.json()["ok"] is False
    message = response.json()["errors"]["__all__"][0]["message"]
    assert message == "RingCentral is not answering; try again."
    assert _count(rc, "/sms", "POST") == 1
    assert rc.messages() == []


def test_a_429_storm_sends_one_request_per_penalty(rc, agent_signed_in, client,
                                                   record_property):
    _fault(rc, path_contains="/ring-out", status=429)
    answers = [client.post("/api/ringout/", {"to": "+14155550100", "from": "+16505550102"})
               for _ in range(20)]
    # The agent clicked twenty times: RingCentral saw one request, the rest waited.
    assert _count(rc, "ring-out", "POST") + _count(rc, "ringout", "POST") == 1
    assert {a.status_code for a in answers} == {429}
    assert all("slow down" in a.json()["error"] for a in answers)
    assert all(int(a["Retry-After"]) > 0 for a in answers)
    record_property("clicks", len(answers))
    record_property("requests_sent", 1)
    # Background work of the same group waits too and is rescheduled, not dropped.
    from django.utils import timezone

    call = call_make(agent_signed_in, enrichment="pending", enrich_due_at=timezone.now())
    wait = calllog.call_log_fetch(scope_key=f"agent:{agent_signed_in.pk}")
    assert wait is not None and wait > 1
    call.refresh_from_db()
    assert call.enrichment == "pending"
    assert _count(rc, "call-log") == 0
    with pytest.raises(RateLimited) as raised:
        client_for_agent(agent_signed_in).list_call_log()
    assert raised.value.sent is False


def test_pages_keep_working_while_ringcentral_is_down(rc, agent_signed_in, client):
    _fault(rc, path_contains="/restapi/v1.0", status=503)
    call_make(agent_signed_in, notes="still here")
    for path in ("/", "/calls/", "/contacts/"):
        assert client.get(path).status_code == 200, path
    ringout = client.post("/api/ringout/", {"to": "+14155550100", "from": "+16505550102"})
    assert ringout.status_code == 502
    assert ringout.json()["error"] == "RingCentral is not answering; try again."
