"""A call-log (or active-calls) record whose values do not fit our columns — a caller name
of 300 characters, a 60-character number, an odd result, a negative or huge duration — is
kept with its values cut to the columns, never refused by PostgreSQL (which used to fail
the call's enrichment on every try, and the whole history import with it). Real
PostgreSQL: SQLite does not enforce the lengths."""

from __future__ import annotations

import pytest

from crm_cti.telephony.models import Call
from crm_cti.telephony.services import calllog
from tests.support.people import call_make

pytestmark = [pytest.mark.integration]

LONG_NAME = "Dr. " + "Very Long Caller Name " * 14  # ~312 characters


def _record(**changes):
    record = {
        "id": "A" * 90,
        "sessionId": "cut-1",
        "telephonySessionId": "T" * 90,
        "startTime": "2026-01-05T10:00:00.000Z",
        "duration": -5,
        "type": "Voice",
        "direction": "Inbound",
        "result": "Some result the platform may add one day, longer than sixty-four characters",
        "from": {"phoneNumber": "+1" + "4" * 60, "name": LONG_NAME},
        "to": {"phoneNumber": "+16505550102", "name": "N" * 250},
    }
    record.update(changes)
    return record


def test_a_record_with_overlong_values_is_kept_cut(distributed_mode, transactional_db, agent):
    call = call_make(agent, session_id="cut-1", from_number="", from_e164="", to_number="",
                     to_e164="", duration=None)
    calllog.call_log_record_apply(call=call, record=_record())
    call.save()
    call.refresh_from_db()
    assert call.from_name == LONG_NAME[:200]
    assert call.to_name == "N" * 200
    assert len(call.from_number) == 40 and len(call.rc_call_log_id) == 64
    assert len(call.result) == 64 and len(call.telephony_session_id) == 64
    assert call.duration == 0
    assert call.enrichment == Call.Enrichment.DONE

    other = call_make(agent, session_id="cut-2", duration=None)
    calllog.call_log_record_apply(call=other, record=_record(sessionId="cut-2",
                                                              duration=10**12))
    other.save()
    other.refresh_from_db()
    assert other.duration == 2**31 - 1
