"""The official RingCentral Python SDK (``ringcentral`` on PyPI), unchanged, as a client:
JWT sign-in, call log, RingOut, refresh and logout against the running sandbox."""

import time

import pytest

from tests.support.sandbox import SandboxProcess

ringcentral = pytest.importorskip("ringcentral", reason="install the dev extra: ringcentral")


@pytest.fixture
def platform(fresh_sandbox: SandboxProcess):
    fresh_sandbox.config(speed=20, call_log_lag=0)
    sdk = ringcentral.SDK(fresh_sandbox.client_id, fresh_sandbox.client_secret,
                          fresh_sandbox.url, "crm-cti-tests", "1.0")
    platform = sdk.platform()
    platform.login(jwt=fresh_sandbox.user("102")["jwt"])
    return platform


def test_jwt_login_and_extension(platform) -> None:
    assert platform.logged_in()
    me = platform.get("/restapi/v1.0/account/~/extension/~").json_dict()
    assert me["extensionNumber"] == "102"
    assert platform.auth().data()["owner_id"] == "400000102"


def test_call_log_through_the_sdk(fresh_sandbox: SandboxProcess, platform) -> None:
    fresh_sandbox.inject_call_log("102", 12, seed=5)
    response = platform.get("/restapi/v1.0/account/~/extension/~/call-log",
                            {"perPage": 5, "view": "Detailed", "dateFrom": "2020-01-01"})
    body = response.json_dict()
    assert len(body["records"]) == 5 and body["paging"]["perPage"] == 5
    assert body["records"][0]["legs"]
    # The SDK's object view works on our JSON too.
    assert response.json().records[0].sessionId


def test_ringout_through_the_sdk(fresh_sandbox: SandboxProcess, platform) -> None:
    created = platform.post("/restapi/v1.0/account/~/extension/~/ring-out", {
        "from": {"phoneNumber": "+16505550102"}, "to": {"phoneNumber": "+16502008440"},
        "playPrompt": False}).json_dict()
    assert created["status"]["callStatus"] == "InProgress"
    path = f"/restapi/v1.0/account/~/extension/~/ring-out/{created['id']}"
    deadline = time.monotonic() + 20
    status = created["status"]
    while status["callStatus"] == "InProgress" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = platform.get(path).json_dict()["status"]
    assert status == {"callStatus": "Success", "callerStatus": "Success",
                      "calleeStatus": "Success"}


def test_refresh_and_logout(fresh_sandbox: SandboxProcess, platform) -> None:
    old_refresh = platform.auth().refresh_token()
    platform.refresh()
    assert platform.auth().refresh_token() != old_refresh
    platform.logout()
    assert fresh_sandbox.stats()["revocations"] == 1


def test_sdk_surfaces_platform_errors(fresh_sandbox: SandboxProcess, platform) -> None:
    with pytest.raises(ringcentral.http.api_exception.ApiException) as raised:
        platform.get("/restapi/v1.0/account/~/call-log")
    assert raised.value.api_response().response().status_code == 403


def test_mms_through_the_sdks_multipart_builder(fresh_sandbox: SandboxProcess, platform) -> None:
    # The SDK's MMS path: multipart/form-data, the JSON in a part of its own, then the files.
    sdk = ringcentral.SDK(fresh_sandbox.client_id, fresh_sandbox.client_secret,
                          fresh_sandbox.url, "crm-cti-tests", "1.0")
    builder = sdk.create_multipart_builder()
    builder.set_body({"from": {"phoneNumber": "+16505550102"},
                      "to": [{"phoneNumber": "+16504445567"}], "text": "The quote"})
    builder.add(("quote.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"))
    request = builder.request("/restapi/v1.0/account/~/extension/~/sms")
    body = platform.send_request(request).json_dict()
    assert body["type"] == "SMS" and body["subject"] == "The quote"
    files = [a for a in body["attachments"] if a["type"] == "MmsAttachment"]
    assert files == [{**files[0], "contentType": "image/png", "fileName": "quote.png",
                      "size": 72}]
    assert fresh_sandbox.messages()[0]["text"] == "The quote"
    # multipart/mixed, which the builder also makes, is accepted the same way.
    builder.set_multipart_mixed(True)
    mixed = platform.send_request(builder.request("/restapi/v1.0/account/~/extension/~/sms"))
    assert mixed.json_dict()["attachments"][1]["fileName"] == "quote.png"


def test_call_control_through_the_sdk(fresh_sandbox: SandboxProcess, platform) -> None:
    call = fresh_sandbox.start_call("interactive", extension="102", ring_seconds=600)
    fresh_sandbox.wait_for(lambda: fresh_sandbox.call(call["sessionId"])["legs"][0][
        "telephonyStatus"] == "Ringing")
    devices = platform.get("/restapi/v1.0/account/~/extension/~/device").json_dict()
    session_path = f"/restapi/v1.0/account/~/telephony/sessions/{call['telephonySessionId']}"
    party = platform.get(session_path).json_dict()["parties"][0]
    party_path = f"{session_path}/parties/{party['id']}"
    answered = platform.post(party_path + "/answer",
                             {"deviceId": devices["records"][0]["id"]}).json_dict()
    assert answered["status"]["code"] == "Answered"
    held = platform.post(party_path + "/hold", {}).json_dict()
    assert held["status"]["code"] == "Hold"
    assert fresh_sandbox.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "OnHold"
    platform.delete(session_path)
    assert fresh_sandbox.wait_for(lambda: fresh_sandbox.call(call["sessionId"])["endTime"])
