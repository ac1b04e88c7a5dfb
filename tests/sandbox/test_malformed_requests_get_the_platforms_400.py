"""Whatever a client sends to any REST route of the sandbox, the answer is never a 500: a
malformed request gets the platform's error body (``errorCode``, ``message``, ``errors``),
valid against the spec's schema for that status. Hypothesis takes a valid request of each
route and breaks one thing: a body field (a wrong type, a number JSON cannot hold such as
``1e400``, a missing key), a query parameter, a path id, or the content type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox.spec import _validator, load_or_skip
from tests.support.sandbox import SandboxProcess

ACCOUNT = "/restapi/v1.0/account/{accountId}"
EXTENSION = ACCOUNT + "/extension/{extensionId}"

# (method, spec template, a valid body or None). Each route's own tests show these succeed.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", ACCOUNT, None),
    ("GET", EXTENSION, None),
    ("GET", EXTENSION + "/phone-number", None),
    ("GET", EXTENSION + "/presence", None),
    ("GET", ACCOUNT + "/presence", None),
    ("GET", ACCOUNT + "/call-log", None),
    ("GET", EXTENSION + "/call-log", None),
    ("GET", ACCOUNT + "/call-log/{callRecordId}", None),
    ("GET", EXTENSION + "/call-log/{callRecordId}", None),
    ("GET", ACCOUNT + "/active-calls", None),
    ("GET", EXTENSION + "/active-calls", None),
    ("GET", ACCOUNT + "/recording/{recordingId}", None),
    ("POST", EXTENSION + "/sms", {
        "from": {"phoneNumber": "+16505550101"}, "to": [{"phoneNumber": "+16504445567"}],
        "text": "Hello"}),
    ("POST", EXTENSION + "/company-pager", {
        "from": {"extensionNumber": "101"}, "to": [{"extensionNumber": "103"}],
        "text": "Line 2"}),
    ("POST", EXTENSION + "/ring-out", {
        "from": {"phoneNumber": "+16505550101"}, "to": {"phoneNumber": "+16504445567"},
        "callerId": {"phoneNumber": "+16505550101"}, "playPrompt": False}),
    ("GET", EXTENSION + "/ring-out/{ringoutId}", None),
    ("DELETE", EXTENSION + "/ring-out/{ringoutId}", None),
    ("POST", "/restapi/v1.0/subscription", {
        "eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"],
        "deliveryMode": {"transportType": "WebHook", "address": "http://127.0.0.1:9/hook",
                         "verificationToken": "tok"},
        "expiresIn": 3600}),
    ("GET", "/restapi/v1.0/subscription", None),
    ("GET", "/restapi/v1.0/subscription/{subscriptionId}", None),
    ("PUT", "/restapi/v1.0/subscription/{subscriptionId}", {
        "eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"], "expiresIn": 60}),
    ("POST", "/restapi/v1.0/subscription/{subscriptionId}/renew", None),
    ("DELETE", "/restapi/v1.0/subscription/{subscriptionId}", None),
    ("GET", EXTENSION + "/message-store", None),
    ("GET", EXTENSION + "/message-store/{messageId}", None),
    ("PUT", EXTENSION + "/message-store/{messageId}", {"readStatus": "Read"}),
    ("PATCH", EXTENSION + "/message-store/{messageId}", {"readStatus": "Unread",
                                                         "availability": "Alive"}),
    ("DELETE", EXTENSION + "/message-store/{messageId}", None),
    ("GET", EXTENSION + "/message-store/{messageId}/content/{attachmentId}", None),
    ("GET", EXTENSION + "/message-sync", None),
]

QUERY_NAMES = [
    "page", "perPage", "dateFrom", "dateTo", "view", "type", "direction", "withRecording",
    "recordingType", "sessionId", "telephonySessionId", "phoneNumber", "extensionNumber",
    "detailedTelephonyState", "sipData", "status", "showBlocked", "messageType",
    "readStatus", "availability", "conversationId", "distinctConversations", "syncType",
    "syncToken", "recordCount", "purge", "contentDisposition", "contentDispositionFilename",
]
ODD_TEXT = [
    "", "max", "0", "-1", "1001", "99999999999999999999", "9" * 5000, "1e3", "1_000", "true",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-13-45", "NaN", "\x00",
    "%", "🙂", "Detailed", "Inbound", "Voice",
]
# Number tokens Python's json.dumps cannot write but a client can send.
RAW_NUMBERS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-0", "1.5"]

json_leaves = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(ODD_TEXT)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)


class Raw:
    """A number token written verbatim into the JSON text."""

    def __init__(self, token: str) -> None:
        self.token = token


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if new is _DELETE and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replaced(value[head], rest, new)
        return copy
    copy = list(value)
    copy[head] = _replaced(value[head], rest, None if new is _DELETE and not rest else new)
    return copy


_DELETE = object()


def _dumps(value: Any) -> bytes:
    tokens: list[str] = []

    def default(obj: Any) -> str:
        if isinstance(obj, Raw):
            tokens.append(obj.token)
            return f"__raw_{len(tokens) - 1}__"
        raise TypeError(obj)

    text = json.dumps(value, default=default)
    for index, token in enumerate(tokens):
        text = text.replace(f'"__raw_{index}__"', token)
    return text.encode()


@st.composite
def broken_requests(draw: st.DrawFn, me: dict[str, Any]) -> dict[str, Any]:
    """``me["ids"]``: a real id for each path parameter, so that most requests get past the
    lookup to the validation of what they carry."""
    ids = me["ids"]
    method, template, valid = draw(st.sampled_from(ROUTES))
    valid = None if valid is None else _personal(valid, me)
    path = template
    for name in ("accountId", "extensionId", "callRecordId", "recordingId", "ringoutId",
                 "subscriptionId", "messageId", "attachmentId"):
        if "{" + name + "}" not in path:
            continue
        # DELETE gets made-up ids only: deleting the real ones would leave 404s behind.
        real = ids[name] if method != "DELETE" or name in ("accountId", "extensionId") else "x"
        value = real
        if draw(st.integers(0, 9)) == 0:  # mostly the real one
            value = draw(st.sampled_from(["0", "-1", "%2F", "x" * 300])
                         | st.text(min_size=1, max_size=30).map(lambda t: quote(t, safe="")))
        path = path.replace("{" + name + "}", value)
    query = draw(st.dictionaries(st.sampled_from(QUERY_NAMES),
                                 st.sampled_from(ODD_TEXT) | st.text(max_size=20), max_size=4))
    content_type = "application/json"
    body: bytes | None = None
    if valid is not None:
        kind = draw(st.sampled_from(["field", "field", "field", "whole", "garbage", "type"]))
        if kind == "field":
            where = draw(st.sampled_from(list(_paths(valid))[1:]))
            new = draw(json_values | st.sampled_from(RAW_NUMBERS).map(Raw) | st.just(_DELETE))
            body = _dumps(_replaced(valid, where, new))
        elif kind == "whole":
            body = _dumps(draw(json_values | st.sampled_from(RAW_NUMBERS).map(Raw)))
        elif kind == "garbage":
            body = draw(st.binary(max_size=60))
        else:
            body = _dumps(valid)
            content_type = draw(st.sampled_from([
                "multipart/form-data; boundary=x", "multipart/form-data",
                "application/x-www-form-urlencoded", "text/plain",
                "application/json; charset=latin-1",
            ]))
            if content_type.startswith("multipart") and draw(st.booleans()):
                body = draw(st.binary(max_size=80))
    return {"method": method, "template": template, "path": path, "query": query,
            "body": body, "content_type": content_type}


@pytest.fixture
def clients(fresh_sandbox: SandboxProcess, receiver) -> Iterator[dict[str, Any]]:
    """An admin and an agent, each with a subscription, a RingOut, a call-log record and a
    recording of their own, and ROUTES' bodies pointed at them."""
    load_or_skip()
    fresh_sandbox.config(rate_limits={"enabled": False}, delivery_timeout=0.5)
    fresh_sandbox.inject_call_log("101", 6, seed=1)
    fresh_sandbox.inject_call_log("102", 6, seed=2)
    with fresh_sandbox.api("101") as admin, fresh_sandbox.api("102") as agent:
        found = {}
        for who, client, number in (("admin", admin, "101"), ("agent", agent, "102")):
            me = client.get("/restapi/v1.0/account/~/extension/~").json()
            direct = fresh_sandbox.user(number)["direct_number"]
            records = client.get("/restapi/v1.0/account/~/extension/~/call-log",
                                 params={"dateFrom": "2000-01-01", "view": "Detailed"}
                                 ).json()["records"]
            recorded = next((r for r in records if r.get("recording")), records[0])
            sub = client.post("/restapi/v1.0/subscription", json={
                "eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"],
                "deliveryMode": {"transportType": "WebHook", "address": receiver.url},
            })
            assert sub.status_code == 200, sub.text
            ringout = client.post("/restapi/v1.0/account/~/extension/~/ring-out", json={
                "from": {"phoneNumber": direct},
                "to": {"phoneNumber": "+16504445567"}})
            assert ringout.status_code == 200, ringout.text
            message = fresh_sandbox.http.post("/sandbox/sms", json={
                "extension": number, "from": "+16504445567", "text": "Hi"}).json()
            found[who] = {
                "client": client, "number": number, "direct": direct,
                "address": receiver.url,
                "ids": {"accountId": "~", "extensionId": str(me["id"]),
                        "callRecordId": recorded["id"],
                        "recordingId": (recorded.get("recording") or {}).get("id", "1"),
                        "ringoutId": ringout.json()["id"], "subscriptionId": sub.json()["id"],
                        "messageId": str(message["id"]),
                        "attachmentId": str(message["attachments"][0]["id"])},
            }
        yield found


def _check(response: httpx.Response, request: dict[str, Any]) -> None:
    described = (f"{request['method']} {request['path']} {request['query']} "
                 f"{request['content_type']} {request['body']!r:.300}")
    assert response.status_code < 500, f"{response.status_code} for {described}: {response.text}"
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body.get("errorCode"), str) and isinstance(body.get("message"), str), (
        described, body)
    assert isinstance(body.get("errors"), list) and body["errors"], (described, body)
    validator = _validator(request["method"], request["template"], response.status_code,
                           "application/json")
    if validator is not None:
        errors = list(validator.iter_errors(body))
        assert not errors, (described, body, [e.message for e in errors[:3]])


def _personal(value: Any, me: dict[str, Any]) -> Any:
    """ROUTES' bodies name extension 101's numbers; the agent sends its own."""
    text = json.dumps(value)
    for old, new in (("+16505550101", me["direct"]), ('"101"', f'"{me["number"]}"'),
                     ("http://127.0.0.1:9/hook", me["address"])):
        text = text.replace(old, new)
    return json.loads(text)


@settings(max_examples=800, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_malformed_request_gets_a_500(clients, data) -> None:
    me = clients[data.draw(st.sampled_from(["admin", "agent"]))]
    request = data.draw(broken_requests(me))
    response = me["client"].request(
        request["method"], request["path"], params=request["query"],
        content=request["body"],
        headers={"Content-Type": request["content_type"]} if request["body"] is not None else {},
    )
    _check(response, request)


@pytest.mark.parametrize(("template", "body"), [
    # The two: a pager "from" that is not an object, an expiresIn JSON cannot hold.
    (EXTENSION + "/company-pager",
     b'{"from": "102", "to": [{"extensionNumber": "103"}], "text": "x"}'),
    ("/restapi/v1.0/subscription",
     b'{"eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"], "deliveryMode": '
     b'{"transportType": "WebHook", "address": "http://127.0.0.1:9/h"}, "expiresIn": 1e400}'),
    # JSON nested deeper than a recursive parser goes.
    (EXTENSION + "/sms", b"[" * 100_000 + b"]" * 100_000),
])
def test_the_reported_crashes_are_400s(clients, template, body) -> None:
    path = template.replace("{accountId}", "~").replace("{extensionId}", "~")
    response = clients["agent"]["client"].post(path, content=body,
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "InvalidParameter"
    _check(response, {"method": "POST", "template": template, "path": path, "query": {},
                      "content_type": "application/json", "body": body})


def test_a_filename_outside_latin1_does_not_break_the_content_header(clients) -> None:
    """Found by the property test above: ``contentDispositionFilename=Ā`` (a header is
    Latin-1) dropped the connection; the name now goes in ``filename*`` too."""
    me = clients["admin"]
    ids = me["ids"]
    path = (f"/restapi/v1.0/account/~/extension/{ids['extensionId']}/message-store/"
            f"{ids['messageId']}/content/{ids['attachmentId']}")
    response = me["client"].get(path, params={"contentDispositionFilename": "Ā\r\nx.txt"})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('inline; filename="x.txt"; ')
    assert "filename*=UTF-8''%C4%80%0D%0Ax.txt" in disposition
