"""Webhook subscriptions: validation handshake, SUB-520, read/list/update/renew/delete."""

import time

import httpx

from tests.sandbox.conftest import ACCOUNT_PRESENCE, PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.support.sandbox import SandboxProcess


def test_create_validates_the_address_first(agent: httpx.Client, receiver: Receiver) -> None:
    sub = subscribe(agent, receiver)
    assert len(receiver.handshakes) == 1
    assert sub["status"] == "Active"
    assert sub["eventFilters"] == [
        "/restapi/v1.0/account/400000001/extension/400000102/presence"
        "?detailedTelephonyState=true"
    ]
    assert sub["deliveryMode"] == {"transportType": "WebHook", "address": receiver.url,
                                   "encryption": False}
    assert 3590 <= sub["expiresIn"] <= 3600
    assert "verificationToken" not in sub["deliveryMode"]


def test_address_that_does_not_echo_gets_sub_520(agent: httpx.Client) -> None:
    silent = Receiver(echo_validation=False).start()
    try:
        response = agent.post("/restapi/v1.0/subscription", json={
            "eventFilters": [PRESENCE],
            "deliveryMode": {"transportType": "WebHook", "address": silent.url}})
    finally:
        silent.stop()
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorCode"] == "SUB-520"
    assert "Validation Token is not returned" in response.json()["message"]
    unreachable = agent.post("/restapi/v1.0/subscription", json={
        "eventFilters": [PRESENCE],
        "deliveryMode": {"transportType": "WebHook", "address": "http://127.0.0.1:9/x"}})
    assert unreachable.json()["errorCode"] == "SUB-520"


def test_bad_requests(agent: httpx.Client, receiver: Receiver) -> None:
    no_filters = agent.post("/restapi/v1.0/subscription", json={
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url}})
    assert no_filters.status_code == 400
    assert no_filters.json()["errors"][0]["errorCode"] == "CMN-100"
    bad_filter = agent.post("/restapi/v1.0/subscription", json={
        "eventFilters": ["/restapi/v1.0/glip/posts"],
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url}})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["errors"][0]["parameterName"] == "eventFilters"
    pubnub = agent.post("/restapi/v1.0/subscription", json={
        "eventFilters": [PRESENCE], "deliveryMode": {"transportType": "PubNub"}})
    assert pubnub.status_code == 400
    account_level = agent.post("/restapi/v1.0/subscription", json={
        "eventFilters": [ACCOUNT_PRESENCE],
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url}})
    assert account_level.status_code == 403
    assert account_level.json()["errors"][0]["errorCode"] == "CMN-408"
    garbage = agent.post("/restapi/v1.0/subscription", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert garbage.json()["errors"][0]["errorCode"] == "CMN-103"
    assert receiver.handshakes == []


def test_read_list_update_renew_delete(
    fresh_sandbox: SandboxProcess, agent: httpx.Client, receiver: Receiver,
) -> None:
    sub = subscribe(agent, receiver)
    path = f"/restapi/v1.0/subscription/{sub['id']}"
    assert agent.get(path).json()["id"] == sub["id"]
    listed = agent.get("/restapi/v1.0/subscription").json()
    assert [r["id"] for r in listed["records"]] == [sub["id"]]
    with fresh_sandbox.api("103") as other:
        assert other.get(path).status_code == 404
        assert other.get("/restapi/v1.0/subscription").json()["records"] == []
    updated = agent.put(path, json={"eventFilters": [
        "/restapi/v1.0/account/~/extension/400000102/presence"], "expiresIn": 600})
    assert updated.status_code == 200, updated.text
    assert updated.json()["eventFilters"] == [
        "/restapi/v1.0/account/400000001/extension/400000102/presence"]
    assert updated.json()["expiresIn"] <= 600
    time.sleep(1.1)
    renewed = agent.post(path + "/renew").json()
    assert renewed["expiresIn"] == 600
    assert agent.delete(path).status_code == 204
    assert agent.get(path).status_code == 404
    assert agent.delete(path).json()["errors"][0]["errorCode"] == "CMN-102"


def test_admin_may_subscribe_to_account_presence(admin: httpx.Client, receiver: Receiver) -> None:
    sub = subscribe(admin, receiver, [ACCOUNT_PRESENCE])
    assert sub["eventFilters"] == [
        "/restapi/v1.0/account/400000001/presence?detailedTelephonyState=true"]


def test_expired_subscription_disappears(agent: httpx.Client, receiver: Receiver) -> None:
    response = agent.post("/restapi/v1.0/subscription", json={
        "eventFilters": [PRESENCE], "expiresIn": 1,
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url}})
    sub = response.json()
    time.sleep(1.2)
    assert agent.get(f"/restapi/v1.0/subscription/{sub['id']}").status_code == 404
