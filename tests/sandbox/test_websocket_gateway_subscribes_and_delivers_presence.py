"""The WebSocket gateway: a single-use wstoken, ``[header, body]`` framing, ConnectionDetails,
subscriptions made with ClientRequest (one per connection, renew, update, delete), Heartbeat,
and presence from a sandbox call as ServerNotification with the webhook's envelope."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.sandbox.spec import body_conforms, conforms
from tests.sandbox.wsclient import PRESENCE, gateway_open, ws_token
from tests.support.sandbox import SandboxProcess

SUBSCRIPTION = "/restapi/v1.0/subscription/{subscriptionId}"


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20)
    return fresh_sandbox


def test_wstoken_answers_per_the_spec_and_is_single_use(fresh_sandbox: SandboxProcess,
                                                        agent: httpx.Client) -> None:
    response = agent.post("/restapi/oauth/wstoken")
    body = conforms(response, "POST", "/restapi/oauth/wstoken")
    assert body["uri"] == fresh_sandbox.url.replace("http://", "ws://") + "/ws"
    assert body["expires_in"] == 30
    assert fresh_sandbox.stats()["by_operation"]["POST /restapi/oauth/wstoken"] == 1
    assert httpx.post(fresh_sandbox.url + "/restapi/oauth/wstoken").status_code == 401


async def test_a_used_or_unknown_token_is_refused(agent: httpx.Client) -> None:
    token = ws_token(agent)
    url = f"{token['uri']}?access_token={token['ws_access_token']}"
    from websockets.asyncio.client import connect

    async with connect(url) as first:
        await first.recv()
        with pytest.raises(InvalidStatus) as refused:
            await connect(url)
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        await connect(f"{token['uri']}?access_token=made-up")


async def test_connection_details_open_the_connection(agent: httpx.Client) -> None:
    gateway = await gateway_open(agent)
    header, body = gateway.details
    assert header["type"] == "ConnectionDetails" and header["status"] == 200
    assert header["messageId"] and header["headers"]["RCRequestId"]
    assert isinstance(header["wsc"]["token"], str) and header["wsc"]["sequence"] == 1
    assert body["recoveryBufferSize"] == 100 and body["recoveryTimeout"] == 180
    assert body["idleTimeout"] == 1800 and body["absoluteTimeout"] == 86400
    assert "recoveryState" not in body and body["creationTime"].endswith("Z")
    message_id = await gateway.send({"type": "Heartbeat"})
    beat = await gateway.next("Heartbeat", message_id=message_id)
    assert beat[0]["status"] == 200 and len(beat) == 1
    await gateway.close()


async def test_presence_from_a_sandbox_call_arrives_as_server_notifications(
    fast: SandboxProcess, agent: httpx.Client,
) -> None:
    gateway = await gateway_open(agent)
    answer = await gateway.request("POST", "/restapi/v1.0/subscription/", {
        "eventFilters": [PRESENCE], "deliveryMode": {"transportType": "WebSocket"}})
    head, sub = answer
    assert head["type"] == "ClientRequest" and head["status"] == 200
    assert head["headers"]["WSG-SubscriptionId"] == sub["id"]
    body_conforms(sub, "POST", "/restapi/v1.0/subscription", 200)
    assert sub["deliveryMode"] == {"transportType": "WebSocket"} and sub["status"] == "Active"
    call = fast.start_call("inbound_answered", extension="102",
                           **{"from": "+16504445567", "name": "Phillip Marco"})
    notes = await gateway.notifications(3)
    assert [n[1]["body"]["telephonyStatus"] for n in notes] == [
        "Ringing", "CallConnected", "NoCall"]
    first = notes[0][1]
    # The webhook's envelope, unchanged.
    assert set(first) == {"uuid", "event", "timestamp", "subscriptionId", "ownerId", "body"}
    assert first["subscriptionId"] == sub["id"] and first["ownerId"] == "400000102"
    assert first["event"] == ("/restapi/v1.0/account/400000001/extension/400000102/presence"
                              "?detailedTelephonyState=true")
    assert first["body"]["activeCalls"][0]["sessionId"] == call["sessionId"]
    headers = [n[0] for n in notes]
    assert all(h["status"] == 200 and h["messageId"] == n[1]["uuid"]
               for h, n in zip(headers, notes, strict=True))
    assert all(h["wsc"]["token"] == gateway.wsc for h in headers)
    # The wsc sequence counts every message of the session: ConnectionDetails was 1.
    assert [h["wsc"]["sequence"] for h in headers] == [2, 3, 4]
    deliveries = fast.deliveries(sub["id"])
    assert [d["ok"] for d in deliveries] == [True] * 3
    await gateway.close()


async def test_one_subscription_per_connection(fresh_sandbox: SandboxProcess,
                                               agent: httpx.Client) -> None:
    gateway = await gateway_open(agent)
    first = await gateway.subscribe()
    second = await gateway.subscribe(["/restapi/v1.0/account/~/extension/~/presence"])
    assert first["id"] != second["id"]
    gone = await gateway.request("GET", f"/restapi/v1.0/subscription/{first['id']}")
    assert gone[0]["status"] == 404 and gone[1]["errors"][0]["errorCode"] == "CMN-102"
    listed = fresh_sandbox.subscriptions()
    assert [(s["id"], s["transport"], s["wsc"]) for s in listed] == [
        (second["id"], "WebSocket", gateway.wsc)]
    assert fresh_sandbox.notify("102", {"telephonyStatus": "Ringing"}) == {"queued": 1}
    note = (await gateway.notifications(1))[0]
    assert note[1]["subscriptionId"] == second["id"]
    assert "detailedTelephonyState" not in note[1]["event"]
    await gateway.close()


async def test_renew_update_read_and_delete_on_the_connection(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    gateway = await gateway_open(agent)
    sub = await gateway.subscribe()
    path = f"/restapi/v1.0/subscription/{sub['id']}"
    renewed = await gateway.request("POST", path + "/renew")
    assert renewed[0]["status"] == 200
    body_conforms(renewed[1], "POST", SUBSCRIPTION + "/renew", 200)
    assert renewed[1]["expirationTime"] >= sub["expirationTime"]
    updated = await gateway.request("PUT", path, {
        "eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"],
        "deliveryMode": {"transportType": "WebSocket"}})
    assert updated[0]["status"] == 200
    assert updated[1]["eventFilters"] == [
        "/restapi/v1.0/account/400000001/extension/400000102/presence"]
    read = await gateway.request("GET", path)
    assert read[1]["eventFilters"] == updated[1]["eventFilters"]
    # Over HTTP the subscription is listed with its transport, but only the gateway changes it.
    over_http = agent.get(path)
    assert conforms(over_http, "GET", SUBSCRIPTION)["deliveryMode"] == {
        "transportType": "WebSocket"}
    refused = agent.put(path, json={"eventFilters": [PRESENCE]})
    assert refused.status_code == 400
    deleted = await gateway.request("DELETE", path)
    assert deleted[0]["status"] == 204 and len(deleted) == 1
    assert fresh_sandbox.notify("102", {"telephonyStatus": "Ringing"}) == {"queued": 0}
    missing = await gateway.request("DELETE", path)
    assert missing[0]["status"] == 404
    await gateway.close()


async def test_bad_messages_get_errors_and_the_connection_stays(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    gateway = await gateway_open(agent)
    await gateway.socket.send("not json")
    assert (await gateway.next("Error"))[1]["errorCode"] == "CMN-103"
    await gateway.socket.send('{"type": "Heartbeat"}')
    assert (await gateway.next("Error"))[1]["errorCode"] == "CMN-101"
    webhook = await gateway.request("POST", "/restapi/v1.0/subscription", {
        "eventFilters": [PRESENCE],
        "deliveryMode": {"transportType": "WebHook", "address": "http://127.0.0.1:1/"}})
    assert webhook[0]["status"] == 400
    bad_filter = await gateway.request("POST", "/restapi/v1.0/subscription", {
        "eventFilters": ["/restapi/v1.0/glip/posts"],
        "deliveryMode": {"transportType": "WebSocket"}})
    assert bad_filter[0]["status"] == 400
    other = await gateway.request("GET", "/restapi/v1.0/account/~/extension/~")
    assert other[0]["status"] == 404
    assert (await gateway.subscribe())["status"] == "Active"
    await gateway.close()


async def test_delivery_faults_apply_to_the_gateway(fast: SandboxProcess,
                                                    agent: httpx.Client) -> None:
    gateway = await gateway_open(agent)
    await gateway.subscribe()
    fast.start_call("inbound_answered", extension="102",
                    faults=[{"type": "duplicate", "index": 1}, "out_of_order"])
    notes = await gateway.notifications(4)
    statuses = [n[1]["body"]["telephonyStatus"] for n in notes]
    assert statuses == ["CallConnected", "CallConnected", "Ringing", "NoCall"]
    assert notes[0][1]["uuid"] == notes[1][1]["uuid"]
    # Each copy is its own gateway message: the wsc sequence still only goes up.
    sequences = [n[0]["wsc"]["sequence"] for n in notes]
    assert sequences == sorted(set(sequences))
    fast.start_call("inbound_answered", extension="102", faults=[{"type": "drop", "index": 0}])
    later = await gateway.notifications(2)
    assert [n[1]["body"]["telephonyStatus"] for n in later] == ["CallConnected", "NoCall"]
    await gateway.close()


async def test_an_expired_wstoken_is_refused(fresh_sandbox: SandboxProcess,
                                             agent: httpx.Client) -> None:
    from websockets.asyncio.client import connect

    fresh_sandbox.config(ws_token_ttl=0.2)
    token = ws_token(agent)
    assert token["expires_in"] == 1
    await asyncio.sleep(0.5)
    with pytest.raises(InvalidStatus):
        await connect(f"{token['uri']}?access_token={token['ws_access_token']}")


async def test_a_connected_subscription_renews_itself(fresh_sandbox: SandboxProcess,
                                                      agent: httpx.Client) -> None:
    gateway = await gateway_open(agent)
    answer = await gateway.request("POST", "/restapi/v1.0/subscription/", {
        "eventFilters": [PRESENCE], "deliveryMode": {"transportType": "WebSocket"},
        "expiresIn": 1})
    assert answer[1]["expiresIn"] == 1
    await asyncio.sleep(2.5)
    assert fresh_sandbox.subscriptions()[0]["expired"] is False
    assert fresh_sandbox.notify("102", {"telephonyStatus": "Ringing"}) == {"queued": 1}
    assert (await gateway.notifications(1))[0][1]["subscriptionId"] == answer[1]["id"]
    await gateway.close()


@pytest.mark.parametrize("raw", [
    "[]", "[1, 2]", "[{}, {}, {}]", '[{"type": "ClientRequest"}]', "null", '"text"',
    '[{"type": "ClientRequest", "method": 7, "path": ["x"]}, {}]',
    '[{"type": "ClientRequest", "method": "POST", "path": "/restapi/v1.0/subscription"}, 5]',
    '[{"type": "ClientRequest", "method": "POST", "path": "/restapi/v1.0/subscription"},'
    ' {"eventFilters": "x", "deliveryMode": []}]',
    '[{"type": "ClientRequest", "method": "PATCH", "path": "/restapi/v1.0/subscription/x"}]',
    '[{"type": "ClientRequest", "method": "POST", "path": "/restapi/v1.0/subscription"},'
    ' {"eventFilters": ["' + PRESENCE + '"], "deliveryMode": {"transportType": "WebSocket"},'
    ' "expiresIn": 1e400}]',
    "[" * 5000,
])
async def test_malformed_messages_are_answered_not_fatal(agent: httpx.Client, raw: str) -> None:
    gateway = await gateway_open(agent)
    await gateway.socket.send(raw)
    answer = await gateway.recv()
    assert answer[0]["type"] in {"Error", "ClientRequest"}
    assert 400 <= answer[0]["status"] < 500, answer
    # Still open and serving.
    message_id = await gateway.send({"type": "Heartbeat"})
    assert (await gateway.next("Heartbeat", message_id=message_id))[0]["status"] == 200
    await gateway.close()
