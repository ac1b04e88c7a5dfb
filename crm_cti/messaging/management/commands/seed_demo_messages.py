"""``python manage.py seed_demo_messages``: a few SMS conversations with demo contacts and
the follow-ups of the latest missed demo calls, for the agents ``seed_demo`` created
(idempotent: ids name the agent and the message, so a second run adds nothing).

The messages exist only here (not in the sandbox's store): replying, and texting in from
the sandbox console, go through RingCentral as always.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.models import ContactPhone
from crm_cti.messaging.models import FollowUp, Message
from crm_cti.messaging.services.followups import followup_for_missed_call
from crm_cti.telephony.models import Call

# (minutes ago, inbound?, text) per conversation.
CONVERSATIONS = [
    [(3 * 24 * 60, False, "Hi, this is your account manager: your quote is ready."),
     (3 * 24 * 60 - 20, True, "Thanks! Can we go over it on Thursday?"),
     (3 * 24 * 60 - 15, False, "Thursday 10am works. I'll call you."),
     (45, True, "Running 10 minutes late for our call, sorry!")],
    [(2 * 24 * 60, True, "Is the replacement part in stock?"),
     (2 * 24 * 60 - 30, False, "Yes, it ships today."),
     (90, True, "Got it, works great. Thank you!")],
    [(20, True, "Please call me back about the invoice.")],
]
FOLLOWUPS_PER_AGENT = 3


def _demo_agents() -> list[Agent]:
    return list(Agent.objects.filter(calls__session_id__startswith="demo-").distinct()
                .order_by("extension_number"))


def demo_messages_ensure(*, agents: list[Agent]) -> tuple[int, int]:
    """Returns (messages added, follow-ups added)."""
    phones = list(ContactPhone.objects.filter(contact__email__endswith=".example")
                  .select_related("contact").order_by("contact_id", "id"))
    now = timezone.now()
    added_messages = added_followups = 0
    for agent_index, agent in enumerate(agents):
        own = agent.direct_numbers[0] if agent.direct_numbers else ""
        for thread_index, thread in enumerate(CONVERSATIONS):
            if not phones:
                break
            phone = phones[(agent_index * len(CONVERSATIONS) + thread_index) % len(phones)]
            for n, (minutes, inbound, text) in enumerate(thread):
                _, created = Message.objects.get_or_create(
                    agent=agent, rc_id=f"demo-{agent.extension_number}-{thread_index}-{n}",
                    defaults={
                        "type": Message.Type.SMS,
                        "direction": "inbound" if inbound else "outbound",
                        "from_number": phone.e164 if inbound else own,
                        "to_numbers": [own if inbound else phone.e164],
                        "counterpart": phone.e164,
                        "counterpart_name": phone.contact.full_name,
                        "contact": phone.contact,
                        "text": text,
                        "status": "Received" if inbound else "Delivered",
                        # The last inbound message of each thread is still unread.
                        "read": not (inbound and n == len(thread) - 1),
                        "created_at_rc": now - timedelta(minutes=minutes),
                    },
                )
                added_messages += int(created)
        missed = (Call.objects.filter(agent=agent, session_id__startswith="demo-",
                                      state__in=[Call.State.MISSED, Call.State.VOICEMAIL],
                                      direction=Call.Direction.INBOUND,
                                      started_at__gte=now - timedelta(days=2))
                  .order_by("-started_at")[:FOLLOWUPS_PER_AGENT])
        for call in missed:
            if not FollowUp.objects.filter(call=call).exists() and followup_for_missed_call(
                    call=call):
                added_followups += 1
    return added_messages, added_followups


class Command(BaseCommand):
    help = "Create the demo's SMS conversations and follow-ups (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            messages, followups = demo_messages_ensure(agents=_demo_agents())
        self.stdout.write(self.style.SUCCESS(
            f"Demo messages: {messages} added; follow-ups: {followups} added."))
