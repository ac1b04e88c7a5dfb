"""The webhook parser and the call tracker fuzzed with Hypothesis.

Garbage (bytes, any JSON, envelopes with every field mangled) never gets a 500 and nothing
of it is kept as a valid event; well-formed events in any order, duplicated, with sequences
that go backwards, never crash the tracker, never leave a call in an impossible state, and
give the same calls whatever order they arrive in."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_cti.telephony.models import Call, ExtensionState, Subscription, TelephonyEvent
from crm_cti.telephony.notifications import InvalidEvent, event_parse, payload_load
from crm_cti.telephony.webhook.ingest import event_timestamp_refusal
from tests.support.people import eager_tasks  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

WEBHOOK = "/webhooks/ringcentral/"
TOKEN = "fuzz-verification-token-0123456789"
SUB_ID = "sub-fuzz"
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
STATUSES = ["NoCall", "Ringing", "CallConnected", "OnHold", "ParkedCall"]

# Deliveries are dated a few minutes back: the webhook refuses stale ones.
FRESH = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

# Counted for docs/RELIABILITY.md ("bad inputs tried").
TRIED = {"garbage": 0, "mangled": 0, "sequences": 0}


@pytest.fixture
def subscription(db):
    return Subscription.objects.create(rc_id=SUB_ID, verification_token=TOKEN, status="Active")


def _post(client: Client, body: bytes):
    return client.generic("POST", WEBHOOK, body, content_type="application/json",
                          HTTP_VERIFICATION_TOKEN=TOKEN)


def _reset() -> None:
    TelephonyEvent.objects.all().delete()
    Call.objects.all().delete()
    ExtensionState.objects.all().delete()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20,
)
scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.just([]) \
    | st.just({})


def _leg(status, session, direction="Inbound"):
    return {"id": f"l-{session}", "sessionId": session, "telephonySessionId": f"s-{session}",
            "direction": direction, "from": "+14155550100", "to": "+16505550102",
            "startTime": "2026-01-05T11:00:00Z", "telephonyStatus": status}


@st.composite
def mangled_envelopes(draw):
    """A real-looking notification with some fields replaced by anything."""
    envelope = {
        "uuid": draw(st.uuids()).hex,
        "event": "/restapi/v1.0/account/~/extension/400000102/presence?detailedTelephonyState=true",
        "timestamp": FRESH.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "subscriptionId": SUB_ID,
        "body": {
            "extensionId": "400000102",
            "telephonyStatus": draw(st.sampled_from(STATUSES)),
            "activeCalls": [_leg(draw(st.sampled_from(STATUSES)), "fz1")],
            "sequence": draw(st.integers(min_value=1, max_value=50)),
        },
    }
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        target = draw(st.sampled_from(["top", "body", "leg"]))
        if target == "top":
            key = draw(st.sampled_from(["uuid", "timestamp", "body", "subscriptionId"]))
            envelope[key] = copy.deepcopy(draw(scalar | json_values))
        elif target == "body" and isinstance(envelope.get("body"), dict):
            key = draw(st.sampled_from(["extensionId", "telephonyStatus", "activeCalls",
                                        "sequence"]))
            envelope["body"][key] = copy.deepcopy(draw(scalar | json_values))
        elif isinstance(envelope.get("body"), dict) and isinstance(
                envelope["body"].get("activeCalls"), list) and envelope["body"]["activeCalls"]:
            leg = envelope["body"]["activeCalls"][0]
            if isinstance(leg, dict):
                key = draw(st.sampled_from(["sessionId", "telephonyStatus", "direction",
                                            "startTime", "from", "id"]))
                leg[key] = copy.deepcopy(draw(scalar | json_values))
    if envelope.get("subscriptionId") != SUB_ID:
        envelope["subscriptionId"] = SUB_ID  # tested by the token tests; here: the parser
    return envelope


def _check_kept_only_if_valid(payload, response) -> None:
    assert response.status_code < 500, (payload, response.content)
    uuid = ""
    try:
        # As the webhook sees it: NUL characters and lone surrogates cleaned out.
        parsed = event_parse(payload_load(json.dumps(payload).encode()))
        uuid = parsed.uuid
        # Well formed, and recent: the webhook refuses stale or future deliveries.
        valid = not event_timestamp_refusal(parsed.timestamp)
    except InvalidEvent:
        valid = False
    kept = TelephonyEvent.objects.filter(uuid=uuid).exists() if uuid else False
    if valid:
        assert response.status_code == 200 and kept
    else:
        assert response.status_code in (400, 401, 403, 413) and not kept, payload
        assert TelephonyEvent.objects.count() == 0


@FUZZ
@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_garbage_is_refused_and_not_kept(client, subscription, body):
    _reset()
    TRIED["garbage"] += 1
    response = _post(client, body)
    assert response.status_code in (400, 403, 413), (body, response.status_code)
    assert not TelephonyEvent.objects.exists() and not Call.objects.exists()


@FUZZ
@given(payload=mangled_envelopes())
def test_mangled_notifications_never_crash(client, subscription, payload):
    _reset()
    TRIED["mangled"] += 1
    response = _post(client, json.dumps(payload).encode())
    _check_kept_only_if_valid(payload, response)
    # Whatever was kept was applied without an exception and left sane calls behind.
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    _assert_calls_sane()


def _assert_calls_sane() -> None:
    for call in Call.objects.all():
        assert call.state in Call.State.values
        if call.state in Call.FINAL_STATES:
            assert call.ended_at is not None, call.__dict__
        else:
            assert call.ended_at is None, call.__dict__
        assert call.duration is None or call.duration >= 0
        if call.answered_at is not None and call.started_at is not None:
            assert call.answered_at >= call.started_at - timedelta(seconds=1)


@st.composite
def event_streams(draw):
    """Events of two sessions on one extension: any statuses, in any order. Sequences grow
    with time, with gaps (lost events), as the platform numbers them."""
    count = draw(st.integers(min_value=1, max_value=8))
    sequences = sorted(draw(st.lists(st.integers(1, 40), min_size=count, max_size=count,
                                     unique=True)))
    start = FRESH
    events = []
    for i in range(count):
        legs = []
        for session in draw(st.lists(st.sampled_from(["fzA", "fzB"]), max_size=2, unique=True)):
            legs.append(_leg(draw(st.sampled_from(STATUSES)), session))
        events.append({
            "uuid": f"u{i}",
            "timestamp": (start + timedelta(seconds=i * 3)).isoformat().replace("+00:00", "Z"),
            "subscriptionId": SUB_ID,
            "body": {"extensionId": "EXT", "telephonyStatus": legs[0]["telephonyStatus"]
                     if legs else "NoCall",
                     "activeCalls": legs, "sequence": sequences[i]},
        })
    order = draw(st.permutations(range(count)))
    duplicates = draw(st.lists(st.integers(0, count - 1), max_size=2))
    return events, list(order), duplicates


def _nocall_times(events, session) -> set[datetime]:
    times = set()
    for event in events:
        for leg in event["body"]["activeCalls"]:
            if leg["sessionId"] == session and leg["telephonyStatus"] == "NoCall":
                times.add(datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")))
    return times


def _deliver(client, events, order, extension) -> dict[str, tuple]:
    for index in order:
        event = json.loads(json.dumps(events[index]))
        event["uuid"] = f"{extension}-{event['uuid']}"
        event["body"]["extensionId"] = extension
        response = _post(client, json.dumps(event).encode())
        assert response.status_code == 200, response.content
    return {
        c.session_id: (c.state, c.started_at, c.answered_at, c.ended_at, c.duration)
        for c in Call.objects.filter(rc_extension_id=extension)
    }


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(stream=event_streams())
def test_tracker_is_order_safe_idempotent_and_sane(client, subscription, stream):
    _reset()
    TRIED["sequences"] += 1
    events, order, duplicates = stream
    in_order = _deliver(client, events, range(len(events)), "400000701")
    shuffled = _deliver(client, events, order, "400000702")
    # Redeliveries (same uuid) and re-running the task change nothing.
    again = _deliver(client, events, duplicates, "400000702")
    assert again == shuffled
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    _assert_calls_sane()
    # Only the order differs: the same calls, in the same states, started and answered at
    # the same times. (When the platform repeats NoCall for a call already over, the end
    # time is the first NoCall that arrived: compared below as "one of the NoCall times".)
    assert {k: v[:3] for k, v in shuffled.items()} == {k: v[:3] for k, v in in_order.items()}
    for session, (_state, _started, answered, ended, _duration) in shuffled.items():
        if ended is not None:
            assert ended in _nocall_times(events, session) or answered is None or \
                ended >= answered, (session, ended)
