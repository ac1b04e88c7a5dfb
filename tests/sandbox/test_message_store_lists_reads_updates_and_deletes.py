"""The message store per extension: sent SMS and pager messages land in the sender's store
(Outbound) and a colleague's (Inbound); list with the platform's filters and paging, read,
update the read status, delete (Deleted, then Purged), attachment content."""

import httpx
import pytest

from tests.sandbox.message_helpers import (
    CUSTOMER,
    PAGER,
    STORE,
    T_MESSAGE,
    T_STORE,
    inbound_sms,
    no_messages_api,
    send_sms,
    stored,
)
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import SandboxProcess


@pytest.fixture
def spec() -> dict:
    return load_or_skip()


def test_an_sms_to_a_colleague_lands_in_both_stores(spec: dict, fresh_sandbox: SandboxProcess,
                                                    agent: httpx.Client) -> None:
    sent = send_sms(agent, "+16505550102", "+16505550103", "Can you take the Acme call?")
    mine = conforms(agent.get(STORE), "GET", T_STORE)["records"]
    assert [(m["id"], m["direction"], m["readStatus"]) for m in mine] == [
        (sent["id"], "Outbound", "Read")]
    with fresh_sandbox.api("103") as colleague:
        theirs = conforms(colleague.get(STORE), "GET", T_STORE)["records"]
        assert len(theirs) == 1
        received = theirs[0]
        assert received["direction"] == "Inbound" and received["readStatus"] == "Unread"
        assert received["messageStatus"] == "Received"
        assert received["from"]["phoneNumber"] == "+16505550102"
        assert received["subject"] == "Can you take the Acme call?"
        assert received["conversationId"] == sent["conversationId"]
        one = conforms(colleague.get(received["uri"]), "GET", T_MESSAGE)
        assert one["id"] == received["id"]
        text = colleague.get(one["attachments"][0]["uri"])
        assert text.status_code == 200
        assert text.headers["content-type"].startswith("text/plain")
        assert text.text == "Can you take the Acme call?"
    # An SMS to a number outside the account is in the sender's store only.
    send_sms(agent, "+16505550102", CUSTOMER, "Your quote is ready")
    assert len(agent.get(STORE).json()["records"]) == 2
    assert [m["ownerId"] for m in stored(fresh_sandbox, "103")] == ["400000103"]


def test_a_pager_message_lands_in_every_recipients_store(fresh_sandbox: SandboxProcess,
                                                         agent: httpx.Client) -> None:
    response = agent.post(PAGER, json={"to": [{"extensionNumber": "103"},
                                              {"extensionNumber": "104"}],
                                       "text": "Customer on line 2"})
    assert response.status_code == 200, response.text
    assert stored(fresh_sandbox, "102")[0]["direction"] == "Outbound"
    for ext in ("103", "104"):
        (record,) = stored(fresh_sandbox, ext)
        assert (record["type"], record["direction"], record["from"]["extensionNumber"]) == (
            "Pager", "Inbound", "102")


def test_filters_and_paging(spec: dict, fresh_sandbox: SandboxProcess,
                            agent: httpx.Client) -> None:
    first = inbound_sms(fresh_sandbox, "102", "Is the order shipped?")
    inbound_sms(fresh_sandbox, "102", "Hello?", sender="+14155550999")
    outbound = send_sms(agent, "+16505550102", CUSTOMER, "Yes, today")

    def ids(**params: object) -> list[int]:
        body = conforms(agent.get(STORE, params=params), "GET", T_STORE)
        return [m["id"] for m in body["records"]]

    assert len(ids()) == 3
    assert ids(direction="Outbound") == [outbound["id"]]
    assert ids(readStatus="Unread", phoneNumber="16504445567") == [first["id"]]
    assert set(ids(conversationId=str(first["conversationId"]))) == {first["id"],
                                                                      outbound["id"]}
    assert ids(messageType="VoiceMail") == []
    assert len(ids(messageType=["SMS", "Pager"])) == 3
    assert ids(dateTo="2020-01-01T00:00:00Z") == []
    assert len(ids(distinctConversations="true")) == 2
    page = conforms(agent.get(STORE, params={"perPage": 2}), "GET", T_STORE)
    assert page["paging"]["totalElements"] == 3 and page["paging"]["totalPages"] == 2
    second = conforms(agent.get(page["navigation"]["nextPage"]["uri"]), "GET", T_STORE)
    assert len(second["records"]) == 1 and "nextPage" not in second["navigation"]
    assert {m["id"] for m in page["records"] + second["records"]} == set(ids())
    for bad in ({"messageType": "Email"}, {"direction": "Sideways"}, {"dateFrom": "soon"},
                {"readStatus": "Maybe"}, {"perPage": "0"}, {"conversationId": "x"}):
        response = agent.get(STORE, params=bad)
        assert response.status_code == 400, bad
        assert response.json()["errorCode"] == "InvalidParameter"


def test_read_status_update_and_delete_then_purge(spec: dict, fresh_sandbox: SandboxProcess,
                                                  agent: httpx.Client) -> None:
    record = inbound_sms(fresh_sandbox, "102", "Please call me")
    uri = record["uri"]
    read = agent.put(uri, json={"readStatus": "Read"})
    assert conforms(read, "PUT", T_MESSAGE)["readStatus"] == "Read"
    unread = agent.patch(uri, json={"readStatus": "Unread"})
    assert conforms(unread, "PATCH", T_MESSAGE)["readStatus"] == "Unread"
    assert agent.put(uri, json={"readStatus": "Later"}).status_code == 400
    assert agent.put(uri, json={}).json()["errors"][0]["parameterName"] == "readStatus"

    assert agent.delete(uri).status_code == 204
    assert agent.get(STORE).json()["records"] == []
    deleted = agent.get(STORE, params={"availability": "Deleted"}).json()["records"]
    assert [m["availability"] for m in deleted] == ["Deleted"]
    assert agent.get(deleted[0]["attachments"][0]["uri"]).status_code == 200
    restored = agent.patch(uri, json={"availability": "Alive"})
    assert conforms(restored, "PATCH", T_MESSAGE)["availability"] == "Alive"
    assert agent.delete(uri).status_code == 204
    assert agent.delete(uri).status_code == 204
    purged = conforms(agent.get(uri), "GET", T_MESSAGE)
    assert purged["availability"] == "Purged" and purged["attachments"] == []
    text_uri = record["attachments"][0]["uri"]
    assert agent.get(text_uri).status_code == 404
    other = inbound_sms(fresh_sandbox, "102", "Gone at once")
    assert agent.delete(other["uri"], params={"purge": "true"}).status_code == 204
    assert agent.get(other["uri"]).json()["availability"] == "Purged"


def test_mms_attachment_content_comes_back(fresh_sandbox: SandboxProcess,
                                           agent: httpx.Client) -> None:
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"json\"; "
            f"filename=\"request.json\"\r\nContent-Type: application/json\r\n\r\n"
            '{"from": {"phoneNumber": "+16505550102"}, "to": [{"phoneNumber": '
            f'"{CUSTOMER}"}}]}}\r\n--{boundary}\r\nContent-Disposition: form-data; '
            f"name=\"attachment\"; filename=\"a.gif\"\r\nContent-Type: image/gif\r\n\r\n"
            f"GIF89a-picture\r\n--{boundary}--\r\n").encode()
    response = agent.post("/restapi/v1.0/account/~/extension/~/sms", content=body,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 200, response.text
    picture = next(a for a in response.json()["attachments"] if a["type"] == "MmsAttachment")
    content = agent.get(picture["uri"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/gif"
    assert content.content == b"GIF89a-picture"


def test_unknown_messages_and_attachments_are_not_found(agent: httpx.Client,
                                                        fresh_sandbox: SandboxProcess) -> None:
    record = inbound_sms(fresh_sandbox, "102", "Hi")
    for uri in (STORE + "/123", STORE + "/abc", record["uri"] + "/content/999",
                record["uri"] + "/content/x"):
        response = agent.get(uri)
        assert response.status_code == 404, uri
        assert response.json()["errorCode"] == "NotFound"


def test_permissions_like_the_platform(fresh_sandbox: SandboxProcess, agent: httpx.Client,
                                       admin: httpx.Client) -> None:
    record = inbound_sms(fresh_sandbox, "103", "For Priya")
    colleague_store = "/restapi/v1.0/account/~/extension/400000103/message-store"
    refused = agent.get(colleague_store)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["errorCode"] == "CMN-408"
    assert agent.get(colleague_store + f"/{record['id']}").status_code == 403
    assert admin.get(colleague_store).json()["records"][0]["id"] == record["id"]
    with no_messages_api(fresh_sandbox, "103") as limited:
        for method, uri, body in (("GET", STORE, None),
                                  ("GET", STORE + f"/{record['id']}", None),
                                  ("PUT", STORE + f"/{record['id']}", {"readStatus": "Read"}),
                                  ("DELETE", STORE + f"/{record['id']}", None),
                                  ("GET", "/restapi/v1.0/account/~/extension/~/message-sync",
                                   None),
                                  ("POST", "/restapi/v1.0/account/~/extension/~/sms",
                                   {"from": {"phoneNumber": "+16505550103"},
                                    "to": [{"phoneNumber": CUSTOMER}], "text": "x"})):
            response = limited.request(method, uri, json=body)
            assert response.status_code == 403, (method, uri)
            body403 = response.json()
            assert body403["errorCode"] == "InsufficientPermissions"
            assert body403["permissionName"] in ("ReadMessages", "EditMessages", "SMS")
