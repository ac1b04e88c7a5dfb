"""contact_create / contact_update store every number as E.164 and refuse bad ones."""

import pytest

from crm_cti.crm.models import Contact, ContactPhone
from crm_cti.crm.services import ContactValidationError, contact_create, contact_update


@pytest.mark.django_db
def test_numbers_are_stored_as_e164_without_duplicates():
    contact = contact_create(
        first_name="Grace", last_name="Lin", company="Northwind",
        phones=[
            ("work", "(650) 555-0110"),
            ("mobile", "+1 650 555 0110"),
            ("home", "+44 20 7946 0958"),
        ],
    )
    assert sorted(p.e164 for p in contact.phones.all()) == ["+16505550110", "+442079460958"]


@pytest.mark.django_db
def test_a_bad_number_creates_nothing():
    with pytest.raises(ContactValidationError) as exc:
        contact_create(first_name="Bad", phones=[("work", "12")])
    assert "phones" in exc.value.errors
    assert Contact.objects.count() == 0 and ContactPhone.objects.count() == 0


@pytest.mark.django_db
def test_a_contact_needs_a_name_a_company_or_a_number():
    with pytest.raises(ContactValidationError):
        contact_create()


@pytest.mark.django_db
def test_update_replaces_the_numbers():
    contact = contact_create(first_name="Dan", phones=[("work", "+14155550101")])
    contact_update(contact=contact, company="Blue Harbor", phones=[("mobile", "4155550102")])
    contact.refresh_from_db()
    assert contact.company == "Blue Harbor"
    assert [(p.label, p.e164) for p in contact.phones.all()] == [("mobile", "+14155550102")]
