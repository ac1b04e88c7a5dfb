"""An unanswered call leaves a voicemail (the sandbox's inbound_voicemail scenario): synced
into the agent's inbox with its transcript once RingCentral completed it, played through
our proxy (streamed, seekable with Range), and it joins the missed call's follow-up."""

from __future__ import annotations

import pytest

from crm_cti.messaging.models import FollowUp, Message
from crm_cti.messaging.services.sync import messages_sync
from tests.messaging.conftest import CUSTOMER, sandbox_store, signed_in, voicemail_audio_streams

pytestmark = pytest.mark.django_db(transaction=True)

TRANSCRIPT = "Please call me back about the invoice."


def test_a_voicemail_plays_and_shows_its_transcript(client, rc, eager_tasks,
                                                    settings_messaging):
    rc.config(speed=20, voicemail_seconds=3, transcription_delay=2.0,
              transcription_text=TRANSCRIPT)
    agent = signed_in(client)
    rc.start_call("inbound_voicemail", extension="102", from_=CUSTOMER)

    def transcribed():
        return [r for r in sandbox_store(rc, "102") if r["type"] == "VoiceMail"
                and r.get("vmTranscriptionStatus") == "Completed"]
    rc.wait_for(transcribed, timeout=30)
    messages_sync(agent=agent)

    vm = Message.objects.get(agent=agent, type=Message.Type.VOICEMAIL)
    assert vm.transcript == TRANSCRIPT and vm.counterpart == CUSTOMER
    followup = FollowUp.objects.get(voicemail=vm)
    assert followup.agent == agent and followup.is_open

    page = client.get("/voicemail/").content.decode()
    assert TRANSCRIPT in page and f"/voicemail/{vm.pk}/audio/" in page

    voicemail_audio_streams(client, vm)

    # Played: read here and on RingCentral.
    assert client.post(f"/voicemail/{vm.pk}/read/").json() == {"ok": True, "changed": True}
    vm.refresh_from_db()
    assert vm.read and not vm.read_pending
    stored = next(r for r in sandbox_store(rc, "102") if str(r["id"]) == vm.rc_id)
    assert stored["readStatus"] == "Read"
