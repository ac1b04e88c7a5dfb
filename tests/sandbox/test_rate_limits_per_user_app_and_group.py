"""Rate limits: per user, per app, per throttling group; headers; 429 with Retry-After."""

import httpx

from tests.support.sandbox import SandboxProcess

HEAVY = "/restapi/v1.0/account/~/extension/~/call-log"
LIGHT = "/restapi/v1.0/account/~/extension/~"


def test_headers_on_every_response(agent: httpx.Client) -> None:
    response = agent.get(LIGHT)
    assert response.headers["X-Rate-Limit-Group"] == "Light"
    assert response.headers["X-Rate-Limit-Limit"] == "50"
    assert response.headers["X-Rate-Limit-Window"] == "60"
    assert int(response.headers["X-Rate-Limit-Remaining"]) == 49
    heavy = agent.get(HEAVY)
    assert heavy.headers["X-Rate-Limit-Group"] == "Heavy"
    assert heavy.headers["X-Rate-Limit-Limit"] == "10"


def test_429_after_the_limit_with_penalty(fresh_sandbox: SandboxProcess,
                                          agent: httpx.Client) -> None:
    fresh_sandbox.config(rate_limits={"Heavy": 3, "penalty": 30})
    remaining = [agent.get(HEAVY).headers["X-Rate-Limit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    throttled = agent.get(HEAVY)
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["errorCode"] == "CMN-301" and body["message"] == "Request rate exceeded"
    assert body["errors"][0]["errorCode"] == "CMN-301"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 30
    assert throttled.headers["X-Rate-Limit-Group"] == "Heavy"
    # Other groups and other users are unaffected.
    assert agent.get(LIGHT).status_code == 200
    with fresh_sandbox.api("103") as other:
        assert other.get(HEAVY).status_code == 200
    stats = fresh_sandbox.stats()
    assert stats["throttled"]["Heavy"] == 1
    assert stats["requests"]["Heavy"] >= 5
    assert stats["by_operation"][
        "GET /restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log"] == 5


def test_auth_group_limits_token_requests(fresh_sandbox: SandboxProcess) -> None:
    fresh_sandbox.config(rate_limits={"Auth": 2})
    fresh_sandbox.token("104")
    fresh_sandbox.token("104")
    response = fresh_sandbox.http.post(
        "/restapi/oauth/token", auth=(fresh_sandbox.client_id, fresh_sandbox.client_secret),
        data={"grant_type": "password", "username": "104", "password": "ringcentral"})
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert response.headers["X-Rate-Limit-Group"] == "Auth"


def test_limits_can_be_switched_off(fresh_sandbox: SandboxProcess, agent: httpx.Client) -> None:
    fresh_sandbox.config(rate_limits={"enabled": False, "Heavy": 1})
    assert [agent.get(HEAVY).status_code for _ in range(4)] == [200] * 4


def test_ringout_create_is_heavy_and_status_light(agent: httpx.Client) -> None:
    created = agent.post("/restapi/v1.0/account/~/extension/~/ring-out", json={
        "from": {"phoneNumber": "+16505550102"}, "to": {"phoneNumber": "+16502008440"}})
    assert created.headers["X-Rate-Limit-Group"] == "Heavy"
    status = agent.get(created.json()["uri"])
    assert status.headers["X-Rate-Limit-Group"] == "Light"


def test_platform_faults_for_resilience_tests(fresh_sandbox: SandboxProcess,
                                              agent: httpx.Client) -> None:
    fresh_sandbox.config(faults=[{"path_contains": "/call-log", "method": "GET",
                                  "status": 503, "times": 2}])
    assert [agent.get(HEAVY).status_code for _ in range(3)] == [503, 503, 200]
    assert agent.get(LIGHT).status_code == 200
