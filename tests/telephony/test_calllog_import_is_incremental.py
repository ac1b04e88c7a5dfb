"""History import: the agent's call log becomes Call rows, then only what is new."""

import pytest

from crm_cti.ringcentral.budget import budget_reset
from crm_cti.telephony.models import Call, CallLogSync
from crm_cti.telephony.services import calllog
from tests.support.agents import agent_sign_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def sandbox_agent(fresh_sandbox, settings, db):
    settings.RC_SERVER_URL = fresh_sandbox.url
    budget_reset()
    return agent_sign_in(fresh_sandbox, "102")


def test_import_then_incremental(fresh_sandbox, sandbox_agent):
    injected = fresh_sandbox.inject_call_log("102", 25, seed=7)["records"]
    assert calllog.calllog_import(agent=sandbox_agent) == 25
    calls = Call.objects.filter(agent=sandbox_agent)
    assert calls.count() == 25
    by_session = {c.session_id: c for c in calls}
    for record in injected:
        call = by_session[record["sessionId"]]
        assert call.result == record["result"]
        expected = {"Missed": "missed", "Voicemail": "voicemail"}.get(record["result"], "ended")
        assert call.state == expected
        assert call.enrichment == Call.Enrichment.DONE
        assert (call.recording is not None) == bool(record["recordingId"])
        assert call.legs
    sync = CallLogSync.objects.get(agent=sandbox_agent)
    assert sync.synced_until is not None

    # Nothing new: nothing re-imported (the overlap window holds no records).
    assert calllog.calllog_import(agent=sandbox_agent) == 0
    assert Call.objects.filter(agent=sandbox_agent).count() == 25
