"""Contact pages: create and edit with numbers, bad numbers shown next to the field, search."""

from crm_cti.crm.models import Contact
from tests.support.people import contact_make


def _form(**overrides):
    data = {
        "first_name": "Phillip", "last_name": "Marco", "company": "Marco Imports",
        "title": "", "email": "", "notes": "",
        "phones-TOTAL_FORMS": "2", "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0", "phones-MAX_NUM_FORMS": "10",
        "phones-0-label": "mobile", "phones-0-number": "(650) 444-5567",
        "phones-1-label": "work", "phones-1-number": "",
    }
    data.update(overrides)
    return data


def test_create_contact_normalizes_and_redirects_to_it(agent_client):
    response = agent_client.post("/contacts/new/", _form())
    contact = Contact.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contacts/{contact.pk}/"
    assert [p.e164 for p in contact.phones.all()] == ["+16504445567"]
    page = agent_client.get(response["Location"]).content.decode()
    assert "Phillip Marco" in page
    # Every number on the page is click-to-dial.
    assert 'data-ringout="+16504445567"' in page
    assert 'href="rcmobile://call?number=16504445567"' in page
    assert 'href="tel:+16504445567"' in page


def test_bad_number_is_reported_next_to_its_field_and_nothing_is_saved(agent_client):
    response = agent_client.post("/contacts/new/", _form(**{"phones-0-number": "555"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bad number" in html
    # The error sits in the same phone row as the input that caused it.
    row = html[html.index('name="phones-0-number"'):]
    assert row.index("Bad number") < row.index('name="phones-1-number"')
    assert Contact.objects.count() == 0


def test_edit_contact(agent_client):
    contact = contact_make("Daniel", "Kim", "+14155550101", company="Blue Harbor Dental")
    response = agent_client.post(
        f"/contacts/{contact.pk}/edit/",
        _form(first_name="Dan", last_name="Kim", company="Blue Harbor Dental",
              **{"phones-0-label": "work", "phones-0-number": "+1 415 555 0101",
                 "phones-1-number": "415-555-0102"}),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Dan"
    assert sorted(p.e164 for p in contact.phones.all()) == ["+14155550101", "+14155550102"]


def test_search_by_name_company_and_number(agent_client):
    contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    contact_make("Grace", "Lin", "+16505550110", company="Northwind Traders")
    contact_make("Samuel", "Okafor", "+16505550111", company="Northwind Traders")

    def names(q):
        html = agent_client.get("/contacts/", {"q": q}).content.decode()
        return {n for n in ("Phillip Marco", "Grace Lin", "Samuel Okafor") if n in html}

    assert names("northwind") == {"Grace Lin", "Samuel Okafor"}
    assert names("grace lin") == {"Grace Lin"}
    assert names("(650) 444-5567") == {"Phillip Marco"}
    assert names("5550111") == {"Samuel Okafor"}
    assert names("") == {"Phillip Marco", "Grace Lin", "Samuel Okafor"}
