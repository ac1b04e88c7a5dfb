"""The webhook trusts the subscription it found by a token for minutes (reading it for
every delivery was an eighth of the web's CPU per event), yet a token that another process
rotated stops working within about a second: the saving process publishes the change in
Redis and every web process looks there once a second (webhook/ingest.py)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_cti.telephony.models import Subscription, TelephonyEvent
from crm_cti.telephony.webhook import ingest
from tests.support.stack import process_env, wait_until
from tests.telephony.conftest import fixture_events

pytestmark = pytest.mark.django_db(transaction=True)

ROTATE_IN_ANOTHER_PROCESS = """
import django
django.setup()
from crm_cti.telephony.models import Subscription
sub = Subscription.objects.get(pk={pk})
sub.verification_token = "rotated-elsewhere-0123456789"
sub.save()
"""


def _delivery() -> dict:
    # Each delivery its own uuid: a redelivery would be answered 200 whatever the token.
    return {**fixture_events("seed_missed_inbound")[0], "uuid": str(uuid.uuid4())}


def _subscription_reads(queries: CaptureQueriesContext) -> int:
    table = Subscription._meta.db_table
    return sum(1 for q in queries.captured_queries
               if q["sql"].lstrip().upper().startswith("SELECT") and table in q["sql"])


def test_a_cached_token_costs_no_query_and_a_rotated_one_is_refused_soon(
    distributed_mode, webhook, subscription
):
    ingest.subscription_cache_clear()
    assert webhook.post(_delivery()).status_code == 200  # read once, cached from now on

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert webhook.post(_delivery()).status_code == 200
    assert _subscription_reads(queries) == 0
    assert TelephonyEvent.objects.count() == 6

    # A beat task or a sign-in in another process gives the row a fresh token. This
    # process's own signals never see that save.
    subprocess.run(
        [sys.executable, "-c", ROTATE_IN_ANOTHER_PROCESS.format(pk=subscription.pk)],
        env=process_env(), check=True, timeout=120, capture_output=True,
    )
    wait_until(lambda: webhook.post(_delivery()).status_code == 401, timeout=10,
               what="the old token refused after another process rotated it")
    assert webhook.post(_delivery(), token="rotated-elsewhere-0123456789").status_code == 200


def test_without_redis_to_ask_the_cache_is_trusted_only_briefly(
    distributed_mode, webhook, subscription, monkeypatch
):
    ingest.subscription_cache_clear()
    monkeypatch.setattr(ingest, "redis_client", lambda: None)
    monkeypatch.setattr(ingest, "_changes_read_at", 0.0)
    assert webhook.post(_delivery()).status_code == 200
    assert ingest._cache_trust_seconds() == ingest.SUBSCRIPTION_CACHE_SECONDS_UNWATCHED
