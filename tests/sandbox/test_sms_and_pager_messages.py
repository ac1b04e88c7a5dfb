"""SMS and company pager messages: message-store records and clear errors."""

import json

import httpx

from tests.sandbox.spec import conforms, load_or_skip
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


def _multipart(parts: list[tuple[str, str, str, bytes]], subtype: str = "form-data"):
    boundary = "sandbox-test-boundary"
    chunks = []
    for name, filename, content_type, data in parts:
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n".encode() + data
            + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/{subtype}; boundary={boundary}"}


MMS_JSON = json.dumps({"from": {"phoneNumber": "+16505550102"},
                       "to": [{"phoneNumber": "+16504445567"}]}).encode()


def test_sms_as_multipart_carries_attachments(fresh_sandbox: SandboxProcess,
                                              agent: httpx.Client) -> None:
    body, headers = _multipart([("json", "request.json", "application/json", MMS_JSON),
                                ("attachment", "a.jpg", "image/jpeg", b"\xff\xd8" * 10),
                                ("attachment", "b.gif", "image/gif", b"GIF89a")])
    response = agent.post(SMS, content=body, headers=headers)
    assert response.status_code == 200, response.text
    load_or_skip()
    conforms(response, "POST", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/sms")
    files = [a for a in response.json()["attachments"] if a["type"] == "MmsAttachment"]
    assert [(f["fileName"], f["contentType"], f["size"]) for f in files] == [
        ("a.jpg", "image/jpeg", 20), ("b.gif", "image/gif", 6)]


def test_multipart_sms_errors(agent: httpx.Client) -> None:
    no_json, headers = _multipart([("attachment", "a.png", "image/png", b"x")])
    response = agent.post(SMS, content=no_json, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameterName"] == "json"
    too_many, headers = _multipart(
        [("json", "request.json", "application/json", MMS_JSON)]
        + [("attachment", f"{i}.png", "image/png", b"x") for i in range(11)])
    response = agent.post(SMS, content=too_many, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameterName"] == "attachments"
    too_big, headers = _multipart([("json", "request.json", "application/json", MMS_JSON),
                                   ("attachment", "big.png", "image/png", b"x" * 1_500_001)])
    assert agent.post(SMS, content=too_big, headers=headers).status_code == 400
    garbage = agent.post(SMS, content=b"not multipart at all",
                         headers={"Content-Type": "multipart/form-data; boundary=zzz"})
    assert garbage.status_code == 400
    assert garbage.json()["errorCode"] == "InvalidParameter"


def test_pager_from_must_be_an_object(agent: httpx.Client) -> None:
    response = agent.post(PAGER, json={"from": "102", "to": [{"extensionNumber": "103"}],
                                       "text": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameterName"] == "from"
