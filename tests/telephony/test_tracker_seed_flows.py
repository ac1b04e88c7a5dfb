"""The three canonical flows of the CTI tutorial, replayed through the webhook view."""

from datetime import UTC, datetime

import pytest

from crm_cti.telephony.models import Call
from tests.telephony.conftest import agent_create, fixture_shift
from tests.telephony.grace import grace_pass, short_grace  # noqa: F401 - fixture


def _at(text: str, fixture: str) -> datetime:
    # Replayed fixtures get fresh times, moved by the same amount (conftest.fixture_shift).
    return datetime.fromisoformat(text).astimezone(UTC) + fixture_shift(fixture)


def _seed_agent(extension_id: str):
    agent = agent_create(extension="107")
    agent.rc_extension_id = extension_id
    agent.save()
    return agent


@pytest.mark.usefixtures("short_grace")
def test_missed_inbound_call(webhook):
    agent = _seed_agent("607457016")
    assert webhook.replay("seed_missed_inbound") == [200, 200]
    # The NoCall has no terminationType "final": another device may ring next.
    call = Call.objects.get()
    assert call.state == "ringing"
    assert call.ended_at is None
    grace_pass()
    call = Call.objects.get()
    assert call.agent == agent
    assert call.session_id == "67029198021"
    assert call.direction == "inbound"
    assert call.state == "missed"
    assert call.from_number == "13027430863"
    assert call.from_e164 == "+13027430863"
    assert call.answered_at is None
    assert call.started_at == _at("2015-04-10T18:48:55.133+00:00", "seed_missed_inbound")
    assert call.ended_at == _at("2015-04-10T18:49:14.679+00:00", "seed_missed_inbound")
    assert call.duration == 0


def test_answered_inbound_call(webhook):
    _seed_agent("607457016")
    assert webhook.replay("seed_answered_inbound") == [200, 200, 200]
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.answered_at == _at("2015-04-10T18:49:26.687+00:00", "seed_answered_inbound")
    assert call.ended_at == _at("2015-04-10T18:49:41.828+00:00", "seed_answered_inbound")
    # Talk time: first seen connected -> ended.
    assert call.duration == 15
    # The final NoCall had "to": "" - it must not blank the number we already know.
    assert call.to_number == "18885434778"


def test_two_legged_ringout(webhook):
    _seed_agent("255537016")
    assert webhook.replay("seed_ringout_two_legged") == [200, 200, 200]
    call = Call.objects.get()
    assert call.direction == "outbound"
    # CallConnected comes when the first leg connects: the events say "answered"; only the
    # call log's result can say whether the callee picked up.
    assert call.state == "ended"
    assert call.to_e164 == "+16502008440"
    assert call.duration == 27


@pytest.mark.usefixtures("short_grace")
def test_calls_of_extensions_without_an_agent_are_kept(webhook):
    assert webhook.replay("seed_missed_inbound") == [200, 200]
    grace_pass()
    call = Call.objects.get()
    assert call.agent is None
    assert call.rc_extension_id == "607457016"
    assert call.state == "missed"
