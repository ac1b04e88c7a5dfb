"""Several contacts on one number: the team's policy picks who pops (most recently
updated, most recent call, or nobody until the agent chooses); the agent's choice is
remembered for that number; a company line matches the company, never a person. The call
says why (rule and the stored number that matched)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_cti.accounts.preferences import team_settings_update
from crm_cti.crm.matching import Rule
from crm_cti.crm.models import Contact, ContactPhone
from crm_cti.crm.services import company_line_mark
from crm_cti.telephony.call_rules import call_match_other_party
from crm_cti.telephony.models import Call
from crm_cti.telephony.services.calls import call_contact_choose
from tests.support.people import call_make, contact_make

pytestmark = pytest.mark.django_db

SHARED = "+14155550123"


@pytest.fixture
def three_contacts():
    """Older Ann (has the newest call), Bob, then the most recently updated Cat."""
    ann = contact_make("Ann", "Old", SHARED, company="Acme")
    bob = contact_make("Bob", "Mid", SHARED, company="Acme")
    cat = contact_make("Cat", "New", SHARED, company="Acme")
    base = timezone.now() - timedelta(days=3)
    for offset, contact in enumerate((ann, bob, cat)):
        Contact.objects.filter(pk=contact.pk).update(updated_at=base + timedelta(hours=offset))
    return ann, bob, cat


def _ring(agent, number=SHARED) -> Call:
    """A new ringing call from ``number``, matched as the tracker matches every call."""
    call = call_make(agent, from_number=number, from_e164=number, state="ringing",
                     answered_at=None, ended_at=None, duration=None, contact=None)
    call_match_other_party(call)
    call.save()
    return call


def test_most_recently_updated_is_the_default(agent, three_contacts):
    _ann, _bob, cat = three_contacts
    call = _ring(agent)
    assert call.contact == cat
    assert call.contact_matches == 3
    assert call.match_info["rule"] == Rule.UPDATED
    assert [c["name"] for c in call.match_info["candidates"]] == ["Cat New", "Bob Mid", "Ann Old"]


def test_most_recent_call_policy(agent, three_contacts):
    ann, bob, _cat = three_contacts
    call_make(agent, contact=bob, started_at=timezone.now() - timedelta(days=2))
    call_make(agent, contact=ann, started_at=timezone.now() - timedelta(hours=1))
    team_settings_update(match_policy="recent_call")
    call = _ring(agent)
    assert (call.contact, call.match_info["rule"]) == (ann, Rule.RECENT_CALL)


def test_ask_policy_pops_nobody_and_offers_the_candidates(agent, three_contacts):
    team_settings_update(match_policy="ask")
    call = _ring(agent)
    assert call.contact is None
    assert call.match_info["rule"] == Rule.ASK
    assert len(call.match_info["candidates"]) == 3


def test_the_agents_choice_is_remembered_for_the_number(agent, other_agent, three_contacts):
    ann, _bob, cat = three_contacts
    team_settings_update(match_policy="ask")
    first = _ring(agent)
    call_contact_choose(call=first, contact=ann)
    first.refresh_from_db()
    assert (first.contact, first.match_info["rule"]) == (ann, Rule.CHOICE)

    again = _ring(agent)
    assert (again.contact, again.match_info["rule"]) == (ann, Rule.CHOICE)
    assert again.match_info["number"] == SHARED
    # Another agent's calls follow the policy, not this agent's choice.
    team_settings_update(match_policy="updated")
    assert _ring(other_agent).contact == cat


def test_a_contact_without_the_number_cannot_be_chosen(agent, three_contacts):
    from crm_cti.telephony.services.calls import CallNotValid

    stranger = contact_make("Sam", "Stranger", "+14155550999")
    with pytest.raises(CallNotValid):
        call_contact_choose(call=_ring(agent), contact=stranger)


def test_a_company_line_matches_the_company(agent, three_contacts):
    company_line_mark(raw="(415) 555-0123", company="Acme Inc")
    call = _ring(agent)
    assert call.contact is None
    assert call.match_info == {"rule": Rule.COMPANY_LINE, "company": "Acme Inc"}


def test_a_single_contact_says_which_stored_number_matched(agent):
    contact = contact_make("Dee", "Solo", "+14155550144")
    ContactPhone.objects.filter(contact=contact).update(raw="415.555.0144", label="mobile")
    call = _ring(agent, "+14155550144")
    assert call.contact == contact
    assert call.match_info == {"rule": Rule.ONLY, "number": "415.555.0144", "label": "Mobile"}


def test_a_contacts_call_costs_one_query_an_unknown_number_two(agent):
    contact_make("Eve", "Only", "+14155550155")
    call = call_make(agent, from_number="+14155550155", from_e164="+14155550155")
    with CaptureQueriesContext(connection) as queries:
        call_match_other_party(call)
    assert len(queries) == 1 and call.contact.first_name == "Eve"
    unknown = call_make(agent, from_number="+14155550166", from_e164="+14155550166")
    with CaptureQueriesContext(connection) as queries:
        call_match_other_party(unknown)
    assert len(queries) == 2 and unknown.contact is None
