"""SMS and company pager messages: message-store records and clear errors."""

import httpx

from tests.support.sandbox import SandboxProcess

SMS = "/restapi/v1.0/account/~/extension/~/sms"
PAGER = "/restapi/v1.0/account/~/extension/~/company-pager"


def test_sms_from_the_agents_number(fresh_sandbox: SandboxProcess, agent: httpx.Client) -> None:
    response = agent.post(SMS, json={"from": {"phoneNumber": "+16505550102"},
                                     "to": [{"phoneNumber": "+16504445567"}],
                                     "text": "Hello from the CRM"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "SMS" and body["direction"] == "Outbound"
    assert body["to"][0]["phoneNumber"] == "+16504445567"
    assert body["subject"] == "Hello from the CRM"
    assert "/message-store/" in body["uri"]
    assert fresh_sandbox.messages()[0]["text"] == "Hello from the CRM"


def test_sms_errors(agent: httpx.Client) -> None:
    bad_to = agent.post(SMS, json={"from": {"phoneNumber": "+16505550102"},
                                   "to": [{"phoneNumber": "12"}], "text": "x"})
    assert bad_to.status_code == 400
    assert "to.phoneNumber" in bad_to.json()["message"]
    not_mine = agent.post(SMS, json={"from": {"phoneNumber": "+16505550103"},
                                     "to": [{"phoneNumber": "+16504445567"}], "text": "x"})
    assert not_mine.status_code == 400
    assert not_mine.json()["errors"][0]["errorCode"] == "MSG-304"
    no_text = agent.post(SMS, json={"from": {"phoneNumber": "+16505550102"},
                                    "to": [{"phoneNumber": "+16504445567"}]})
    assert no_text.json()["errors"][0]["errorCode"] == "CMN-100"


def test_pager_between_extensions(agent: httpx.Client) -> None:
    response = agent.post(PAGER, json={"from": {"extensionNumber": "102"},
                                       "to": [{"extensionNumber": "103"},
                                              {"extensionNumber": "104"}],
                                       "text": "Customer on line 2"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "Pager"
    assert [t["extensionNumber"] for t in body["to"]] == ["103", "104"]
    unknown = agent.post(PAGER, json={"to": [{"extensionNumber": "999"}], "text": "x"})
    assert unknown.status_code == 400
    assert "999" in unknown.json()["message"]
