from django.core.management import call_command

from crm_cti.crm.models import Contact, ContactPhone


def test_seed_demo_twice_gives_the_same_contacts(db):
    call_command("seed_demo")
    first = (Contact.objects.count(), ContactPhone.objects.count())
    call_command("seed_demo")
    assert (Contact.objects.count(), ContactPhone.objects.count()) == first
    assert first[0] >= 30
    marco = ContactPhone.objects.get(e164="+16504445567").contact
    assert marco.full_name == "Phillip Marco"
    # Some contacts share a company; some numbers are international.
    assert Contact.objects.filter(company="Acme Robotics").count() >= 2
    assert ContactPhone.objects.exclude(e164__startswith="+1").count() >= 5
