"""Scenarios replay the seeds' event flows in shape, and the other call situations."""

import httpx
import pytest

from tests.sandbox.conftest import subscribe
from tests.sandbox.receiver import Receiver
from tests.support.sandbox import SandboxProcess


def _flow(sandbox: SandboxProcess, receiver: Receiver, count: int,
          extension_id: str = "400000102") -> list[dict]:
    sandbox.wait_for(lambda: len([b for b in receiver.bodies()
                                  if b["body"]["extensionId"] == extension_id]) >= count)
    return [b["body"] for b in receiver.bodies() if b["body"]["extensionId"] == extension_id]


def _statuses(bodies: list[dict], session_id: str) -> list[str]:
    return [next(c["telephonyStatus"] for c in b["activeCalls"] if c["sessionId"] == session_id)
            for b in bodies if any(c["sessionId"] == session_id for c in b["activeCalls"])]


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20, call_log_lag=0)
    return fresh_sandbox


def test_missed_inbound_call_seed_flow_1(fast: SandboxProcess, agent: httpx.Client,
                                         receiver: Receiver) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("inbound_missed", extension="102")
    bodies = _flow(fast, receiver, 2)
    assert [b["telephonyStatus"] for b in bodies] == ["Ringing", "NoCall"]
    assert _statuses(bodies, call["sessionId"]) == ["Ringing", "NoCall"]
    assert bodies[0]["activeCalls"][0]["id"] == bodies[1]["activeCalls"][0]["id"]
    assert bodies[1]["activeCalls"][0]["terminationType"] == "final"


def test_answered_inbound_call_seed_flow_2(fast: SandboxProcess, agent: httpx.Client,
                                           receiver: Receiver) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("inbound_answered", extension="102")
    bodies = _flow(fast, receiver, 3)
    assert _statuses(bodies, call["sessionId"]) == ["Ringing", "CallConnected", "NoCall"]


def test_two_legged_ringout_seed_flow_3(fast: SandboxProcess, agent: httpx.Client,
                                        receiver: Receiver) -> None:
    subscribe(agent, receiver)
    created = agent.post("/restapi/v1.0/account/~/extension/~/ring-out", json={
        "from": {"phoneNumber": "+16505550102"}, "to": {"phoneNumber": "+16502008440"}})
    assert created.status_code == 200, created.text
    bodies = _flow(fast, receiver, 3)
    entries = [b["activeCalls"][0] for b in bodies]
    assert [e["telephonyStatus"] for e in entries] == ["Ringing", "CallConnected", "NoCall"]
    assert {(e["direction"], e["from"], e["to"]) for e in entries} == {
        ("Outbound", "+16505550102", "+16502008440")}


def test_voicemail(fast: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("inbound_voicemail", extension="102")
    bodies = _flow(fast, receiver, 2)
    assert _statuses(bodies, call["sessionId"]) == ["Ringing", "NoCall"]
    fast.wait_for(lambda: agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                                    params={"sessionId": call["sessionId"]}).json()["records"])
    record = agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                       params={"sessionId": call["sessionId"]}).json()["records"][0]
    assert record["result"] == "Voicemail"


def test_several_devices_ringing_has_a_transitional_nocall(
    fast: SandboxProcess, agent: httpx.Client, receiver: Receiver,
) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("multi_device", extension="102")
    bodies = _flow(fast, receiver, 5)
    assert _statuses(bodies, call["sessionId"]) == [
        "Ringing", "NoCall", "Ringing", "CallConnected", "NoCall"]
    assert bodies[1]["activeCalls"][0]["terminationType"] == "intermediate"
    assert bodies[4]["activeCalls"][0]["terminationType"] == "final"


def test_a_call_can_leave_out_the_deprecated_termination_markers(
    fast: SandboxProcess, agent: httpx.Client, receiver: Receiver,
) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("multi_device", extension="102", termination_markers=False)
    bodies = _flow(fast, receiver, 5)
    assert _statuses(bodies, call["sessionId"]) == [
        "Ringing", "NoCall", "Ringing", "CallConnected", "NoCall"]
    assert not any("terminationType" in leg for b in bodies for leg in b["activeCalls"])


def test_hold_and_resume(fast: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("hold_resume", extension="102")
    bodies = _flow(fast, receiver, 5)
    assert _statuses(bodies, call["sessionId"]) == [
        "Ringing", "CallConnected", "OnHold", "CallConnected", "NoCall"]
    assert bodies[2]["telephonyStatus"] == "OnHold"


def test_two_concurrent_calls_on_one_extension(
    fast: SandboxProcess, agent: httpx.Client, receiver: Receiver,
) -> None:
    subscribe(agent, receiver)
    started = fast.start_call("concurrent", extension="102")
    first, second = started["sessionIds"]
    bodies = _flow(fast, receiver, 8)
    both = [b for b in bodies if len(b["activeCalls"]) == 2]
    assert both, "some events must carry both calls"
    assert {c["sessionId"] for c in both[0]["activeCalls"]} == {first, second}
    assert _statuses(bodies, first)[-1] == "NoCall"
    seen = _statuses(bodies, second)
    collapsed = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert collapsed == ["Ringing", "CallConnected", "NoCall"]
    assert "OnHold" in _statuses(bodies, first)
    assert bodies[-1]["activeCalls"] == [c for c in bodies[-1]["activeCalls"]
                                         if c["sessionId"] == first]


def test_internal_call_uses_short_numbers_on_both_sides(
    fast: SandboxProcess, receiver: Receiver,
) -> None:
    with fast.api("101") as admin:
        subscribe(admin, receiver, ["/restapi/v1.0/account/~/presence?detailedTelephonyState=true"])
    call = fast.start_call("internal", extension="103", **{"from": "102"})
    callee = _flow(fast, receiver, 3, "400000103")
    caller = _flow(fast, receiver, 3, "400000102")
    assert _statuses(callee, call["sessionId"]) == ["Ringing", "CallConnected", "NoCall"]
    assert callee[0]["activeCalls"][0]["direction"] == "Inbound"
    assert caller[0]["activeCalls"][0]["direction"] == "Outbound"
    assert {(callee[0]["activeCalls"][0]["from"], callee[0]["activeCalls"][0]["to"])} == {
        ("102", "103")}


def test_interactive_control(fast: SandboxProcess, agent: httpx.Client,
                             receiver: Receiver) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("interactive", extension="102", **{"from": "+14155550199"})
    sid = call["sessionId"]
    fast.call_action(sid, "answer")
    fast.call_action(sid, "hold")
    fast.call_action(sid, "resume")
    ended = fast.call_action(sid, "hangup")
    assert ended["active"] is False and ended["legs"][0]["result"] == "Accepted"
    bodies = _flow(fast, receiver, 5)
    assert _statuses(bodies, sid) == ["Ringing", "CallConnected", "OnHold", "CallConnected",
                                      "NoCall"]
    again = fast.http.post(f"/sandbox/calls/{sid}/answer")
    assert again.status_code == 409
    assert fast.http.post("/sandbox/calls/nope/answer").status_code == 404


def test_bad_scenario_requests(fresh_sandbox: SandboxProcess) -> None:
    for payload in ({"scenario": "nope", "extension": "102"},
                    {"scenario": "inbound_answered", "extension": "999"},
                    {"scenario": "internal", "extension": "102", "from": "+16504445567"},
                    {"scenario": "inbound_answered", "extension": "102", "faults": ["chaos"]},
                    {"extension": "102"}):
        response = fresh_sandbox.http.post("/sandbox/calls", json=payload)
        assert response.status_code == 400, payload
        assert response.json()["error"]


def test_outbound_call_from_the_agents_phone(fast: SandboxProcess, agent: httpx.Client,
                                             receiver: Receiver) -> None:
    subscribe(agent, receiver)
    call = fast.start_call("outbound", extension="102", to="+14155550177")
    bodies = _flow(fast, receiver, 3)
    assert _statuses(bodies, call["sessionId"]) == ["Ringing", "CallConnected", "NoCall"]
    entry = bodies[0]["activeCalls"][0]
    assert (entry["direction"], entry["from"], entry["to"]) == (
        "Outbound", "+16505550102", "+14155550177")


def test_controlling_one_concurrent_call_stops_the_script_for_both(
    fast: SandboxProcess,
) -> None:
    fast.config(speed=1)
    started = fast.start_call("concurrent", extension="102")
    first, second = started["sessionIds"]
    fast.call_action(first, "answer")
    fast.call_action(first, "hangup")
    assert fast.call(first)["active"] is False
    assert second not in [c["sessionId"] for c in fast.calls()]


def test_an_invalid_action_leaves_the_script_running(fast: SandboxProcess) -> None:
    call = fast.start_call("inbound_answered", extension="102")
    refused = fast.http.post(f"/sandbox/calls/{call['sessionId']}/resume")
    assert refused.status_code == 409
    fast.wait_for(lambda: not fast.call(call["sessionId"])["active"])
    assert fast.call(call["sessionId"])["legs"][0]["result"] == "Accepted"
