"""On the real PostgreSQL: an event PostgreSQL would refuse for good is never answered 503
(the platform would redeliver it until it blacklists the subscription).

A caller name with a NUL character or a lone surrogate (sent as JSON escapes) is stored
without them and answered 200; absurd leg times are clamped; any other permanent refusal by
the database is a 400, logged. (A database that is down is still a 503:
tests/resilience/test_postgres_outage_answers_503.py.)"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection

from crm_cti.telephony.models import Call, TelephonyEvent
from crm_cti.telephony.notifications import EARLIEST_TIME, LATEST_TIME, parse_time
from tests.telephony.conftest import fixture_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _on_postgres(distributed_mode, db) -> None:
    # SQLite stores NUL and lone surrogates: the defect lives on PostgreSQL only.
    assert connection.vendor == "postgresql"


def _ringing(webhook, name_json: str) -> bytes:
    """The first event of the seed's missed call, its caller name given as raw JSON text
    (so escapes reach the webhook exactly as the platform would send them)."""
    event = copy.deepcopy(fixture_events("seed_missed_inbound")[0])
    event["subscriptionId"] = webhook.subscription.rc_id
    event["uuid"] = uuid.uuid4().hex
    event["body"]["activeCalls"][0]["fromName"] = "@@NAME@@"
    return json.dumps(event).encode().replace(b'"@@NAME@@"', name_json.encode())


@pytest.mark.parametrize(
    ("name_json", "stored"),
    [
        (r'"Ann\u0000Smith"', "AnnSmith"),
        (r'"Bob \ud800 Jones"', "Bob \ufffd Jones"),
        (r'"\udfff\u0000"', "\ufffd"),
    ],
    ids=["nul", "lone-high-surrogate", "lone-low-surrogate-and-nul"],
)
def test_a_caller_name_postgres_refuses_is_kept_cleaned(webhook, name_json, stored):
    response = webhook.post(None, raw=_ringing(webhook, name_json))
    assert response.status_code == 200, response.content
    event = TelephonyEvent.objects.get()
    assert event.payload["body"]["activeCalls"][0]["fromName"] == stored
    call = Call.objects.get()
    assert call.from_name == stored
    assert event.processed_at is not None and event.outcome == "applied"


def test_nul_in_a_key_and_an_infinite_number_are_kept_cleaned(webhook):
    raw = _ringing(webhook, '"Ann"').replace(b'"body": {', b'"bo\\u0000gus": 1e400, "body": {', 1)
    response = webhook.post(None, raw=raw)
    assert response.status_code == 200, response.content
    assert TelephonyEvent.objects.get().payload["bogus"] is None


@pytest.mark.parametrize(
    ("start", "started"),
    [("0001-01-01T00:00:00+14:00", "earliest"), ("9999-12-31T23:59:59-12:00", "event"),
     ("2099-01-01T00:00:00Z", "event")],
)
def test_absurd_leg_times_are_clamped(webhook, start, started):
    event = copy.deepcopy(fixture_events("seed_missed_inbound")[0])
    event["body"]["activeCalls"][0]["startTime"] = start
    assert webhook.post(event).status_code == 200
    # Into 2000-2100, and never after the event that reports the call.
    expected = EARLIEST_TIME if started == "earliest" else parse_time(event["timestamp"])
    assert Call.objects.get().started_at == expected
    assert EARLIEST_TIME <= expected < LATEST_TIME


@pytest.fixture
def events_check() -> Iterator[None]:
    """A CHECK constraint PostgreSQL enforces on stored events: a permanent refusal that
    cleaning cannot prevent (as a constraint added by a later migration could be)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE telephony_telephonyevent ADD CONSTRAINT test_no_forbidden_extension "
            "CHECK (rc_extension_id <> '607457016')"
        )
        cursor.execute(
            "ALTER TABLE telephony_telephonyevent ADD CONSTRAINT test_numeric_sequence_note "
            "CHECK ((payload->>'note') IS NULL OR (payload->>'note')::int >= 0)"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE telephony_telephonyevent "
                       "DROP CONSTRAINT test_no_forbidden_extension, "
                       "DROP CONSTRAINT test_numeric_sequence_note")


@pytest.mark.usefixtures("events_check")
def test_other_permanent_refusals_are_400_not_503(webhook, caplog):
    integrity = copy.deepcopy(fixture_events("seed_missed_inbound")[0])   # check_violation
    data = copy.deepcopy(fixture_events("hold_resume")[0])
    data["note"] = "not a number"                                         # invalid_text
    with caplog.at_level(logging.WARNING, logger="crm_cti.telephony.webhook.ingest"):
        for event in (integrity, data):
            response = webhook.post(event)
            assert response.status_code == 400, response.content
            assert len(response.content) < 1024
    assert "refused by the database for good" in caplog.text
    assert not TelephonyEvent.objects.exists()
    # The same delivery again is refused again, never stored by halves.
    assert webhook.post(integrity).status_code == 400
    assert not TelephonyEvent.objects.exists()
