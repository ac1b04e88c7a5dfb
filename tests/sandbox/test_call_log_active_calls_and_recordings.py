"""Active calls, call log (filters, views, paging, lag) and recordings."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.sandbox import SandboxProcess

EXT_LOG = "/restapi/v1.0/account/~/extension/~/call-log"
ACCOUNT_LOG = "/restapi/v1.0/account/~/call-log"
# Injected history spans days; the call log's default window is the last 24 hours.
SINCE = {"dateFrom": "2020-01-01T00:00:00Z"}


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20, call_log_lag=0, rate_limits={"enabled": False})
    return fresh_sandbox


def _ended(sandbox: SandboxProcess, session_id: str) -> dict:
    return sandbox.wait_for(lambda: (c := sandbox.call(session_id))["active"] is False and c)


def test_active_calls_show_live_and_recently_ended_calls(
    fast: SandboxProcess, agent: httpx.Client, admin: httpx.Client,
) -> None:
    call = fast.start_call("interactive", extension="102")
    fast.call_action(call["sessionId"], "answer")
    live = agent.get("/restapi/v1.0/account/~/extension/~/active-calls").json()
    assert [(r["sessionId"], r["result"]) for r in live["records"]] == [
        (call["sessionId"], "In Progress")]
    assert live["records"][0]["direction"] == "Inbound"
    fast.call_action(call["sessionId"], "hangup")
    ended = agent.get("/restapi/v1.0/account/~/extension/~/active-calls").json()
    assert [r["result"] for r in ended["records"]] == ["Accepted"]
    company = admin.get("/restapi/v1.0/account/~/active-calls").json()
    assert [r["sessionId"] for r in company["records"]] == [call["sessionId"]]
    fast.config(active_call_retention=0)
    assert agent.get("/restapi/v1.0/account/~/extension/~/active-calls").json()["records"] == []


def test_account_level_needs_an_admin(agent: httpx.Client) -> None:
    for path in ("/restapi/v1.0/account/~/active-calls", ACCOUNT_LOG):
        response = agent.get(path)
        assert response.status_code == 403
        body = response.json()
        assert body["errorCode"] == "InsufficientPermissions"
        assert body["errors"][0]["errorCode"] == "CMN-408"
        assert body["message"] == "[ReadCompanyCallLog] permission required"
    other = agent.get("/restapi/v1.0/account/~/extension/400000103/call-log")
    assert other.status_code == 403
    assert agent.get("/restapi/v1.0/account/~/extension/400000999/call-log").status_code == 404


def test_call_log_record_appears_after_the_lag(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    fresh_sandbox.config(speed=20, call_log_lag=60, rate_limits={"enabled": False})
    call = fresh_sandbox.start_call("inbound_missed", extension="102")
    _ended(fresh_sandbox, call["sessionId"])
    assert agent.get(EXT_LOG, params={"sessionId": call["sessionId"]}).json()["records"] == []
    fresh_sandbox.wait_for(lambda: agent.get(
        EXT_LOG, params={"sessionId": call["sessionId"]}).json()["records"])
    record = agent.get(EXT_LOG, params={"sessionId": call["sessionId"]}).json()["records"][0]
    assert record["result"] == "Missed" and record["direction"] == "Inbound"


def test_long_answered_call_has_a_playable_recording(
    fast: SandboxProcess, agent: httpx.Client, admin: httpx.Client,
) -> None:
    short = fast.start_call("inbound_answered", extension="102", talk_seconds=10)
    long = fast.start_call("inbound_answered", extension="102", talk_seconds=40,
                           **{"from": "+14155550111"})
    _ended(fast, short["sessionId"])
    _ended(fast, long["sessionId"])
    fast.wait_for(lambda: len(agent.get(EXT_LOG).json()["records"]) == 2)
    with_recording = agent.get(EXT_LOG, params={"withRecording": "true"}).json()["records"]
    assert [r["sessionId"] for r in with_recording] == [long["sessionId"]]
    record = with_recording[0]
    assert record["duration"] >= 44 and record["result"] == "Accepted"
    recording = record["recording"]
    assert recording["type"] == "Automatic"
    meta = agent.get(recording["uri"]).json()
    assert meta["contentType"] == "audio/mpeg" and meta["duration"] >= 40
    content = agent.get(recording["contentUri"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "audio/mpeg"
    assert content.content[:2] == b"\xff\xfb" and len(content.content) > 10000
    assert admin.get(recording["contentUri"]).status_code == 200
    with fast.api("103") as stranger:
        assert stranger.get(recording["contentUri"]).status_code == 403
    assert agent.get("/restapi/v1.0/account/~/recording/1").status_code == 404


def test_filters_views_and_paging(fast: SandboxProcess, agent: httpx.Client,
                                  admin: httpx.Client) -> None:
    fast.inject_call_log("102", 25, seed=7, numbers=["+16504445567", "+14155550100"])
    fast.inject_call_log("103", 5, seed=8)
    everything = agent.get(EXT_LOG, params={"perPage": 1000, **SINCE}).json()["records"]
    assert len(everything) == 25
    assert [r["startTime"] for r in everything] == sorted(
        (r["startTime"] for r in everything), reverse=True)
    page1 = agent.get(EXT_LOG, params={"perPage": 10, **SINCE}).json()
    assert page1["paging"] == {"page": 1, "perPage": 10, "pageStart": 0, "pageEnd": 9}
    assert "nextPage" in page1["navigation"] and "previousPage" not in page1["navigation"]
    page3 = agent.get(page1["navigation"]["nextPage"]["uri"].replace("page=2", "page=3")).json()
    assert page3["paging"]["pageStart"] == 20 and len(page3["records"]) == 5
    assert "nextPage" not in page3["navigation"]
    inbound = agent.get(EXT_LOG, params={"direction": "Inbound", "perPage": 1000, **SINCE}).json()
    assert {r["direction"] for r in inbound["records"]} == {"Inbound"}
    by_number = agent.get(EXT_LOG, params={"phoneNumber": "16504445567",
                                           "perPage": 1000, **SINCE}).json()["records"]
    assert by_number and all("+16504445567" in (r["from"].get("phoneNumber"),
                                                 r["to"].get("phoneNumber"))
                             for r in by_number)
    detailed = agent.get(EXT_LOG, params={"view": "Detailed", "perPage": 1, **SINCE}).json()
    assert detailed["records"][0]["legs"][0]["legType"]
    assert "legs" not in everything[0]
    item = agent.get(f"{EXT_LOG}/{everything[0]['id']}").json()
    assert item["id"] == everything[0]["id"]
    company = admin.get(ACCOUNT_LOG, params={"perPage": 1000, **SINCE}).json()["records"]
    assert len(company) == 30
    company_item = admin.get(f"{ACCOUNT_LOG}/{everything[0]['id']}")
    assert company_item.status_code == 200
    assert agent.get(f"{EXT_LOG}/missing").status_code == 404


def test_date_range_defaults_to_the_day_before_date_to(fast: SandboxProcess,
                                                      agent: httpx.Client) -> None:
    # The spec (CallLogDateFrom): "The default value is `dateTo` minus 24 hours".
    fast.inject_call_log("102", 40, days=20, seed=3)
    every = agent.get(EXT_LOG, params={"dateFrom": "2020-01-01", "perPage": 1000}).json()
    default = agent.get(EXT_LOG, params={"perPage": 1000}).json()["records"]
    day_ago = datetime.now(UTC) - timedelta(hours=24)

    def started(record):
        return datetime.fromisoformat(record["startTime"].replace("Z", "+00:00"))

    # (Give or take the seconds between this test's clock and the request's.)
    clearly_in = {r["id"] for r in every["records"] if started(r) > day_ago + timedelta(seconds=5)}
    maybe_in = {r["id"] for r in every["records"] if started(r) > day_ago - timedelta(seconds=5)}
    assert clearly_in <= {r["id"] for r in default} <= maybe_in
    assert len(every["records"]) == 40 > len(default)
    # With dateTo, the day before it.
    date_to = started(every["records"][len(every["records"]) // 2]) + timedelta(seconds=1)
    window = agent.get(EXT_LOG, params={
        "dateTo": date_to.isoformat().replace("+00:00", "Z"), "perPage": 1000}).json()["records"]
    assert window, "the middle call at least"
    expected = {r["id"] for r in every["records"]
                if date_to - timedelta(hours=24) <= started(r) <= date_to}
    assert {r["id"] for r in window} == expected


def test_bad_parameters_get_clear_errors(agent: httpx.Client) -> None:
    for params, name in (({"dateFrom": "yesterday"}, "dateFrom"),
                         ({"direction": "Sideways"}, "direction"),
                         ({"view": "Fancy"}, "view"), ({"perPage": "0"}, "perPage"),
                         ({"type": "Video"}, "type")):
        response = agent.get(EXT_LOG, params=params)
        assert response.status_code == 400, params
        error = response.json()["errors"][0]
        assert error["errorCode"] == "CMN-101" and error["parameterName"] == name


def test_internal_call_leaves_a_record_for_each_extension(
    fast: SandboxProcess, admin: httpx.Client,
) -> None:
    call = fast.start_call("internal", extension="104", **{"from": "105"})
    _ended(fast, call["sessionId"])
    fast.wait_for(lambda: len(admin.get(ACCOUNT_LOG, params={
        "sessionId": call["sessionId"]}).json()["records"]) == 2)
    records = admin.get(ACCOUNT_LOG, params={"sessionId": call["sessionId"]}).json()["records"]
    by_direction = {r["direction"]: r for r in records}
    assert by_direction["Inbound"]["from"]["extensionNumber"] == "105"
    assert by_direction["Outbound"]["to"]["extensionNumber"] == "104"
    assert by_direction["Inbound"]["result"] == "Accepted"
    assert by_direction["Outbound"]["result"] == "Call connected"


def test_active_calls_can_lag_behind_events(fast: SandboxProcess, agent: httpx.Client) -> None:
    fast.config(active_calls_lag=30)
    fast.start_call("interactive", extension="102")
    assert agent.get("/restapi/v1.0/account/~/extension/~/active-calls").json()["records"] == []
    fast.config(active_calls_lag=0)
    assert len(agent.get(
        "/restapi/v1.0/account/~/extension/~/active-calls").json()["records"]) == 1


def test_per_page_takes_max_and_clamps_what_is_over_1000(
    fast: SandboxProcess, agent: httpx.Client,
) -> None:
    # The spec (PerPageWithMax): 1-1000, or "max" for up to 1000; over 1000 means 1000.
    fast.inject_call_log("102", 3, seed=4)
    for value in ("max", "1001", "5000", "9" * 40):
        response = agent.get(EXT_LOG, params={"perPage": value, **SINCE})
        assert response.status_code == 200, (value, response.text)
        body = response.json()
        assert body["paging"]["perPage"] == 1000, value
        assert len(body["records"]) == 3
        assert "perPage=1000" in body["navigation"]["firstPage"]["uri"]
    for value in ("0", "-3", "many", "1e3"):
        response = agent.get(EXT_LOG, params={"perPage": value})
        assert response.status_code == 400, value
        assert response.json()["errors"][0]["parameterName"] == "perPage"
