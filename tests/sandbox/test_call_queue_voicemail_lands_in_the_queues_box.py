"""Call queues as the platform has them: Department extensions listed with their members,
and a queue call nobody answers ends in the queue's voicemail, which only an admin reads."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.message_helpers import CUSTOMER, T_MESSAGE, T_STORE, stored
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import SandboxProcess

QUEUES = "/restapi/v1.0/account/~/call-queues"
T_QUEUES = "/restapi/v1.0/account/{accountId}/call-queues"
T_MEMBERS = T_QUEUES + "/{groupId}/members"
T_CALL_LOG = "/restapi/v1.0/account/{accountId}/call-log"
SUPPORT_ID = "400000801"


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20, call_log_lag=0, transcription_delay=5,
                         rate_limits={"enabled": False})
    return fresh_sandbox


def test_call_queues_are_listed_with_their_members(
        fresh_sandbox: SandboxProcess, agent: httpx.Client) -> None:
    load_or_skip()
    queues = conforms(agent.get(QUEUES), "GET", T_QUEUES)["records"]
    assert [(q["id"], q["extensionNumber"], q["name"]) for q in queues] == [
        (SUPPORT_ID, "801", "Support queue"), ("400000802", "802", "Sales queue")]
    mine = agent.get(QUEUES, params={"memberExtensionId": "400000105"}).json()["records"]
    assert [q["extensionNumber"] for q in mine] == ["802"]
    members = conforms(agent.get(f"{QUEUES}/{SUPPORT_ID}/members"), "GET", T_MEMBERS)
    assert [m["extensionNumber"] for m in members["records"]] == ["102", "103", "104"]
    missing = agent.get(f"{QUEUES}/400000999/members")
    assert missing.status_code == 404 and missing.json()["errors"][0]["errorCode"] == "CMN-102"


def test_the_account_lists_call_queues_as_department_extensions(
        fresh_sandbox: SandboxProcess, agent: httpx.Client) -> None:
    load_or_skip()
    extensions = "/restapi/v1.0/account/~/extension"
    departments = conforms(agent.get(extensions, params={"type": "Department"}), "GET",
                           "/restapi/v1.0/account/{accountId}/extension")["records"]
    assert [(d["id"], d["extensionNumber"], d["name"], d["type"]) for d in departments] == [
        (int(SUPPORT_ID), "801", "Support queue", "Department"),
        (400000802, "802", "Sales queue", "Department")]
    users = agent.get(extensions, params={"type": "User"}).json()["records"]
    assert {u["type"] for u in users} == {"User"} and len(users) == 5
    assert len(agent.get(extensions).json()["records"]) == 7
    one = agent.get(extensions, params={"extensionNumber": "802"}).json()["records"]
    assert [e["name"] for e in one] == ["Sales queue"]
    refused = agent.get(extensions, params={"type": "Queue"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["errorCode"] == "CMN-101"
    # Anyone reads a queue's extension info (its voicemail is another matter, below).
    info = conforms(agent.get(f"{extensions}/{SUPPORT_ID}"), "GET",
                    "/restapi/v1.0/account/{accountId}/extension/{extensionId}")
    assert (info["type"], info["extensionNumber"]) == ("Department", "801")


def test_an_unanswered_queue_call_leaves_the_queues_voicemail(
        fast: SandboxProcess, agent: httpx.Client, admin: httpx.Client) -> None:
    load_or_skip()
    call = fast.start_call("call_queue", extension="801", answered=False,
                           **{"from": CUSTOMER}, name="Phillip Marco")
    voicemail = fast.wait_for(lambda: next(
        (m for m in stored(fast, "801") if m["type"] == "VoiceMail"), None))
    assert voicemail["call"]["sessionId"] == call["sessionId"]
    # The members missed it; none of them got the voicemail.
    for number in ("102", "103", "104"):
        assert not [m for m in stored(fast, number) if m["type"] == "VoiceMail"]

    store = f"/restapi/v1.0/account/~/extension/{SUPPORT_ID}/message-store"
    listed = conforms(admin.get(store, params={"messageType": "VoiceMail"}), "GET", T_STORE)
    (record,) = listed["records"]
    assert record["to"][0]["extensionNumber"] == "801"
    assert record["from"] == {"phoneNumber": CUSTOMER, "name": "Phillip Marco"}
    done = fast.wait_for(lambda: (lambda m: m if m["vmTranscriptionStatus"] == "Completed"
                                  else None)(admin.get(record["uri"]).json()), timeout=30)
    conforms(admin.get(record["uri"]), "GET", T_MESSAGE)
    audio = next(a for a in done["attachments"] if a["type"] == "AudioRecording")
    assert admin.get(audio["uri"]).headers["content-type"] == "audio/mpeg"

    # An agent, even a member, may not read the queue's box (the platform's admin rule).
    sync = f"/restapi/v1.0/account/~/extension/{SUPPORT_ID}/message-sync"
    for path in (store, record["uri"], audio["uri"], sync + "?syncType=FSync"):
        refused = agent.get(path)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["errors"][0]["errorCode"] == "CMN-408"

    # The account's call log: the queue's record ends in Voicemail, the members' Missed.
    log = fast.wait_for(lambda: admin.get("/restapi/v1.0/account/~/call-log", params={
        "sessionId": call["sessionId"], "view": "Detailed"}).json()["records"])
    conforms(admin.get("/restapi/v1.0/account/~/call-log", params={
        "sessionId": call["sessionId"], "view": "Detailed"}), "GET", T_CALL_LOG)
    # Every record is to the queue's number (the members were rung through the queue).
    assert {r["to"].get("extensionNumber") for r in log} == {"801"}
    results = sorted(r["result"] for r in log)
    assert results == ["Missed", "Missed", "Missed", "Voicemail"], log
    queue_record = next(r for r in log if r["result"] == "Voicemail")
    assert queue_record["message"]["id"] == str(record["id"])


def test_answered_false_needs_a_queue(fresh_sandbox: SandboxProcess) -> None:
    refused = fresh_sandbox.http.post("/sandbox/calls", json={
        "scenario": "call_queue", "extension": "102", "answered": False})
    assert refused.status_code == 400 and "queue" in refused.text
