"""The history is filled from RingCentral's call log on first sign-in, then incrementally:
visiting the history queues an import (at most once per CALLLOG_REFRESH_SECONDS)."""

import pytest
from django.core.cache import cache

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Call
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_new_calls_in_the_call_log_reach_the_history(
    client, rc, django_capture_on_commit_callbacks, eager_tasks
):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_in(client, username="102").status_code == 302
    agent = Agent.objects.get(extension_number="102")
    before = Call.objects.filter(agent=agent).count()

    rc.inject_call_log("102", 12, seed=5, days=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = client.get("/calls/")
    # One import queued (the imported missed calls' follow-ups add callbacks of their own).
    imports = [c for c in callbacks if "calllog_refresh_request" in c.__qualname__]
    assert page.status_code == 200 and len(imports) == 1
    after = Call.objects.filter(agent=agent).count()
    assert after >= before + 10
    assert f"{after} calls" in client.get("/calls/").content.decode()

    # Within the window, another visit queues nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get("/calls/")
    assert callbacks == []
