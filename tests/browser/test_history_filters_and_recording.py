"""The call history is filled from the agent's call log on first sign-in; filters return
the right rows; a recording plays through the authenticated proxy (a 200 audio/* answer)."""

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Call, CallLogSync
from tests.browser.conftest import sign_in


def _shown_ids(page) -> set[int]:
    return {
        int(row.get_attribute("data-call-id"))
        for row in page.locator("#history tbody tr[data-call-id]").all()
    }


def test_history_filters_and_a_recording_plays(browser, rc_sandbox, live_app, artifacts):
    rc_sandbox.inject_call_log("102", 40, seed=11, days=5)
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    agent = Agent.objects.get(extension_number="102")
    # The first sign-in imports the call log in the background; the high-water mark is
    # saved when the import is complete.
    rc_sandbox.wait_for(
        lambda: CallLogSync.objects.filter(agent=agent, synced_until__isnull=False).exists(),
        timeout=60,
    )
    calls = Call.objects.filter(agent=agent)
    assert calls.count() >= 30

    page.goto("/calls/")
    assert len(_shown_ids(page)) == min(calls.count(), 50)
    page.screenshot(path=str(artifacts / "history.png"), full_page=True)

    page.get_by_label("Direction").select_option("outbound")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**direction=outbound**")
    assert _shown_ids(page) == set(calls.filter(direction="outbound").values_list("pk", flat=True))

    page.get_by_label("Direction").select_option("")
    page.get_by_label("Result").select_option("missed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**result=missed**")
    missed = set(
        calls.filter(state__in=["missed"]).values_list("pk", flat=True)
    ) | set(calls.filter(result__iexact="Missed").values_list("pk", flat=True))
    assert _shown_ids(page) == missed

    one = calls.exclude(from_e164="").filter(direction="inbound").first()
    page.get_by_label("Result").select_option("")
    page.get_by_label("Phone number").fill(one.from_e164[-7:])
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**phone=**")
    expected = {
        c.pk for c in calls
        if one.from_e164[-7:] in (c.from_e164 + c.to_e164 + c.from_number + c.to_number)
    }
    assert one.pk in _shown_ids(page) and _shown_ids(page) == expected

    # A call with a recording: the player loads the audio through our proxy.
    recorded = calls.exclude(recording=None).first()
    assert recorded is not None, "the injected call log had no recording"
    with page.expect_response(lambda r: r.url.endswith(f"/calls/{recorded.pk}/recording/")) as rec:
        page.goto(f"/calls/{recorded.pk}/")
    response = rec.value
    # The player asks for a byte range (so it can seek): RingCentral's 206 is passed through.
    assert response.status in (200, 206)
    assert response.headers["content-type"].startswith("audio/")
    page.wait_for_function("() => document.querySelector('#recording-audio').readyState >= 1")
    assert page.evaluate("document.querySelector('#recording-audio').duration") > 0
    assert "Legs" in page.inner_text("#main")
