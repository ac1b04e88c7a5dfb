"""Whatever a client sends to a Call Control route, the answer is never a 500: a body of any
shape, type or content gets a success or the platform's error body, valid against the spec's
schema for that status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox.session_helpers import TELEPHONY, device_id, party_of
from tests.sandbox.spec import _validator, load_or_skip
from tests.support.sandbox import SandboxProcess

A = "/restapi/v1.0/account/{accountId}/telephony"
P = A + "/sessions/{telephonySessionId}/parties/{partyId}"
ACTIONS = ["hold", "unhold", "answer", "pickup", "reject", "ignore", "transfer", "forward",
           "reply", "park", "bridge", "recordings"]
KEYS = ["deviceId", "extensionNumber", "extensionId", "phoneNumber", "voicemail", "parkOrbit",
        "replyWithText", "replyWithPattern", "telephonySessionId", "partyId", "active",
        "from", "to", "proto"]

leaves = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
          | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
          | st.sampled_from(["103", "999", "*801", "+14155550100", "400000103", ""]))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner,
                                        max_size=3), max_leaves=6)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=3) | values


@pytest.fixture
def live(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    load_or_skip()
    fresh_sandbox.config(rate_limits={"enabled": False})
    return fresh_sandbox


def _call(sandbox: SandboxProcess, client: httpx.Client, state: dict[str, Any]) -> None:
    """A live call answered on 102 (a new one once the fuzzing ended the last)."""
    current = state.get("call")
    if current and not sandbox.call(current["sessionId"])["endTime"]:
        return
    call = sandbox.start_call("interactive", extension="102", ring_seconds=600)
    sandbox.wait_for(lambda: sandbox.call(call["sessionId"])["legs"][0]["telephonyStatus"]
                     == "Ringing")
    party = party_of(client, call["telephonySessionId"], "400000102")
    client.post(f"{TELEPHONY}/sessions/{call['telephonySessionId']}/parties/{party['id']}"
                "/answer", json={"deviceId": device_id(client)})
    state.update(call=call, party=party)


def test_any_body_to_any_party_operation(live: SandboxProcess, agent: httpx.Client) -> None:
    state: dict[str, Any] = {}

    @settings(max_examples=120, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(action=st.sampled_from([*ACTIONS, "call-out", "recordings/1"]), body=bodies,
           raw=st.none() | st.binary(max_size=30))
    def run(action: str, body: Any, raw: bytes | None) -> None:
        _call(live, agent, state)
        call, party = state["call"], state["party"]
        base = f"{TELEPHONY}/sessions/{call['telephonySessionId']}/parties/{party['id']}"
        content = raw if raw is not None else httpx.Request("POST", "/", json=body).content
        headers = {"Content-Type": "application/json"}
        if action == "call-out":
            response = agent.post(f"{TELEPHONY}/call-out", content=content, headers=headers)
            template = A + "/call-out"
        elif action == "recordings/1":
            response = agent.patch(base + "/recordings/1", content=content, headers=headers)
            template = P + "/recordings/{recordingId}"
        else:
            response = agent.post(f"{base}/{action}", content=content, headers=headers)
            template = f"{P}/{action}"
        assert response.status_code < 500, (action, body, response.text)
        method = "PATCH" if action == "recordings/1" else "POST"
        if response.status_code >= 400:
            validator = _validator(method, template, response.status_code, "application/json")
            assert response.json()["errors"][0]["errorCode"]
            if validator is not None:
                errors = list(validator.iter_errors(response.json()))
                assert not errors, errors[0].message

    run()
