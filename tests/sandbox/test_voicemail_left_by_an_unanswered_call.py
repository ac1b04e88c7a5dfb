"""An unanswered call leaves a voicemail: a VoiceMail message with its audio (audio/mpeg,
seekable), tied to the call (the call-log record's ``message``, same session), and a
transcription that completes a few seconds later with a change event."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.conftest import subscribe
from tests.sandbox.message_helpers import (
    CUSTOMER,
    MESSAGE_EVENTS,
    STORE,
    T_MESSAGE,
    T_STORE,
    stored,
)
from tests.sandbox.receiver import Receiver
from tests.sandbox.session_helpers import TELEPHONY, party_of
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import SandboxProcess

CALL_LOG = "/restapi/v1.0/account/~/extension/~/call-log"


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    # The transcription completes 20 / 20 = 1 s later: long enough to see it InProgress.
    fresh_sandbox.config(speed=20, call_log_lag=0, transcription_delay=20,
                         rate_limits={"enabled": False})
    return fresh_sandbox


def _voicemail(sandbox: SandboxProcess, ext: str) -> dict:
    return sandbox.wait_for(lambda: next(
        (m for m in stored(sandbox, ext) if m["type"] == "VoiceMail"), None))


def test_a_voicemail_with_audio_transcript_and_the_call_it_came_from(
        fast: SandboxProcess, agent: httpx.Client, receiver: Receiver) -> None:
    load_or_skip()
    subscribe(agent, receiver, [MESSAGE_EVENTS])
    call = fast.start_call("inbound_voicemail", extension="102", **{"from": CUSTOMER},
                           name="Phillip Marco")
    voicemail = _voicemail(fast, "102")
    assert voicemail["call"]["sessionId"] == call["sessionId"]
    assert voicemail["call"]["telephonySessionId"] == call["telephonySessionId"]
    listed = conforms(agent.get(STORE, params={"messageType": "VoiceMail"}), "GET", T_STORE)
    (record,) = listed["records"]
    assert record["vmTranscriptionStatus"] == "InProgress"
    assert (record["direction"], record["readStatus"]) == ("Inbound", "Unread")
    assert record["from"] == {"phoneNumber": CUSTOMER, "name": "Phillip Marco"}
    assert record["to"][0]["extensionNumber"] == "102"
    (audio,) = record["attachments"]
    assert (audio["type"], audio["contentType"]) == ("AudioRecording", "audio/mpeg")
    assert audio["vmDuration"] == 12
    content = agent.get(audio["uri"])
    assert content.status_code == 200 and content.headers["content-type"] == "audio/mpeg"
    assert content.content[:2] == b"\xff\xfb" and len(content.content) == audio["size"]
    part = agent.get(audio["uri"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"] == f"bytes 100-199/{audio['size']}"

    # The call log ties the voicemail to the call: same session, result Voicemail.
    log = fast.wait_for(lambda: agent.get(CALL_LOG, params={
        "sessionId": call["sessionId"]}).json()["records"])
    assert log[0]["result"] == "Voicemail"
    assert log[0]["telephonySessionId"] == call["telephonySessionId"]
    assert log[0]["message"]["id"] == str(record["id"])
    assert log[0]["message"]["type"] == "VoiceMail"
    assert agent.get(log[0]["message"]["uri"]).json()["id"] == record["id"]
    for view in ("Simple", "Detailed"):
        conforms(agent.get(CALL_LOG, params={"sessionId": call["sessionId"], "view": view}),
                 "GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log")

    # The transcription completes later: a change event, a second attachment.
    done = fast.wait_for(lambda: (lambda m: m if m["vmTranscriptionStatus"] == "Completed"
                                  else None)(agent.get(record["uri"]).json()), timeout=30)
    conforms(agent.get(record["uri"]), "GET", T_MESSAGE)
    transcript = next(a for a in done["attachments"] if a["type"] == "AudioTranscription")
    text = agent.get(transcript["uri"])
    assert text.headers["content-type"].startswith("text/plain")
    assert "call me back" in text.text
    fast.wait_for(lambda: len(receiver.received) >= 2)
    new, completed = [b["body"]["changes"][0] for b in receiver.bodies()[:2]]
    assert new == {"type": "VoiceMail", "newCount": 1, "updatedCount": 0,
                   "newMessageIds": [record["id"]]}
    assert completed == {"type": "VoiceMail", "newCount": 0, "updatedCount": 1}


def test_a_call_rejected_to_voicemail_leaves_one(fast: SandboxProcess,
                                                 agent: httpx.Client) -> None:
    call = fast.start_call("interactive", extension="102", ring_seconds=600)
    party = fast.wait_for(lambda: party_of(agent, call["telephonySessionId"], "400000102",
                                           status="Proceeding"))
    rejected = agent.post(f"{TELEPHONY}/sessions/{call['telephonySessionId']}/parties/"
                          f"{party['id']}/reject")
    assert rejected.status_code == 204, rejected.text
    voicemail = _voicemail(fast, "102")
    assert voicemail["call"]["telephonySessionId"] == call["telephonySessionId"]


def test_a_missed_call_leaves_no_voicemail(fast: SandboxProcess, agent: httpx.Client) -> None:
    call = fast.start_call("inbound_missed", extension="102")
    log = fast.wait_for(lambda: agent.get(CALL_LOG, params={
        "sessionId": call["sessionId"]}).json()["records"])
    assert log[0]["result"] == "Missed" and "message" not in log[0]
    assert stored(fast, "102") == []


def test_purging_a_voicemail_before_its_transcription(fast: SandboxProcess,
                                                      agent: httpx.Client) -> None:
    fast.start_call("inbound_voicemail", extension="102")
    voicemail = _voicemail(fast, "102")
    assert agent.delete(voicemail["uri"], params={"purge": "true"}).status_code == 204
    time.sleep(1.5)  # past the transcription's time: it must not bring attachments back
    record = agent.get(voicemail["uri"]).json()
    assert record["availability"] == "Purged" and record["attachments"] == []
    assert record["vmTranscriptionStatus"] == "InProgress"


def test_transcription_settings_are_checked(fast: SandboxProcess) -> None:
    for bad in ({"transcription_delay": -1}, {"voicemail_seconds": "long"},
                {"transcription_text": 5}):
        assert fast.http.post("/sandbox/config", json=bad).status_code == 400


def test_a_call_forwarded_to_a_colleagues_voicemail_lands_in_their_store(
        fast: SandboxProcess, agent: httpx.Client) -> None:
    call = fast.start_call("interactive", extension="102", ring_seconds=600,
                           **{"from": CUSTOMER})
    party = fast.wait_for(lambda: party_of(agent, call["telephonySessionId"], "400000102",
                                           status="Proceeding"))
    forwarded = agent.post(f"{TELEPHONY}/sessions/{call['telephonySessionId']}/parties/"
                           f"{party['id']}/forward", json={"voicemail": "400000103"})
    assert forwarded.status_code == 200, forwarded.text
    voicemail = _voicemail(fast, "103")
    assert voicemail["from"]["phoneNumber"] == CUSTOMER
    assert [m for m in stored(fast, "102") if m["type"] == "VoiceMail"] == []
