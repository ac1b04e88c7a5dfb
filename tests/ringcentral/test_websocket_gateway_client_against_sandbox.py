"""``crm_cti.ringcentral.websocket`` against the sandbox's gateway: the wstoken through the
client (Auth group), ConnectionDetails, a subscription made with ClientRequest, a
notification, renew and delete; recovery with ``wsc``; a drop ends in ``GatewayClosed``; a
request the gateway refuses is a typed error."""

from __future__ import annotations

import pytest

from crm_cti.ringcentral.errors import NotFound
from crm_cti.ringcentral.websocket import GatewayClosed, gateway_open

PRESENCE = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"

pytestmark = pytest.mark.integration


def _notification(gateway, timeout: float = 15.0):
    for _ in range(50):
        message = gateway.recv(timeout=timeout)
        if message is not None and message.kind == "ServerNotification":
            return message
    raise AssertionError("no ServerNotification")


def test_subscribe_receive_renew_delete_and_recover(rc, rc_client):
    gateway = gateway_open(rc_client)
    assert gateway.details.kind == "ConnectionDetails" and gateway.wsc
    assert gateway.recovery_state is None and gateway.details.sequence == 1
    assert gateway.timeout("absoluteTimeout", 1) == 86400
    info = gateway.subscribe([PRESENCE])
    assert info["deliveryMode"]["transportType"] == "WebSocket" and info["status"] == "Active"
    stats = rc.stats()
    assert stats["by_operation"]["POST /restapi/oauth/wstoken"] == 1
    assert stats["requests"]["Auth"] >= 1

    assert rc.notify("102", {"telephonyStatus": "Ringing"}) == {"queued": 1}
    note = _notification(gateway)
    assert note.body["subscriptionId"] == info["id"] and note.sequence == 2
    assert gateway.subscription_renew(info["id"])["id"] == info["id"]

    # Dropped: the next read says so, typed; reconnecting with wsc recovers what was missed.
    assert rc.http.post("/sandbox/ws/drop", json={"extension": "102"}).json() == {"dropped": 1}
    with pytest.raises(GatewayClosed):
        for _ in range(20):
            gateway.recv(timeout=5)
    rc.wait_for(lambda: not any(s["connected"] for s in
                                rc.http.get("/sandbox/ws/sessions").json()))
    assert rc.notify("102", {"telephonyStatus": "NoCall"}) == {"queued": 1}
    again = gateway_open(rc_client, wsc=gateway.wsc)
    assert again.recovery_state == "Successful" and again.wsc == gateway.wsc
    replayed = _notification(again)
    assert replayed.body["body"]["telephonyStatus"] == "NoCall"
    assert replayed.sequence < again.details.sequence  # missed before this connection

    again.subscription_delete(info["id"])
    with pytest.raises(NotFound):
        again.subscription_renew(info["id"])
    again.close()


def test_a_refused_recovery_opens_a_new_session(rc, rc_client):
    rc.config(ws_refuse_recovery=True)
    gateway = gateway_open(rc_client)
    gateway.subscribe([PRESENCE])
    gateway.close()
    again = gateway_open(rc_client, wsc=gateway.wsc)
    assert again.recovery_state == "Failed" and again.wsc != gateway.wsc
    again.close()
