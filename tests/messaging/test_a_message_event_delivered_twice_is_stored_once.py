"""An inbound SMS's events — redelivered (same uuid), replayed (a new uuid, same message),
followed by the store's change event and a sync — leave one Message row."""

from __future__ import annotations

import pytest
from django.test import Client

from crm_cti.messaging.models import Message
from crm_cti.messaging.services.sync import messages_sync
from crm_cti.telephony.models import TelephonyEvent
from tests.messaging.conftest import (
    CUSTOMER,
    change_event,
    inbound_sms,
    instant_event,
    signed_in,
    subscription_for,
    webhook_post,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_redelivered_and_replayed_events_store_the_sms_once(
        client, rc, eager_tasks, settings_messaging):
    agent = signed_in(client)
    sub = subscription_for(agent)
    record = inbound_sms(rc, "102", "Is my order ready?")
    event = instant_event(agent, record)
    webhook = Client()

    assert webhook_post(webhook, sub, event).status_code == 200
    # The instant event alone stores it: no sync ran since the record was created.
    assert Message.objects.filter(agent=agent, rc_id=str(record["id"])).count() == 1
    assert webhook_post(webhook, sub, event).status_code == 200  # redelivery: same uuid
    assert webhook_post(webhook, sub, instant_event(agent, record)).status_code == 200
    assert webhook_post(webhook, sub, change_event(agent, new_ids=[record["id"]])
                        ).status_code == 200
    messages_sync(agent=agent)

    assert TelephonyEvent.objects.filter(uuid=event["uuid"]).count() == 1
    rows = list(Message.objects.filter(agent=agent, type=Message.Type.SMS,
                                       direction=Message.Direction.INBOUND))
    assert len(rows) == 1
    assert rows[0].rc_id == str(record["id"])
    assert rows[0].text == "Is my order ready?"
    assert rows[0].counterpart == CUSTOMER
    assert rows[0].read is False


def test_a_change_event_brings_in_a_message_the_instant_event_missed(
        client, rc, eager_tasks, settings_messaging):
    agent = signed_in(client)
    sub = subscription_for(agent)
    messages_sync(agent=agent)  # the sync token the change event continues from
    record = inbound_sms(rc, "102", "Call me back please")

    assert webhook_post(Client(), sub, change_event(agent, new_ids=[record["id"]])
                        ).status_code == 200

    row = Message.objects.get(agent=agent, rc_id=str(record["id"]))
    assert row.text == "Call me back please"


def test_a_malformed_message_event_is_refused_with_400(client, rc, settings_messaging):
    agent = signed_in(client)
    sub = subscription_for(agent)
    event = change_event(agent)
    event["body"]["changes"] = "lots"
    response = webhook_post(Client(), sub, event)
    assert response.status_code == 400
    assert not TelephonyEvent.objects.filter(uuid=event["uuid"]).exists()


def test_a_message_event_about_another_extension_is_refused(client, rc, settings_messaging):
    agent = signed_in(client)
    sub = subscription_for(agent)
    event = change_event(agent)
    event["event"] = event["event"].replace(agent.rc_extension_id, "400000103")
    response = webhook_post(Client(), sub, event)
    assert response.status_code >= 400
    assert not TelephonyEvent.objects.filter(uuid=event["uuid"]).exists()
