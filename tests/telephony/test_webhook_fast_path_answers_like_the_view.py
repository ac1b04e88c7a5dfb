"""Under ASGI, ``POST /webhooks/ringcentral/`` is answered before Django (webhook/asgi.py).

Every kind of delivery gets the same status from that route as from the Django view, the
event is stored the same way, and anything else on the path still reaches Django."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.db import connection

from crm_cti.asgi import application
from crm_cti.telephony.models import Subscription, TelephonyEvent
from tests.telephony.conftest import WEBHOOK_PATH, fixture_events

pytestmark = pytest.mark.django_db(transaction=True)


async def asgi_request(
    body: bytes, headers: dict[str, str], *, method: str = "POST", chunks: int = 1,
    hosts: tuple[str, ...] = ("127.0.0.1:8000",),
) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http", "http_version": "1.1", "method": method, "scheme": "http",
        "path": WEBHOOK_PATH, "raw_path": WEBHOOK_PATH.encode(), "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", host.encode()) for host in hosts],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }
    app = ApplicationCommunicator(application, scope)
    size = max(1, -(-len(body) // chunks))
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    for n, part in enumerate(parts):
        await app.send_input(
            {"type": "http.request", "body": part, "more_body": n < len(parts) - 1}
        )
    start = await app.receive_output(10)
    answer = await app.receive_output(10)
    await app.wait(1)
    found = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], found, answer.get("body", b"")


def _event(subscription: Subscription) -> dict:
    event = copy.deepcopy(fixture_events("seed_answered_inbound")[0])
    event["uuid"] = uuid.uuid4().hex
    return {"subscriptionId": subscription.rc_id, **event}


def _deliveries(subscription: Subscription, limit: int) -> dict[str, tuple[bytes, dict]]:
    token = {"Verification-Token": subscription.verification_token,
             "Content-Type": "application/json"}
    good = json.dumps(_event(subscription)).encode()
    stranger = json.dumps({**_event(subscription), "subscriptionId": "sub-nobody"}).encode()
    stale = json.dumps({**_event(subscription), "timestamp": "2020-01-01T00:00:00Z"}).encode()
    return {
        "handshake": (b"", {"Validation-Token": "abc-123"}),
        "no token": (good, {"Content-Type": "application/json"}),
        "wrong token": (good, {**token, "Verification-Token": "wrong"}),
        "unknown subscription": (stranger, token),
        "malformed json": (b"{not json", token),
        "not an object": (b"[1, 2]", token),
        "missing fields": (json.dumps({"subscriptionId": subscription.rc_id}).encode(), token),
        "too large": (b"x" * (limit + 1), token),
        "not sent as JSON": (good, {**token, "Content-Type": "text/plain"}),
        "nested too deep": (b"[" * (limit - 1), token),
        "a stranger's garbage": (b"{not json", {**token, "Verification-Token": "nobody"}),
        "stale timestamp": (stale, token),
        "good": (good, token),
    }


async def test_every_delivery_gets_the_views_status(subscription, eager_tasks, client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 4096
    deliveries = await sync_to_async(_deliveries)(subscription, settings.WEBHOOK_MAX_BODY_BYTES)
    for name, (body, headers) in deliveries.items():
        status, found, answer = await asgi_request(body, headers)
        if name == "good":
            # The view gets the same delivery once more: a redelivery, 200 and dropped.
            assert await sync_to_async(TelephonyEvent.objects.count)() == 1
        django_headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()
                          if k != "Content-Type"}
        response = await sync_to_async(client.generic)(
            "POST", WEBHOOK_PATH, body,
            content_type=headers.get("Content-Type", "application/json"), **django_headers
        )
        assert status == response.status_code, (name, answer, response.content)
        assert len(answer) <= 256, name
        if name == "handshake":
            assert found["validation-token"] == "abc-123"
    assert await sync_to_async(TelephonyEvent.objects.count)() == 1


async def test_a_body_streamed_past_the_limit_is_refused_unread(subscription, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = json.dumps({**_event(subscription), "pad": "x" * 5000}).encode()
    status, _found, answer = await asgi_request(
        body, {"Verification-Token": subscription.verification_token}, chunks=10
    )
    assert status == 413 and b"over 1000 bytes" in answer
    assert await sync_to_async(TelephonyEvent.objects.count)() == 0


async def test_a_subscription_recreated_under_the_same_id_still_stores(subscription,
                                                                       eager_tasks):
    headers = {"Verification-Token": subscription.verification_token,
               "Content-Type": "application/json"}
    status, _f, _a = await asgi_request(json.dumps(_event(subscription)).encode(), headers)
    assert status == 200  # the subscription is now cached by this process

    def recreate() -> Subscription:
        # As another process would (no signals here to clear this process's cache).
        fields = {f: getattr(subscription, f) for f in
                  ("rc_id", "verification_token", "status", "event_filters", "mode")}
        with connection.cursor() as cursor:
            cursor.execute("UPDATE telephony_telephonyevent SET subscription_id = NULL")
            cursor.execute("DELETE FROM telephony_subscription WHERE id = %s", [subscription.pk])
        fields["verification_token_hash"] = subscription.verification_token_hash
        return Subscription.objects.bulk_create([Subscription(**fields)])[0]

    renewed = await sync_to_async(recreate)()
    status, _f, _a = await asgi_request(json.dumps(_event(renewed)).encode(), headers)
    assert status == 200
    stored = await sync_to_async(list)(
        TelephonyEvent.objects.filter(subscription=renewed).values_list("pk", flat=True)
    )
    assert len(stored) == 1


async def test_other_methods_go_to_django(subscription):
    status, _found, _answer = await asgi_request(b"", {}, method="GET")
    assert status == 405


@pytest.mark.parametrize(
    ("hosts", "forwarded", "expected"),
    [
        (("127.0.0.1:8000",), "", 200),
        (("localhost",), "", 200),
        (("evil.example",), "", 400),
        (("127.0.0.1:8000", "evil.example"), "", 400),  # two Host headers
        (("bad host!",), "", 400),
        (("127.0.0.1:8000",), "evil.example", 200),     # ignored unless USE_X_FORWARDED_HOST
    ],
)
async def test_the_host_is_checked_as_django_checks_it(subscription, eager_tasks, client,
                                                       hosts, forwarded, expected):
    token = {"Verification-Token": subscription.verification_token,
             "Content-Type": "application/json"}
    if forwarded:
        token["X-Forwarded-Host"] = forwarded
    body = json.dumps(_event(subscription)).encode()
    status, _found, _answer = await asgi_request(body, token, hosts=hosts)
    assert status == expected
    # Django's own check (CommonMiddleware) answers the view alike; the event is then a
    # redelivery when both stored it.
    response = await sync_to_async(client.generic)(
        "POST", WEBHOOK_PATH, body, content_type="application/json",
        HTTP_VERIFICATION_TOKEN=subscription.verification_token,
        HTTP_HOST=",".join(hosts), **({"HTTP_X_FORWARDED_HOST": forwarded} if forwarded else {}),
    )
    assert response.status_code == expected
    assert await sync_to_async(TelephonyEvent.objects.count)() == (1 if expected == 200 else 0)


async def test_a_forwarded_host_is_checked_when_trusted(subscription, settings):
    settings.USE_X_FORWARDED_HOST = True
    token = {"Verification-Token": subscription.verification_token,
             "Content-Type": "application/json", "X-Forwarded-Host": "evil.example"}
    status, _found, _answer = await asgi_request(json.dumps(_event(subscription)).encode(),
                                                 token)
    assert status == 400
    assert await sync_to_async(TelephonyEvent.objects.count)() == 0
