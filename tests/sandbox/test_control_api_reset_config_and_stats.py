"""The control API: reset to the seeded account, config validation, stats, call-log inject."""

import httpx

from tests.support.sandbox import SandboxProcess


def test_reset_forgets_everything(fresh_sandbox: SandboxProcess) -> None:
    token = fresh_sandbox.token("102")
    fresh_sandbox.config(speed=5)
    fresh_sandbox.start_call("interactive", extension="102")
    fresh_sandbox.reset()
    assert fresh_sandbox.calls() == [] and fresh_sandbox.tokens() == []
    assert fresh_sandbox.config()["speed"] == 1.0
    me = httpx.get(fresh_sandbox.url + "/restapi/v1.0/account/~/extension/~",
                   headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 401


def test_config_rejects_unknown_or_bad_values(fresh_sandbox: SandboxProcess) -> None:
    for payload in ({"nope": 1}, {"rate_limits": {"Ultra": 3}}, {"speed": 0},
                    {"ringout_outcome": "Maybe"}, {"faults": "all"}):
        response = fresh_sandbox.http.post("/sandbox/config", json=payload)
        assert response.status_code == 400, payload
        assert response.json()["error"]
    updated = fresh_sandbox.config(rate_limits={"Heavy": 3}, call_log_lag=1)
    assert updated["rate_limits"]["Heavy"] == 3 and updated["rate_limits"]["Light"] == 50
    assert updated["call_log_lag"] == 1


def test_stats_shape(fresh_sandbox: SandboxProcess) -> None:
    with fresh_sandbox.api("102") as agent:
        agent.get("/restapi/v1.0/account/~/extension/~")
    stats = fresh_sandbox.stats()
    assert stats["requests"] == {"Auth": 1, "Light": 1}
    assert stats["throttled"] == {}
    assert stats["by_operation"] == {
        "POST /restapi/oauth/token": 1,
        "GET /restapi/v1.0/account/{accountId}/extension/{extensionId}": 1}
    assert stats["token_grants"] == {"authorization_code": 0, "refresh_token": 0, "jwt": 1,
                                     "password": 0}
    assert stats["refresh_failures"] == 0 and stats["revocations"] == 0
    assert stats["ws_connections"] == {}


def test_call_log_injection(fresh_sandbox: SandboxProcess) -> None:
    created = fresh_sandbox.inject_call_log("103", 40, seed=1)
    assert created["created"] == 40
    assert any(r["recordingId"] for r in created["records"])
    bad = fresh_sandbox.http.post("/sandbox/calllog", json={"extension": "999"})
    assert bad.status_code == 400
    fresh_sandbox.config(rate_limits={"enabled": False})
    with fresh_sandbox.api("103") as agent:
        records = agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                            params={"dateFrom": "2020-01-01", "perPage": 1000}
                            ).json()["records"]
    assert len(records) == 40


def test_unrecorded_calls_have_no_recording(fresh_sandbox: SandboxProcess) -> None:
    fresh_sandbox.config(speed=50, call_log_lag=0, rate_limits={"enabled": False})
    call = fresh_sandbox.start_call("inbound_answered", extension="102", talk_seconds=45,
                                    record=False)
    fresh_sandbox.wait_for(lambda: not fresh_sandbox.call(call["sessionId"])["active"])
    assert fresh_sandbox.call(call["sessionId"])["recordingId"] is None
