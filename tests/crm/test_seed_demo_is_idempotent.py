from importlib import import_module

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


def _fresh_database_dispositions() -> None:
    """The dispositions a migrated database starts with (crm 0004): a transactional test
    that ran before in this process flushed them away."""
    from crm_cti.crm.models import Disposition

    module = import_module("crm_cti.crm.migrations.0004_dispositions_company_lines_number_choices")
    for order, (_code, name) in enumerate(module.OLD_DISPOSITIONS, start=1):
        Disposition.objects.get_or_create(name=name, defaults={"order": order * 10})


def test_seed_demo_twice_gives_the_same_history(db):
    from crm_cti.accounts.models import Agent

    _fresh_database_dispositions()
    from crm_cti.telephony.models import Call

    call_command("seed_demo")
    first = Call.objects.count()
    call_command("seed_demo")
    assert Call.objects.count() == first
    # Thirty days for the sandbox's five agents: enough for every report figure.
    agents = Agent.objects.filter(extension_number__in=["101", "102", "103", "104", "105"])
    assert agents.count() == 5 and agents.get(extension_number="101").is_admin
    assert first >= 5 * 20 * 8
    for agent in agents:
        calls = Call.objects.filter(agent=agent)
        assert calls.filter(direction="inbound", answered_at__isnull=False).exists()
        assert calls.filter(state__in=["missed", "voicemail"]).exists()
        assert calls.filter(disposition__isnull=False).exists()
        assert calls.filter(to_e164="+16505550190").exists()
    assert Call.objects.filter(contact__isnull=False).count() > first // 3


def test_history_added_since_the_last_run_only(db):
    """A day's calls deleted (as if seeded before that day existed) come back, once."""
    from crm_cti.telephony.models import Call

    call_command("seed_demo")
    total = Call.objects.count()
    oldest = Call.objects.order_by("started_at").first().session_id.rsplit("-", 1)[0]
    removed, _ = Call.objects.filter(session_id__startswith=oldest + "-").delete()
    assert removed > 0
    call_command("seed_demo")
    call_command("seed_demo")
    assert Call.objects.count() == total
