"""Account, extension (``~`` and by id), phone numbers and presence reads."""

import httpx

from tests.support.sandbox import SandboxProcess


def test_account(agent: httpx.Client) -> None:
    body = agent.get("/restapi/v1.0/account/~").json()
    assert body["id"] == 400000001 and body["mainNumber"] == "+16505550100"
    assert agent.get("/restapi/v1.0/account/400000001").status_code == 200
    wrong = agent.get("/restapi/v1.0/account/123")
    assert wrong.status_code == 404 and wrong.json()["errors"][0]["errorCode"] == "CMN-102"


def test_extension_by_tilde_and_id(agent: httpx.Client) -> None:
    me = agent.get("/restapi/v1.0/account/~/extension/~").json()
    assert me["contact"]["email"] == "marcus.reed@example.com"
    assert me["permissions"]["admin"]["enabled"] is False
    admin = agent.get("/restapi/v1.0/account/~/extension/400000101").json()
    assert admin["permissions"]["admin"]["enabled"] is True
    assert agent.get("/restapi/v1.0/account/~/extension/1").status_code == 404


def test_phone_numbers_with_sms_capability(agent: httpx.Client) -> None:
    body = agent.get("/restapi/v1.0/account/~/extension/~/phone-number").json()
    direct = next(r for r in body["records"] if r["usageType"] == "DirectNumber")
    assert direct["phoneNumber"] == "+16505550102"
    assert {"SmsSender", "CallerId"} <= set(direct["features"])
    assert body["paging"]["page"] == 1


def test_presence_reads(fresh_sandbox: SandboxProcess, agent: httpx.Client,
                        admin: httpx.Client) -> None:
    fresh_sandbox.start_call("interactive", extension="102")
    body = agent.get("/restapi/v1.0/account/~/extension/~/presence",
                     params={"detailedTelephonyState": "true"}).json()
    assert body["telephonyStatus"] == "Ringing" and len(body["activeCalls"]) == 1
    company = admin.get("/restapi/v1.0/account/~/presence").json()
    assert len(company["records"]) == 5
    assert agent.get("/restapi/v1.0/account/~/presence").status_code == 403


def test_unknown_paths_get_a_json_404(agent: httpx.Client) -> None:
    response = agent.get("/restapi/v1.0/account/~/nothing-here")
    assert response.status_code == 404 and response.json()["errorCode"] == "NotFound"


def test_wrong_method_gets_a_json_405(agent: httpx.Client) -> None:
    response = agent.patch("/restapi/v1.0/account/~/extension/~/sms")
    assert response.status_code == 405
    assert response.json()["errors"][0]["errorCode"] == "CMN-405"
