"""The caller is matched to a contact by normalized E.164; extensions resolve to agents."""

import time

from crm_cti.crm.matching import party_match
from crm_cti.telephony.models import Call
from crm_cti.telephony.serializers import call_to_dict
from tests.telephony.conftest import agent_create, contact_make


def test_number_without_plus_matches_the_contact(webhook, agent):
    contact = contact_make("Phil", "Marco", "+13027430863", company="Acme")
    webhook.replay("seed_missed_inbound")
    call = Call.objects.get()
    assert call.contact == contact
    pop = call_to_dict(call)["contact"]
    assert pop == {
        "id": contact.pk,
        "name": "Phil Marco",
        "company": "Acme",
        "url": contact.get_absolute_url(),
        "others": 0,
    }


def test_several_contacts_on_one_number_pick_the_most_recent(db):
    older = contact_make("Old", "Entry", "+13027430863")
    time.sleep(0.01)
    newer = contact_make("New", "Entry", "+13027430863")
    older.save()  # touched last: now the most recently updated
    match = party_match(raw_number="13027430863")
    assert match.contact == older
    assert match.contact_count == 2
    assert match.others == 1
    assert newer != older


def test_pop_says_there_are_others(webhook, agent):
    contact_make("A", "One", "+13027430863")
    contact_make("B", "Two", "+13027430863")
    contact_make("C", "Three", "+13027430863")
    webhook.replay("seed_missed_inbound")
    assert call_to_dict(Call.objects.get())["contact"]["others"] == 2


def test_unknown_number_has_no_contact(webhook, agent):
    webhook.replay("seed_missed_inbound")
    call = Call.objects.get()
    assert call.contact is None
    assert call_to_dict(call)["contact"] is None


def test_short_extension_number_resolves_to_an_agent(db):
    admin = agent_create(extension="101", name="Ada Admin")
    match = party_match(raw_number="101")
    assert match.agent == admin
    assert match.contact is None


def test_outbound_call_matches_the_callee(webhook, agent):
    contact = contact_make("Callee", "Person", "+16502008440")
    agent.rc_extension_id = "255537016"
    agent.save()
    webhook.replay("seed_ringout_two_legged")
    assert Call.objects.get().contact == contact
