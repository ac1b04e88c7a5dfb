"""RingOut: create, status progression (caller first, then callee), outcomes, cancel."""

import httpx
import pytest

from tests.support.sandbox import SandboxProcess

RING_OUT = "/restapi/v1.0/account/~/extension/~/ring-out"


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=10, call_log_lag=0, rate_limits={"enabled": False})
    return fresh_sandbox


def _create(client: httpx.Client, to: str, path: str = RING_OUT) -> dict:
    response = client.post(path, json={"from": {"phoneNumber": "+16505550102"},
                                       "to": {"phoneNumber": to}, "playPrompt": False})
    assert response.status_code == 200, response.text
    return response.json()


def _status_history(sandbox: SandboxProcess, client: httpx.Client, uri: str) -> list[tuple]:
    history: list[tuple] = []

    def final() -> bool:
        status = client.get(uri).json()["status"]
        triple = (status["callStatus"], status["callerStatus"], status["calleeStatus"])
        if not history or history[-1] != triple:
            history.append(triple)
        return status["callStatus"] != "InProgress"

    sandbox.wait_for(final)
    return history


def test_success_progresses_caller_then_callee(fast: SandboxProcess, agent: httpx.Client) -> None:
    created = _create(agent, "+16502008440")
    assert created["status"] == {"callStatus": "InProgress", "callerStatus": "InProgress",
                                 "calleeStatus": "InProgress"}
    assert created["uri"].endswith(f"/ring-out/{created['id']}")
    history = _status_history(fast, agent, created["uri"])
    assert history[0] == ("InProgress", "InProgress", "InProgress")
    assert ("InProgress", "Success", "InProgress") in history
    assert history[-1] == ("Success", "Success", "Success")
    ringout = next(r for r in fast.http.get("/sandbox/ringouts").json()
                   if r["id"] == created["id"])
    fast.wait_for(lambda: not fast.call(ringout["sessionId"])["active"])
    fast.wait_for(lambda: agent.get("/restapi/v1.0/account/~/extension/~/call-log", params={
        "sessionId": ringout["sessionId"]}).json()["records"])
    record = agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                       params={"sessionId": ringout["sessionId"], "view": "Detailed"}
                       ).json()["records"][0]
    assert record["direction"] == "Outbound" and record["action"] == "RingOut Web"
    assert record["result"] == "Call connected" and len(record["legs"]) == 2


@pytest.mark.parametrize(("number", "outcome", "result"), [
    ("+16505550191", "Busy", "Busy"),
    ("+16505550192", "NoAnswer", "No Answer"),
    ("+16505550193", "Rejected", "Rejected"),
    ("+16505550194", "CannotReach", "Call Failed"),
    ("+16505550195", "Error", "Call Failure"),
])
def test_failed_outcomes_by_number(fast: SandboxProcess, agent: httpx.Client, number: str,
                                   outcome: str, result: str) -> None:
    created = _create(agent, number)
    history = _status_history(fast, agent, created["uri"])
    assert history[-1] == (outcome, "Success", outcome)
    session = next(r["sessionId"] for r in fast.http.get("/sandbox/ringouts").json()
                   if r["id"] == created["id"])
    fast.wait_for(lambda: agent.get("/restapi/v1.0/account/~/extension/~/call-log", params={
        "sessionId": session}).json()["records"])
    record = agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                       params={"sessionId": session}).json()["records"][0]
    assert record["result"] == result


def test_outcome_by_config_and_tutorial_spelling(fast: SandboxProcess,
                                                 agent: httpx.Client) -> None:
    fast.config(ringout_outcome="NoAnswer")
    created = _create(agent, "+16502008440", path="/restapi/v1.0/account/~/extension/~/ringout")
    assert "/ringout/" in created["uri"]
    assert _status_history(fast, agent, created["uri"])[-1][0] == "NoAnswer"


def test_cancel_while_callee_rings(fast: SandboxProcess, agent: httpx.Client) -> None:
    fast.config(speed=1)
    created = _create(agent, "+16502008440")
    assert agent.delete(created["uri"]).status_code == 204
    assert agent.get(created["uri"]).status_code == 404
    calls = fast.calls()
    assert calls[0]["active"] is False


def test_bad_numbers_and_unknown_ids(agent: httpx.Client) -> None:
    missing = agent.post(RING_OUT, json={"to": {"phoneNumber": "+16502008440"}})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["errorCode"] == "CMN-100"
    bad = agent.post(RING_OUT, json={"from": {"phoneNumber": "+16505550102"},
                                     "to": {"phoneNumber": "call me maybe"}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["parameterName"] == "to.phoneNumber"
    assert agent.get(RING_OUT + "/12345").status_code == 404


def test_ringout_to_a_colleague_rings_their_extension(fast: SandboxProcess,
                                                      agent: httpx.Client) -> None:
    created = _create(agent, "103")
    assert _status_history(fast, agent, created["uri"])[-1][0] == "Success"
    session = next(r["sessionId"] for r in fast.http.get("/sandbox/ringouts").json()
                   if r["id"] == created["id"])
    legs = fast.call(session)["legs"]
    assert [(leg["extensionNumber"], leg["direction"]) for leg in legs] == [
        ("102", "Outbound"), ("103", "Inbound")]
    assert legs[1]["from"] == "102"


def test_caller_id_must_belong_to_the_extension(agent: httpx.Client) -> None:
    ok = agent.post(RING_OUT, json={"from": {"phoneNumber": "+14155550100"},
                                    "to": {"phoneNumber": "+16502008440"},
                                    "callerId": {"phoneNumber": "+16505550100"}})
    assert ok.status_code == 200
    refused = agent.post(RING_OUT, json={"from": {"phoneNumber": "+14155550100"},
                                         "to": {"phoneNumber": "+16502008440"},
                                         "callerId": {"phoneNumber": "+16505550103"}})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["parameterName"] == "callerId.phoneNumber"
