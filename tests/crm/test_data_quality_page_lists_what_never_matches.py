"""The data-quality page (admins) lists stored numbers that do not parse, numbers shared by
many contacts (one click marks one a company line), and contacts without a number; a
number added from a pop card is audited and makes the next call from it match."""

import pytest

from crm_cti.crm.models import CompanyLine, Contact, ContactChange, ContactPhone
from crm_cti.telephony.call_rules import call_match_other_party
from tests.support.people import call_make, contact_make

pytestmark = pytest.mark.django_db


def test_the_page_lists_each_problem_with_its_fix(admin_client_agent):
    broken = contact_make("Bad", "Number")
    ContactPhone.objects.create(contact=broken, raw="12", e164="12")
    for first in ("Ann", "Bob", "Cat"):
        contact_make(first, "Acme", "+14155550100", company="Acme")
    lonely = Contact.objects.create(first_name="No", last_name="Phone")

    page = admin_client_agent.get("/contacts/data-quality/").content.decode()
    bad = page.split('id="bad-numbers"')[1].split("</section>")[0]
    assert "Bad Number" in bad and f"/contacts/{broken.pk}/edit/" in bad
    shared = page.split('id="shared-numbers"')[1].split("</section>")[0]
    assert 'data-number="+14155550100"' in shared and "3 contacts" in shared
    assert 'name="company" value="Acme"' in shared
    without = page.split('id="without-number"')[1].split("</section>")[0]
    assert "No Phone" in without and f"/contacts/{lonely.pk}/edit/" in without

    response = admin_client_agent.post(
        "/contacts/company-lines/mark/", {"number": "+14155550100", "company": "Acme"}
    )
    assert response.status_code == 302
    assert CompanyLine.objects.get().company == "Acme"
    page = admin_client_agent.get("/contacts/data-quality/").content.decode()
    assert 'data-number="+14155550100"' not in page
    assert "Acme" in page.split('id="company-lines"')[1]

    admin_client_agent.post("/contacts/company-lines/unmark/", {"number": "+14155550100"})
    assert not CompanyLine.objects.exists()


def test_a_bad_company_line_is_refused_with_a_message(admin_client_agent):
    response = admin_client_agent.post(
        "/contacts/company-lines/mark/", {"number": "12", "company": "Acme"}, follow=True
    )
    assert "Not marked" in response.content.decode()
    assert not CompanyLine.objects.exists()


def test_agents_do_not_get_the_page(agent_client):
    assert agent_client.get("/contacts/data-quality/").status_code == 404
    assert agent_client.post(
        "/contacts/company-lines/mark/", {"number": "+14155550100", "company": "X"}
    ).status_code == 404


def test_adding_the_number_from_a_card_makes_the_next_call_match(agent_client, agent):
    known = contact_make("Kim", "Known", "+14155550111")
    call = call_make(agent, from_number="+14155550222", from_e164="+14155550222", contact=None)
    found = agent_client.get("/contacts/lookup/", {"q": "Kim"}).json()["contacts"]
    assert found == [{"id": known.pk, "name": "Kim Known", "company": ""}]

    answer = agent_client.post(
        f"/calls/{call.pk}/add-number/", {"contact": known.pk}, HTTP_ACCEPT="application/json"
    ).json()
    assert answer["ok"] and answer["call"]["contact"]["name"] == "Kim Known"
    assert set(known.phones.values_list("e164", flat=True)) == {"+14155550111", "+14155550222"}
    change = ContactChange.objects.filter(contact=known).first()
    assert (change.source, change.changed_by, change.action) == ("pop card", agent.user, "updated")
    assert change.changes["phones"][1] == ["+14155550111 (work)", "+14155550222 (other)"]

    later = call_make(agent, from_number="+14155550222", from_e164="+14155550222", contact=None)
    call_match_other_party(later)
    assert later.contact == known


def test_an_internal_call_has_no_number_to_add(agent_client, agent):
    known = contact_make("Kim", "Known", "+14155550111")
    call = call_make(agent, from_number="103", from_e164="", contact=None)
    answer = agent_client.post(
        f"/calls/{call.pk}/add-number/", {"contact": known.pk}, HTTP_ACCEPT="application/json"
    ).json()
    assert answer["ok"] is False
    assert known.phones.count() == 1
