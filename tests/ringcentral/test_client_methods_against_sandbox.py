"""The client's typed methods against the sandbox: what each returns (the platform's JSON)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm_cti.ringcentral.errors import NotFound


def test_account_extension_and_numbers(rc, rc_client):
    extension = rc_client.get_extension()
    assert str(extension["id"]) == "400000102"
    assert extension["extensionNumber"] == "102"
    assert str(rc_client.get_account()["id"]) == "400000001"
    numbers = rc_client.list_phone_numbers()["records"]
    assert "+16505550102" in [n["phoneNumber"] for n in numbers]


def test_active_calls_of_the_extension(rc, rc_client):
    rc.start_call("interactive", extension="102")
    calls = rc.wait_for(lambda: rc_client.list_active_calls()["records"], timeout=15)
    assert calls[0]["direction"] == "Inbound"


def test_ringout_create_status_cancel(rc, rc_client):
    ringout = rc_client.create_ringout(
        from_number="+16505550102", to_number="+16505550103", play_prompt=False
    )
    status = rc_client.get_ringout(ringout["id"])
    assert status["id"] == ringout["id"]
    assert status["status"]["callStatus"] in {"InProgress", "Success"}
    # Cancelling is only possible while the callee rings; an ended RingOut is NotFound.
    with contextlib.suppress(NotFound):
        rc_client.cancel_ringout(ringout["id"])


def test_sms_and_pager(rc, rc_client):
    sms = rc_client.send_sms(from_number="+16505550102", to_numbers=["+16505550177"], text="Hi")
    assert sms["id"]
    pager = rc_client.send_pager(
        from_extension_number="102", to_extension_numbers=["103"], text="Call me"
    )
    assert pager["id"]
    texts = [m.get("subject") or m.get("text") for m in rc.messages()]
    assert "Hi" in texts and "Call me" in texts


class _EchoValidation(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(200)
        token = self.headers.get("Validation-Token")
        if token:
            self.send_header("Validation-Token", token)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoValidation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/ringcentral/"
    server.shutdown()
    server.server_close()


def test_subscription_lifecycle(rc, rc_client, webhook_receiver):
    presence = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"
    created = rc_client.create_subscription(
        event_filters=[presence],
        address=webhook_receiver,
        verification_token="s3cret-verification",
        expires_in=3600,
    )
    sub_id = created["id"]
    assert created["status"] == "Active"
    assert rc_client.get_subscription(sub_id)["id"] == sub_id
    assert sub_id in [s["id"] for s in rc_client.list_subscriptions()["records"]]
    assert rc_client.renew_subscription(sub_id)["id"] == sub_id
    updated = rc_client.update_subscription(sub_id, expires_in=7200)
    assert updated["eventFilters"] == created["eventFilters"]
    rc_client.delete_subscription(sub_id)
    with pytest.raises(NotFound):
        rc_client.get_subscription(sub_id)
