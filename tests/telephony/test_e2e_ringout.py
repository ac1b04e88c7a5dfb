"""RingOut from the server: POST /api/ringout/, status pushed on /ws/agent/, DELETE cancels."""

import pytest

from crm_cti.telephony.models import RingOut

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _ringouts(sock):
    return [m["ringout"] for m in sock.drain() if m["type"] == "ringout"]


def test_ringout_is_polled_until_final_and_pushed(pipeline):
    agent = pipeline.sign_in("102")
    pipeline.subscribe(agent)
    sock = pipeline.socket(agent)
    http = pipeline.http(agent)
    response = http.post(pipeline.url + "/api/ringout/",
                         json={"to": "+14155550100", "from": "+16505550102"}, timeout=10)
    assert response.status_code == 201, response.text
    ringout = response.json()["ringout"]
    assert ringout["to"] == "+14155550100"
    assert ringout["final"] is False
    sock.wait_for(lambda _h: any(r["final"] for r in _ringouts(sock)), timeout=60,
                  what="the RingOut to reach a final status")
    final = [r for r in _ringouts(sock) if r["final"]][-1]
    assert final["id"] == ringout["id"]
    assert final["status"] == "Success"
    assert final["callee_status"] == "Success"
    stored = RingOut.objects.get(pk=ringout["id"])
    assert stored.finished_at is not None
    # Never faster than every 3 s: a 0.4 s + 0.4 s + 0.8 s call needs very few polls.
    assert stored.polls <= 3
    # The RingOut also shows as an outbound call through the presence events.
    sock.wait_for(
        lambda h: any(m["type"] == "call" and m["call"]["direction"] == "outbound"
                      and m["call"]["state"] == "ended" for m in h),
        timeout=60, what="the RingOut's call card",
    )


def test_ringout_can_be_cancelled_while_the_callee_rings(pipeline):
    pipeline.sandbox.config(speed=1)
    agent = pipeline.sign_in("102")
    sock = pipeline.socket(agent)
    http = pipeline.http(agent)
    created = http.post(pipeline.url + "/api/ringout/",
                        json={"to": "+16505550192", "from": "+16505550102"}, timeout=10)
    assert created.status_code == 201, created.text
    ringout_id = created.json()["ringout"]["id"]
    cancelled = http.delete(f"{pipeline.url}/api/ringout/{ringout_id}/", timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["ringout"]["final"] is True
    assert cancelled.json()["ringout"]["status"] == "Cancelled"
    sock.wait_for(lambda _h: any(r["final"] for r in _ringouts(sock)), timeout=30,
                  what="the cancellation to be pushed")
    assert not [r for r in pipeline.sandbox.http.get("/sandbox/ringouts").json()
                if str(r.get("id")) == created.json()["ringout"]["rc_id"]]


def test_ringout_with_a_bad_number_is_400(pipeline):
    agent = pipeline.sign_in("102")
    http = pipeline.http(agent)
    response = http.post(pipeline.url + "/api/ringout/", json={"to": "12", "from": "nope"},
                         timeout=10)
    assert response.status_code == 400
    assert "from" in response.json()["errors"]
    assert RingOut.objects.count() == 0


def test_ringout_needs_a_signed_in_agent(pipeline):
    response = pipeline.stack.app.post("/api/ringout/", json={"to": "+14155550100"})
    assert response.status_code in (401, 403)
