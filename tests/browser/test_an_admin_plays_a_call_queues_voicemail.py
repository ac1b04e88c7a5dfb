"""A call queue nobody answered: the admin picks the queue on the voicemail page ("Support
queue (ext. 801)"), reads the transcript and plays the audio through our proxy."""

from crm_cti.messaging.models import FollowUp, Message
from crm_cti.messaging.services.queues import queue_boxes_sync
from tests.browser.conftest import sign_in, voicemail_audio_plays

CUSTOMER = "+16504445567"
TRANSCRIPT = "Hello support, my order never arrived, please call me back."


def test_an_admin_plays_a_call_queues_voicemail(browser, rc_sandbox, live_app, settings):
    settings.RC_SERVER_URL = rc_sandbox.url  # the sync below runs in this process
    rc_sandbox.config(voicemail_seconds=4, transcription_delay=1.0,
                      transcription_text=TRANSCRIPT)
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="101")
    rc_sandbox.start_call("call_queue", extension="801", answered=False, from_=CUSTOMER)
    rc_sandbox.wait_for(lambda: [
        r for r in rc_sandbox.http.get("/sandbox/message-store",
                                       params={"extension": "801"}).json()
        if r.get("vmTranscriptionStatus") == "Completed"], timeout=40)
    # What the periodic sync does (every MESSAGE_SYNC_INTERVAL_SECONDS), now.
    assert queue_boxes_sync() == 1
    vm = Message.objects.get(queue__extension_number="801")
    assert FollowUp.objects.get(voicemail=vm).agent is None

    page.goto("/voicemail/")
    page.select_option("#queue-pick", label="Support queue (ext. 801)")
    page.wait_for_url(lambda url: "queue=" in url)
    assert TRANSCRIPT in page.inner_text("#main")
    assert "Support queue (ext. 801)" in page.inner_text("h1")
    voicemail_audio_plays(page, lambda url: url.endswith(f"/voicemail/{vm.pk}/audio/"))
