"""Agent B reads none of agent A's messages, voicemails or follow-ups through any page or
endpoint; an admin reads them all."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from crm_cti.messaging.models import FollowUp, Message
from tests.messaging.conftest import CUSTOMER
from tests.support.people import agent_create, call_make, contact_make

pytestmark = pytest.mark.django_db

SECRET = "the secret of agent A"


@pytest.fixture
def a_and_b():
    a = agent_create(extension="102")
    b = agent_create(extension="103")
    admin = agent_create(extension="101", admin=True)
    contact = contact_make("Ada", "Lovelace", CUSTOMER)
    sms = Message.objects.create(
        agent=a, rc_id="9001", type="SMS", direction="inbound", from_number=CUSTOMER,
        counterpart=CUSTOMER, contact=contact, text=SECRET, created_at_rc="2026-11-30T10:00Z")
    vm = Message.objects.create(
        agent=a, rc_id="9002", type="VoiceMail", direction="inbound", from_number=CUSTOMER,
        counterpart=CUSTOMER, contact=contact, text="Voice message", transcript=SECRET,
        audio_attachment_id="1", created_at_rc="2026-11-30T10:05Z")
    call = call_make(a, state="missed", answered_at=None, duration=None)
    followup = FollowUp.objects.get(call=call)
    return SimpleNamespace(a=a, b=b, admin=admin, contact=contact, sms=sms, vm=vm, call=call,
                           followup=followup)


def test_agent_b_gets_nothing_of_agent_a(a_and_b):
    a, b, contact, vm, call, followup = (a_and_b.a, a_and_b.b, a_and_b.contact, a_and_b.vm,
                                         a_and_b.call, a_and_b.followup)
    browser = Client()
    browser.force_login(b.user)
    pages = ["/messages/", f"/messages/{CUSTOMER}/", "/voicemail/", "/followups/",
             "/followups/?show=closed", f"/contacts/{contact.pk}/", "/voicemail/?agent=all"]
    for url in pages:
        response = browser.get(url)
        assert SECRET not in response.content.decode(), url
        assert f'data-followup-id="{followup.pk}"' not in response.content.decode(), url
    for url in (f"/messages/{CUSTOMER}/?agent={a.pk}", f"/voicemail/?agent={a.pk}",
                f"/messages/?agent={a.pk}", f"/voicemail/{vm.pk}/audio/",
                f"/calls/{call.pk}/"):
        assert browser.get(url).status_code == 404, url
    assert browser.post(f"/followups/{followup.pk}/done/", {"note": "mine now"}
                        ).status_code == 404
    assert browser.post(f"/voicemail/{vm.pk}/read/").status_code == 404
    assert Message.objects.get(pk=vm.pk).read is False
    assert browser.post(f"/followups/{followup.pk}/assign/", {"agent": str(b.pk)}
                        ).status_code == 404
    followup.refresh_from_db()
    assert followup.is_open and followup.agent == a


def test_the_owner_and_an_admin_see_them(a_and_b):
    a, admin, contact, call, followup = (a_and_b.a, a_and_b.admin, a_and_b.contact,
                                         a_and_b.call, a_and_b.followup)
    owner = Client()
    owner.force_login(a.user)
    assert SECRET in owner.get(f"/messages/{CUSTOMER}/").content.decode()
    assert SECRET in owner.get("/voicemail/").content.decode()
    assert SECRET in owner.get(f"/contacts/{contact.pk}/").content.decode()
    assert SECRET in owner.get(f"/calls/{call.pk}/").content.decode()
    boss = Client()
    boss.force_login(admin.user)
    assert SECRET in boss.get(f"/messages/{CUSTOMER}/?agent={a.pk}").content.decode()
    assert SECRET in boss.get("/voicemail/?agent=all").content.decode()
    assert f'data-followup-id="{followup.pk}"' in boss.get("/followups/").content.decode()


def test_a_contact_created_later_shows_the_earlier_messages(a_and_b):
    owner = Client()
    owner.force_login(a_and_b.a.user)
    later = contact_make("Grace", "Hopper", "+14155550123")
    Message.objects.create(
        agent=a_and_b.a, rc_id="9003", type="SMS", direction="inbound",
        from_number="+14155550123", counterpart="+14155550123", text="before you knew me",
        created_at_rc="2026-11-29T10:00Z")
    assert "before you knew me" in owner.get(f"/contacts/{later.pk}/").content.decode()


def test_a_local_admin_without_an_extension_sees_every_agents(a_and_b, django_user_model):
    boss = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(boss)
    assert SECRET in browser.get("/voicemail/").content.decode()
    assert SECRET in browser.get("/messages/").content.decode()
    plain = django_user_model.objects.create_user("nobody", "nobody@example.com", "pw")
    browser.force_login(plain)
    assert browser.get("/messages/").status_code == 404
    assert SECRET not in browser.get("/followups/").content.decode()
