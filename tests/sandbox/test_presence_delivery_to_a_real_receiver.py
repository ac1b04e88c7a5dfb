"""Presence events reach a real local receiver: envelope, Verification-Token, sequence,
activeCalls, retries and blacklisting, and the delivery log."""

import httpx

from tests.sandbox.conftest import ACCOUNT_PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.support.sandbox import SandboxProcess


def _wait(sandbox: SandboxProcess, receiver: Receiver, count: int) -> list[dict]:
    sandbox.wait_for(lambda: len(receiver.received) >= count)
    return receiver.bodies()


def test_answered_call_events(fresh_sandbox: SandboxProcess, agent: httpx.Client,
                              receiver: Receiver) -> None:
    fresh_sandbox.config(speed=20)
    sub = subscribe(agent, receiver, token="s3cret")
    call = fresh_sandbox.start_call("inbound_answered", extension="102",
                                    **{"from": "+16504445567", "name": "Phillip Marco"})
    events = _wait(fresh_sandbox, receiver, 3)
    assert [e["body"]["telephonyStatus"] for e in events] == [
        "Ringing", "CallConnected", "NoCall"]
    for item in receiver.received:
        assert item["headers"]["Verification-Token"] == "s3cret"
    first = events[0]
    assert set(first) == {"uuid", "event", "timestamp", "subscriptionId", "ownerId", "body"}
    assert first["subscriptionId"] == sub["id"] and first["ownerId"] == "400000102"
    assert first["event"] == ("/restapi/v1.0/account/400000001/extension/400000102/presence"
                              "?detailedTelephonyState=true")
    sequences = [e["body"]["sequence"] for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    entry = first["body"]["activeCalls"][0]
    assert entry["sessionId"] == call["sessionId"]
    assert entry["direction"] == "Inbound" and entry["from"] == "+16504445567"
    assert entry["fromName"] == "Phillip Marco" and entry["to"] == "+16505550102"
    assert events[2]["body"]["activeCalls"][0]["telephonyStatus"] == "NoCall"
    assert len({e["uuid"] for e in events}) == 3
    # The receiver sees a body before the sandbox logs the attempt's response.
    fresh_sandbox.wait_for(lambda: len(fresh_sandbox.deliveries(sub["id"])) == 3)
    log = fresh_sandbox.deliveries(sub["id"])
    assert [d["status"] for d in log] == [200, 200, 200]
    assert all(d["latency_ms"] >= 0 and d["attempt"] == 1 for d in log)


def test_account_level_subscription_gets_every_extension(
    fresh_sandbox: SandboxProcess, admin: httpx.Client, receiver: Receiver,
) -> None:
    fresh_sandbox.config(speed=20)
    subscribe(admin, receiver, [ACCOUNT_PRESENCE])
    fresh_sandbox.start_call("inbound_missed", extension="103")
    fresh_sandbox.start_call("inbound_missed", extension="104")
    events = _wait(fresh_sandbox, receiver, 4)
    assert {e["body"]["extensionId"] for e in events} == {"400000103", "400000104"}
    assert all(e["ownerId"] == "400000101" for e in events)
    assert any("/extension/400000104/presence" in e["event"] for e in events)


def test_failing_receiver_is_retried_then_blacklisted(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    fresh_sandbox.config(speed=50, delivery_attempts=2, delivery_retry_delay=0.05,
                         blacklist_after=2)
    broken = Receiver(status=500).start()
    try:
        sub = subscribe(agent, broken)
        fresh_sandbox.start_call("inbound_answered", extension="102")
        fresh_sandbox.wait_for(lambda: agent.get(
            f"/restapi/v1.0/subscription/{sub['id']}").json()["status"] == "Blacklisted")
        body = agent.get(f"/restapi/v1.0/subscription/{sub['id']}").json()
        assert "blacklistedData" in body
        log = fresh_sandbox.deliveries(sub["id"])
        assert [(d["attempt"], d["status"]) for d in log[:4]] == [
            (1, 500), (2, 500), (1, 500), (2, 500)]
        # A blacklisted subscription gets nothing more; an update reactivates it.
        broken.status = 200
        revived = agent.put(f"/restapi/v1.0/subscription/{sub['id']}",
                            json={"eventFilters": body["eventFilters"]})
        assert revived.json()["status"] == "Active"
    finally:
        broken.stop()


def test_slow_receiver_times_out_and_is_retried(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    fresh_sandbox.config(delivery_timeout=0.3, delivery_attempts=2, delivery_retry_delay=0.0)
    slow = Receiver(delay=0.6).start()
    try:
        sub = subscribe(agent, slow)
        fresh_sandbox.notify("102", {"telephonyStatus": "NoCall", "sequence": 1})
        fresh_sandbox.wait_for(lambda: len(fresh_sandbox.deliveries(sub["id"])) >= 2)
        log = fresh_sandbox.deliveries(sub["id"])
        assert [d["status"] for d in log[:2]] == [None, None]
        assert "timeout" in log[0]["error"]
    finally:
        slow.stop()


def test_notify_delivers_a_body_exactly_as_given(
    fresh_sandbox: SandboxProcess, agent: httpx.Client, receiver: Receiver,
) -> None:
    subscribe(agent, receiver)
    raw = {"extensionId": 400000102, "telephonyStatus": "Ringing", "sequence": 7,
           "activeCalls": [{"sessionId": "1", "custom": [1, 2]}]}
    assert fresh_sandbox.notify("102", raw) == {"queued": 1}
    assert _wait(fresh_sandbox, receiver, 1)[0]["body"] == raw
