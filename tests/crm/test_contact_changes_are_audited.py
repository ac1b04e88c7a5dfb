"""Every change to a contact is kept: who, when, where, and each field's value before and
after (the phone numbers decide every agent's pops). The trail shows on the contact page
and in the admin, and outlives a deleted contact."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from crm_cti.crm.models import Contact, ContactChange
from tests.support.people import contact_make


def _form(**overrides):
    data = {
        "first_name": "Daniel", "last_name": "Kim", "company": "Blue Harbor Dental",
        "title": "", "email": "", "notes": "",
        "phones-TOTAL_FORMS": "2", "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0", "phones-MAX_NUM_FORMS": "10",
        "phones-0-label": "work", "phones-0-number": "+1 415 555 0101",
        "phones-1-label": "work", "phones-1-number": "",
    }
    data.update(overrides)
    return data


def test_a_number_changed_on_the_contact_page_is_in_its_history(agent_client, agent):
    created = agent_client.post("/contacts/new/", _form())
    assert created.status_code == 302
    contact = Contact.objects.get()
    edited = agent_client.post(
        f"/contacts/{contact.pk}/edit/",
        _form(first_name="Dan", **{"phones-0-number": "+1 415 555 0199"}),
    )
    assert edited.status_code == 302

    first, second = ContactChange.objects.order_by("id")
    assert (first.action, first.changed_by, first.source) == ("created", agent.user,
                                                              "contact page")
    assert second.action == "updated" and second.changed_by == agent.user
    assert second.changes == {
        "first_name": ["Daniel", "Dan"],
        "phones": [["+14155550101 (work)"], ["+14155550199 (work)"]],
    }
    page = agent_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "History of changes" in page
    assert f"by {agent.user.username}" in page
    assert "+14155550101 (work)" in page and "+14155550199 (work)" in page
    assert "Phone numbers" in page and "First name" in page
    # Saving without a change adds nothing.
    agent_client.post(f"/contacts/{contact.pk}/edit/",
                      _form(first_name="Dan", **{"phones-0-number": "+1 415 555 0199"}))
    assert ContactChange.objects.count() == 2


def test_a_contact_created_from_a_pop_card_says_so(agent_client, agent):
    response = agent_client.post(
        "/contacts/quick/",
        {"first_name": "Nora", "last_name": "Quinn", "phone": "415-555-0177", "label": "work"},
    )
    assert response.status_code == 201
    change = ContactChange.objects.get()
    assert (change.action, change.source, change.changed_by) == ("created", "pop card",
                                                                 agent.user)
    assert change.changes["phones"] == [[], ["+14155550177 (work)"]]


def test_the_admin_records_its_edits_and_deletes(admin_client, admin_user):
    contact = contact_make("Grace", "Lin", "+16505550110", company="Northwind")
    phone = contact.phones.get()
    response = admin_client.post(
        f"/admin/crm/contact/{contact.pk}/change/",
        {
            "first_name": "Grace", "last_name": "Lin", "company": "Northwind", "title": "",
            "email": "", "notes": "",
            "phones-TOTAL_FORMS": "1", "phones-INITIAL_FORMS": "1",
            "phones-MIN_NUM_FORMS": "0", "phones-MAX_NUM_FORMS": "1000",
            "phones-0-id": str(phone.pk), "phones-0-contact": str(contact.pk),
            "phones-0-label": "mobile", "phones-0-raw": "+1 650 555 0111",
            "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
            "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = ContactChange.objects.get()
    assert (change.action, change.source, change.changed_by) == ("updated", "admin",
                                                                 admin_user)
    assert change.changes == {
        "phones": [["+16505550110 (work)"], ["+16505550111 (mobile)"]]
    }
    # In the admin: the contact's own page lists it, and so does the list of all changes.
    contact_page = admin_client.get(f"/admin/crm/contact/{contact.pk}/change/")
    assert "History of changes" in contact_page.content.decode()
    assert "+16505550111 (mobile)" in contact_page.content.decode()
    listing = admin_client.get("/admin/crm/contactchange/").content.decode()
    assert "Grace Lin" in listing and "+16505550111 (mobile)" in listing

    deleted = admin_client.post(f"/admin/crm/contact/{contact.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not Contact.objects.exists()
    gone = ContactChange.objects.get(action="deleted")
    assert gone.contact is None and gone.contact_name == "Grace Lin"
    assert gone.changes["phones"] == [["+16505550111 (mobile)"], []]
    assert "Grace Lin" in admin_client.get("/admin/crm/contactchange/").content.decode()


def test_an_import_names_who_uploaded_it(
    admin_client, admin_user, django_capture_on_commit_callbacks, eager_tasks
):
    upload = SimpleUploadedFile(
        "c.csv", b"first_name,last_name,mobile\nAda,Lovelace,+1 650 200 0001\n",
        content_type="text/csv",
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/crm/contact/import/", {"file": upload})
    change = ContactChange.objects.get()
    assert (change.action, change.source, change.changed_by) == ("created", "CSV import",
                                                                 admin_user)
    page = admin_client.get(f"/contacts/{change.contact_id}/").content.decode()
    assert "CSV import" in page
