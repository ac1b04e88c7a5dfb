"""A caller who is not answered leaves a voicemail: the agent is told live (a toast), the
inbox shows the transcript once RingCentral finished it, the player streams and seeks
through our proxy, and the nav counts the follow-up it opened."""

from crm_cti.messaging.models import FollowUp
from tests.browser.conftest import sign_in, voicemail_audio_plays
from tests.support.people import contact_make

CUSTOMER = "+16504445567"
TRANSCRIPT = "Hi, it is Phillip, please call me back about the invoice."


def test_a_voicemail_plays_and_shows_its_transcript(browser, rc_sandbox, live_app):
    contact_make("Phillip", "Marco", CUSTOMER, company="Marco Imports")
    rc_sandbox.config(voicemail_seconds=4, transcription_delay=1.0,
                      transcription_text=TRANSCRIPT)
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")

    rc_sandbox.start_call("inbound_voicemail", extension="102", from_=CUSTOMER)
    toast = page.locator(".toast-voicemail")
    toast.wait_for(timeout=40_000)
    assert "Voicemail from Phillip Marco" in toast.inner_text()
    page.wait_for_selector("#followups-open:not([data-count='0'])")

    def transcript_shown() -> bool:
        page.goto("/voicemail/")
        return TRANSCRIPT in page.inner_text("#main")
    rc_sandbox.wait_for(transcript_shown, timeout=40)
    # One follow-up for the missed call and the voicemail left on it.
    rc_sandbox.wait_for(lambda: FollowUp.objects.filter(call__isnull=False,
                                                        voicemail__isnull=False).exists(),
                        timeout=20)
    assert FollowUp.objects.count() == 1
    item = page.locator(".voicemail").first
    assert "Phillip Marco" in item.inner_text()
    assert item.locator(".dial").count() >= 1  # one click to call back
    assert "unread" in (item.get_attribute("class") or "")

    voicemail_audio_plays(page, lambda url: "/voicemail/" in url and url.endswith("/audio/"))
    # Played: read, here and on RingCentral.
    page.wait_for_selector(".voicemail:not(.unread)")
    rc_sandbox.wait_for(lambda: any(
        r["type"] == "VoiceMail" and r["readStatus"] == "Read"
        for r in rc_sandbox.http.get("/sandbox/message-store",
                                     params={"extension": "102"}).json()), timeout=10)
