"""Delivery faults asked for per call: out of order, duplicated, dropped, slow."""

import httpx
import pytest

from tests.sandbox.conftest import subscribe
from tests.sandbox.receiver import Receiver
from tests.support.sandbox import SandboxProcess


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20)
    return fresh_sandbox


def _statuses(receiver: Receiver) -> list[str]:
    return [b["body"]["telephonyStatus"] for b in receiver.bodies()]


def test_out_of_order(fast: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    subscribe(agent, receiver)
    fast.start_call("inbound_answered", extension="102", faults=["out_of_order"])
    fast.wait_for(lambda: len(receiver.received) >= 3)
    assert _statuses(receiver) == ["CallConnected", "Ringing", "NoCall"]
    sequences = [b["body"]["sequence"] for b in receiver.bodies()]
    assert sequences[0] > sequences[1] < sequences[2]
    assert [d["fault"] for d in fast.deliveries()][1] == "out_of_order"


def test_duplicate_keeps_the_uuid(fast: SandboxProcess, agent: httpx.Client,
                                  receiver: Receiver) -> None:
    subscribe(agent, receiver)
    fast.start_call("inbound_answered", extension="102",
                    faults=[{"type": "duplicate", "index": 1}])
    fast.wait_for(lambda: len(receiver.received) >= 4)
    assert _statuses(receiver) == ["Ringing", "CallConnected", "CallConnected", "NoCall"]
    uuids = [b["uuid"] for b in receiver.bodies()]
    assert uuids[1] == uuids[2] and len(set(uuids)) == 3


def test_drop_one_event(fast: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    subscribe(agent, receiver)
    fast.start_call("inbound_answered", extension="102", faults=["drop"])
    fast.wait_for(lambda: not fast.call(fast.calls()[0]["sessionId"])["active"])
    fast.wait_for(lambda: len(receiver.received) >= 2)
    assert _statuses(receiver) == ["Ringing", "NoCall"]
    sequences = [b["body"]["sequence"] for b in receiver.bodies()]
    assert sequences[1] - sequences[0] == 2, "the dropped event still used a sequence number"


def test_slow_delivery(fast: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    subscribe(agent, receiver)
    fast.start_call("inbound_missed", extension="102",
                    faults=[{"type": "slow", "delay": 0.5}])
    fast.wait_for(lambda: len(receiver.received) >= 2)
    assert _statuses(receiver) == ["Ringing", "NoCall"]
    assert {d["fault"] for d in fast.deliveries()} == {"slow"}
