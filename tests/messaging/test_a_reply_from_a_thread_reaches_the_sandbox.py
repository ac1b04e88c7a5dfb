"""A thread reads and replies in place: the reply goes out through RingCentral (the
sandbox stores it in the agent's store as Outbound) and is kept here; opening the thread
marks its inbound messages read here and on RingCentral. Reply templates are offered."""

from __future__ import annotations

import pytest

from crm_cti.messaging.models import Message, ReplyTemplate
from crm_cti.messaging.services.sync import messages_sync
from tests.messaging.conftest import CUSTOMER, inbound_sms, sandbox_store, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_reply_reaches_the_sandbox_and_the_thread(client, rc, eager_tasks,
                                                      settings_messaging):
    agent = signed_in(client)
    ReplyTemplate.objects.create(name="On my way", text="Our technician is on the way.")
    inbound_sms(rc, "102", "Where is the technician?")
    messages_sync(agent=agent)
    assert Message.objects.get(agent=agent, direction="inbound").read is False

    page = client.get(f"/messages/{CUSTOMER}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Where is the technician?" in html and "Our technician is on the way." in html
    assert 'data-unread="1"' in html
    # The page tells the server it was shown (a POST: reading changes state).
    read = client.post(f"/messages/{CUSTOMER}/read/", HTTP_ACCEPT="application/json")
    assert read.json() == {"ok": True, "changed": 1}
    inbound = next(r for r in sandbox_store(rc, "102") if r["direction"] == "Inbound")
    assert inbound["readStatus"] == "Read"
    assert Message.objects.get(agent=agent, direction="inbound").read is True

    response = client.post(f"/messages/{CUSTOMER}/reply/", {"text": "Ten minutes away."},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    sent = [r for r in sandbox_store(rc, "102")
            if r["direction"] == "Outbound" and r.get("subject") == "Ten minutes away."]
    assert len(sent) == 1 and sent[0]["to"][0]["phoneNumber"] == CUSTOMER
    mine = Message.objects.get(agent=agent, direction="outbound")
    assert mine.rc_id == str(sent[0]["id"]) and mine.counterpart == CUSTOMER

    # The sync that follows finds the same message: still one row.
    messages_sync(agent=agent)
    assert Message.objects.filter(agent=agent, direction="outbound").count() == 1
    assert "Ten minutes away." in client.get(f"/messages/{CUSTOMER}/").content.decode()


def test_a_reply_without_text_or_to_a_bad_number_is_refused(client, rc, settings_messaging):
    signed_in(client)
    empty = client.post(f"/messages/{CUSTOMER}/reply/", {"text": " "},
                        HTTP_ACCEPT="application/json")
    assert empty.status_code == 200 and empty.json()["ok"] is False
    assert "text" in empty.json()["errors"]
    bad = client.post("/messages/not-a-number/reply/", {"text": "hi"},
                      HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["ok"] is False


def test_the_dashboard_sms_form_keeps_what_it_sent(client, rc, settings_messaging):
    agent = signed_in(client)
    response = client.post("/calls/sms/", {"from_number": agent.sms_numbers[0],
                                           "to": CUSTOMER, "text": "Your order shipped"},
                           HTTP_ACCEPT="application/json")
    assert response.json()["ok"] is True
    row = Message.objects.get(agent=agent)
    assert row.direction == "outbound" and row.text == "Your order shipped"
    conversations = client.get("/messages/").content.decode()
    assert "Your order shipped" in conversations
