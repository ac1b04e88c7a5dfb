"""Message events: the instant SMS event (the inbound SMS itself) and the message-store
change event, subscribed like presence, delivered by webhook (with the delivery faults) and
over the WebSocket gateway; their bodies validate against the spec's schemas."""

from __future__ import annotations

import httpx
import jsonschema
import pytest

from tests.sandbox.conftest import subscribe
from tests.sandbox.message_helpers import (
    INSTANT_SMS,
    MESSAGE_EVENTS,
    inbound_sms,
    message_events,
    no_messages_api,
    send_sms,
)
from tests.sandbox.receiver import Receiver
from tests.sandbox.spec import FORMATS, load_or_skip
from tests.sandbox.wsclient import gateway_open
from tests.support.sandbox import SandboxProcess

SUBSCRIPTION = "/restapi/v1.0/subscription"


def _conforms(body: dict, schema_name: str) -> None:
    spec = load_or_skip()
    validator = jsonschema.Draft7Validator(
        {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]},
        format_checker=FORMATS)
    errors = list(validator.iter_errors(body))
    assert not errors, errors[0].message


def test_an_inbound_sms_sends_the_instant_event_then_the_change(
        fresh_sandbox: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    sub = subscribe(agent, receiver, [INSTANT_SMS, MESSAGE_EVENTS])
    assert sub["eventFilters"] == [
        "/restapi/v1.0/account/400000001/extension/400000102/message-store/instant?type=SMS",
        "/restapi/v1.0/account/400000001/extension/400000102/message-store"]
    record = inbound_sms(fresh_sandbox, "102", "Is my order shipped?", name="Phillip Marco")
    fresh_sandbox.wait_for(lambda: len(receiver.received) >= 2)
    instant, change = receiver.bodies()[:2]
    assert instant["event"] == sub["eventFilters"][0]
    assert instant["subscriptionId"] == sub["id"] and instant["ownerId"] == "400000102"
    _conforms(instant, "InstantMessageEvent")
    body = instant["body"]
    assert body["id"] == str(record["id"]) and body["subject"] == "Is my order shipped?"
    assert body["from"] == {"phoneNumber": "+16504445567", "name": "Phillip Marco",
                            "location": "Palo Alto, CA"}
    assert body["to"][0]["phoneNumber"] == "+16505550102"
    assert (body["direction"], body["readStatus"], body["messageStatus"]) == (
        "Inbound", "Unread", "Received")
    assert body["conversationId"] == str(record["conversationId"])
    assert receiver.received[0]["headers"]["Verification-Token"] == "verify-me"
    assert change["event"] == sub["eventFilters"][1]
    _conforms(change, "MessageEvent")
    assert change["body"]["extensionId"] == "400000102"
    assert change["body"]["changes"] == [{"type": "SMS", "newCount": 1, "updatedCount": 0,
                                          "newMessageIds": [record["id"]]}]
    # Reading it changes it: one more change event, an update.
    agent.put(record["uri"], json={"readStatus": "Read"})
    fresh_sandbox.wait_for(lambda: len(receiver.received) >= 3)
    update = receiver.bodies()[2]
    assert update["body"]["changes"] == [{"type": "SMS", "newCount": 0, "updatedCount": 1}]


def test_an_sms_between_colleagues_notifies_both(fresh_sandbox: SandboxProcess,
                                                 agent: httpx.Client,
                                                 receiver: Receiver) -> None:
    subscribe(agent, receiver, [INSTANT_SMS, MESSAGE_EVENTS])
    with fresh_sandbox.api("103") as colleague:
        theirs = Receiver().start()
        try:
            subscribe(colleague, theirs, [INSTANT_SMS])
            sent = send_sms(agent, "+16505550102", "+16505550103", "Lunch?")
            fresh_sandbox.wait_for(lambda: theirs.received and receiver.received)
            (instant,) = [b["body"] for b in theirs.bodies()]
            assert instant["subject"] == "Lunch?" and instant["ownerId"] == "400000103"
            assert instant["from"]["phoneNumber"] == "+16505550102"
            # The sender hears of its Outbound message as a change only (no instant event).
            fresh_sandbox.wait_for(lambda: message_events(receiver, instant=False))
            assert message_events(receiver, instant=True) == []
            assert message_events(receiver, instant=False)[0]["body"]["changes"][0][
                "newMessageIds"] == [sent["id"]]
        finally:
            theirs.stop()


def test_filter_options_type_and_direction(fresh_sandbox: SandboxProcess, agent: httpx.Client,
                                           receiver: Receiver) -> None:
    subscribe(agent, receiver, [MESSAGE_EVENTS + "?type=VoiceMail",
                                MESSAGE_EVENTS + "?direction=Outbound"])
    inbound_sms(fresh_sandbox, "102", "Not for these filters")
    send_sms(agent, "+16505550102", "+16504445567", "Outbound one")
    fresh_sandbox.wait_for(lambda: receiver.received)
    (event,) = receiver.bodies()
    assert event["event"].endswith("/message-store?direction=Outbound")


@pytest.mark.parametrize(("event_filter", "status", "code"), [
    ("/restapi/v1.0/account/~/extension/400000103/message-store", 403, "CMN-408"),
    ("/restapi/v1.0/account/~/extension/~/message-store/instant?type=Pager", 400, "CMN-101"),
    ("/restapi/v1.0/account/~/extension/~/message-store/instant", 400, "CMN-101"),
    ("/restapi/v1.0/account/~/extension/~/message-store?type=Email", 400, "CMN-101"),
    ("/restapi/v1.0/account/~/extension/~/message-store?color=red", 400, "CMN-101"),
])
def test_bad_or_forbidden_filters_are_refused(agent: httpx.Client, receiver: Receiver,
                                              event_filter: str, status: int, code: str) -> None:
    response = agent.post(SUBSCRIPTION, json={
        "eventFilters": [event_filter],
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url}})
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["errorCode"] == code


def test_message_events_need_read_messages_and_an_admin_may_watch_a_colleague(
        fresh_sandbox: SandboxProcess, admin: httpx.Client, receiver: Receiver) -> None:
    with no_messages_api(fresh_sandbox) as limited:
        response = limited.post(SUBSCRIPTION, json={
            "eventFilters": [INSTANT_SMS],
            "deliveryMode": {"transportType": "WebHook", "address": receiver.url}})
        assert response.status_code == 403
        assert response.json()["permissionName"] == "ReadMessages"
    subscribe(admin, receiver, ["/restapi/v1.0/account/~/extension/103/message-store"])
    inbound_sms(fresh_sandbox, "103", "For Priya")
    fresh_sandbox.wait_for(lambda: receiver.received)
    assert receiver.bodies()[0]["body"]["extensionId"] == "400000103"


def test_delivery_faults_apply_to_message_events(fresh_sandbox: SandboxProcess,
                                                 agent: httpx.Client,
                                                 receiver: Receiver) -> None:
    subscribe(agent, receiver, [INSTANT_SMS])
    inbound_sms(fresh_sandbox, "102", "Twice", faults=[{"type": "duplicate"}])
    inbound_sms(fresh_sandbox, "102", "Never", faults=[{"type": "drop", "event": "instant"}])
    inbound_sms(fresh_sandbox, "102", "Last")
    fresh_sandbox.wait_for(lambda: len(receiver.received) >= 3)
    subjects = [b["body"]["subject"] for b in receiver.bodies()]
    assert subjects == ["Twice", "Twice", "Last"]
    first, second = receiver.bodies()[:2]
    assert first["uuid"] == second["uuid"]
    faults = [d["fault"] for d in fresh_sandbox.deliveries()]
    assert faults.count("duplicate") == 1
    # A webhook that fails is retried as for presence.
    fresh_sandbox.config(delivery_retry_delay=0.05)
    receiver.status = 503
    inbound_sms(fresh_sandbox, "102", "Retried")
    fresh_sandbox.wait_for(lambda: sum(1 for d in fresh_sandbox.deliveries()
                                       if not d["ok"]) >= 3)
    assert [d["status"] for d in fresh_sandbox.deliveries() if not d["ok"]] == [503] * 3


def test_bad_control_requests_get_clear_errors(fresh_sandbox: SandboxProcess) -> None:
    for body in ({"extension": "999", "text": "x"}, {"extension": "102", "text": ""},
                 {"extension": "102", "text": "x", "from": "12"},
                 {"extension": "102", "text": "x", "faults": [{"type": "explode"}]}):
        response = fresh_sandbox.http.post("/sandbox/sms", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]


async def test_the_websocket_gateway_delivers_message_events(fresh_sandbox: SandboxProcess,
                                                             agent: httpx.Client) -> None:
    gateway = await gateway_open(agent)
    try:
        await gateway.subscribe([INSTANT_SMS, MESSAGE_EVENTS])
        record = inbound_sms(fresh_sandbox, "102", "Over the socket")
        instant, change = await gateway.notifications(2)
        assert instant[1]["event"].endswith("/message-store/instant?type=SMS")
        assert instant[1]["body"]["id"] == str(record["id"])
        assert instant[0]["messageId"] == instant[1]["uuid"]
        assert change[1]["body"]["changes"][0]["newMessageIds"] == [record["id"]]
    finally:
        await gateway.close()


def test_notify_replays_a_message_event_exactly(fresh_sandbox: SandboxProcess,
                                                agent: httpx.Client,
                                                receiver: Receiver) -> None:
    subscribe(agent, receiver, [INSTANT_SMS])
    record = inbound_sms(fresh_sandbox, "102", "Once")
    fresh_sandbox.wait_for(lambda: receiver.received)
    original = receiver.bodies()[0]["body"]
    assert fresh_sandbox.notify("102", original, event="instant") == {"queued": 1}
    fresh_sandbox.wait_for(lambda: len(receiver.received) >= 2)
    replayed = receiver.bodies()[1]
    assert replayed["body"] == original and replayed["body"]["id"] == str(record["id"])
    assert replayed["uuid"] != receiver.bodies()[0]["uuid"]
    assert fresh_sandbox.http.post("/sandbox/notify", json={
        "extension": "102", "body": {}, "event": "fax"}).status_code == 400
