"""The official RingCentral Python SDK, unchanged, reads the message store: the list, a
message, its text content, marks it read, and syncs."""

import pytest

from tests.sandbox.message_helpers import inbound_sms
from tests.support.sandbox import SandboxProcess

ringcentral = pytest.importorskip("ringcentral", reason="install the dev extra: ringcentral")

STORE = "/restapi/v1.0/account/~/extension/~/message-store"


def test_the_sdk_reads_and_updates_messages(fresh_sandbox: SandboxProcess) -> None:
    sdk = ringcentral.SDK(fresh_sandbox.client_id, fresh_sandbox.client_secret,
                          fresh_sandbox.url, "crm-cti-tests", "1.0")
    platform = sdk.platform()
    platform.login(jwt=fresh_sandbox.user("102")["jwt"])
    record = inbound_sms(fresh_sandbox, "102", "Reply STOP to opt out? No, call me.")
    listed = platform.get(STORE, {"messageType": "SMS", "readStatus": "Unread"})
    assert [m.id for m in listed.json().records] == [record["id"]]
    message = platform.get(f"{STORE}/{record['id']}").json_dict()
    assert message["subject"] == "Reply STOP to opt out? No, call me."
    content = platform.get(message["attachments"][0]["uri"])
    assert content.response().text == "Reply STOP to opt out? No, call me."
    updated = platform.put(f"{STORE}/{record['id']}", {"readStatus": "Read"}).json_dict()
    assert updated["readStatus"] == "Read"
    synced = platform.get("/restapi/v1.0/account/~/extension/~/message-sync",
                          {"syncType": "FSync"}).json_dict()
    assert synced["records"][0]["readStatus"] == "Read"
    assert synced["syncInfo"]["syncToken"]
