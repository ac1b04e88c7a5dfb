"""What the browser is pushed about a message (the toast, the thread, the inbox)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from crm_cti.messaging.models import Message


def message_to_dict(message: Message) -> dict[str, Any]:
    counterpart = message.counterpart or "-"
    return {
        "id": message.pk,
        "type": message.type,
        "direction": message.direction,
        "counterpart": message.counterpart,
        "name": message.contact.full_name if message.contact else message.counterpart_name,
        "contact_url": message.contact.get_absolute_url() if message.contact else None,
        "text": message.text,
        "read": message.read,
        "created_at": message.created_at_rc.isoformat(),
        "thread_url": reverse("messaging:thread", args=[counterpart]),
        "reply_url": reverse("messaging:reply", args=[counterpart]),
    }
