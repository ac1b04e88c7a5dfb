"""A call queue nobody answers ends in the queue's voicemail (the sandbox's call_queue on
801, unanswered): imported into the queue's box with an admin's credential, listed on
/voicemail/?queue=... for admins with its transcript and streamed audio, never shown to
an agent (404, even a member of the queue), and it opens an unassigned follow-up."""

from __future__ import annotations

import pytest
from django.test import Client

from crm_cti.messaging.models import CallQueue, FollowUp, Message
from crm_cti.messaging.services.queues import queue_boxes_sync
from tests.messaging.conftest import CUSTOMER, sandbox_store, signed_in, voicemail_audio_streams

pytestmark = pytest.mark.django_db(transaction=True)

TRANSCRIPT = "Hello support, please call me back about my order."


def test_a_queue_voicemail_reaches_the_admins_queue_inbox(client, rc, eager_tasks,
                                                            settings_messaging):
    rc.config(speed=20, voicemail_seconds=3, transcription_delay=2.0,
              transcription_text=TRANSCRIPT, call_log_lag=0)
    admin = signed_in(client, "101")
    assert admin.rc_admin
    agent_client = Client()
    signed_in(agent_client, "102")
    rc.start_call("call_queue", extension="801", answered=False, from_=CUSTOMER)

    def transcribed():
        return [r for r in sandbox_store(rc, "801") if r["type"] == "VoiceMail"
                and r.get("vmTranscriptionStatus") == "Completed"]
    rc.wait_for(transcribed, timeout=30)
    assert queue_boxes_sync() == 1
    assert queue_boxes_sync() == 0  # the incremental sync finds it stored already

    support = CallQueue.objects.get(extension_number="801")
    assert support.name == "Support queue"
    vm = Message.objects.get(queue=support, type=Message.Type.VOICEMAIL)
    assert vm.agent is None and vm.transcript == TRANSCRIPT and vm.counterpart == CUSTOMER
    assert not Message.objects.filter(type=Message.Type.VOICEMAIL, agent__isnull=False)
    followup = FollowUp.objects.get(voicemail=vm)
    assert followup.agent is None and followup.is_open and followup.number == CUSTOMER

    inbox = client.get("/voicemail/").content.decode()
    assert "Support queue (ext. 801)" in inbox and "Sales queue (ext. 802)" in inbox
    page = client.get(f"/voicemail/?queue={support.pk}").content.decode()
    assert TRANSCRIPT in page and f"/voicemail/{vm.pk}/audio/" in page
    voicemail_audio_streams(client, vm)
    sales = CallQueue.objects.get(extension_number="802")
    assert TRANSCRIPT not in client.get(f"/voicemail/?queue={sales.pk}").content.decode()
    assert client.get("/voicemail/?queue=abc").status_code == 404
    # "Every agent" is the agents' stores: a queue's box is its own page.
    assert f"/voicemail/{vm.pk}/audio/" not in client.get(
        "/voicemail/?agent=all").content.decode()

    # Agent 102 is a member of the Support queue, and still sees none of it.
    assert agent_client.get(f"/voicemail/{vm.pk}/audio/").status_code == 404
    assert agent_client.get(f"/voicemail/?queue={support.pk}").status_code == 404
    own = agent_client.get("/voicemail/").content.decode()
    assert TRANSCRIPT not in own and "Support queue" not in own
    assert agent_client.post(f"/voicemail/{vm.pk}/read/").status_code == 404


def test_the_service_credential_reads_the_queue_boxes_when_set(client, rc, settings,
                                                                eager_tasks, settings_messaging):
    """With ``RC_JWT`` (admin 101's JWT here) the service credential reads the boxes: no
    admin has to be signed in. Without it and without an admin, nothing is asked."""
    rc.config(speed=20, voicemail_seconds=3, transcription_delay=0, call_log_lag=0)
    signed_in(client, "102")
    rc.start_call("call_queue", extension="802", answered=False, from_=CUSTOMER)
    rc.wait_for(lambda: [r for r in sandbox_store(rc, "802") if r["type"] == "VoiceMail"],
                timeout=30)
    assert queue_boxes_sync() == 0 and not CallQueue.objects.exists()
    settings.RC_JWT = rc.user("101")["jwt"]
    assert queue_boxes_sync() == 1
    vm = Message.objects.get(queue__extension_number="802")
    assert vm.agent is None and FollowUp.objects.get(voicemail=vm).agent is None
    # Agent 102 (not in the Sales queue) sees nothing of it.
    assert f"/voicemail/{vm.pk}/audio/" not in client.get("/voicemail/").content.decode()
    assert client.get(f"/voicemail/{vm.pk}/audio/").status_code == 404
