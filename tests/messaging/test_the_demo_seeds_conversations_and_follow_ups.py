"""``make demo`` seeds a few SMS conversations and the follow-ups of recent missed calls for
the demo agents, once however often it runs; the pages show them."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from crm_cti.accounts.models import Agent
from crm_cti.messaging.models import FollowUp, Message

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_conversations_and_follow_ups_once(client):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo_messages", verbosity=0)
    messages, followups = Message.objects.count(), FollowUp.objects.count()
    assert messages > 0 and followups > 0
    call_command("seed_demo_messages", verbosity=0)
    assert (Message.objects.count(), FollowUp.objects.count()) == (messages, followups)

    agent = Agent.objects.filter(messages__isnull=False).first()
    client.force_login(agent.user)
    page = client.get("/messages/").content.decode()
    assert "Running 10 minutes late" in page and "data-unread" in page
    thread = Message.objects.get(agent=agent, text__startswith="Thursday 10am").counterpart
    html = client.get(f"/messages/{thread}/").content.decode()
    assert "Thursday 10am works" in html and "Running 10 minutes late" in html
