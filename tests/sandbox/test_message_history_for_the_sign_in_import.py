"""``POST /sandbox/message-store/history``: past SMS conversations and voicemails over the
last days, which a product imports at sign-in (a week of message-sync or list pages)."""

from __future__ import annotations

import httpx

from tests.sandbox.message_helpers import STORE, SYNC, T_STORE, T_SYNC
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import SandboxProcess


def _history(sandbox: SandboxProcess, **body: object) -> httpx.Response:
    return sandbox.http.post("/sandbox/message-store/history", json=body)


def test_a_week_of_messages_reads_through_list_and_sync(fresh_sandbox: SandboxProcess,
                                                        agent: httpx.Client) -> None:
    load_or_skip()
    made = _history(fresh_sandbox, extension="102", messages=40, days=7, seed=3)
    assert made.status_code == 201, made.text
    assert made.json()["created"] == 40
    week = {"dateFrom": "2000-01-01T00:00:00Z", "perPage": 15}
    first = conforms(agent.get(STORE, params=week), "GET", T_STORE)
    assert first["paging"]["totalElements"] == 40
    ids = [m["id"] for m in first["records"]]
    page = first
    while "nextPage" in page["navigation"]:
        page = conforms(agent.get(page["navigation"]["nextPage"]["uri"]), "GET", T_STORE)
        ids += [m["id"] for m in page["records"]]
    assert sorted(ids) == sorted(m["id"] for m in made.json()["records"])
    kinds = {m["type"] for m in made.json()["records"]}
    assert kinds == {"SMS", "VoiceMail"}
    voicemail = next(m for m in made.json()["records"] if m["type"] == "VoiceMail")
    assert voicemail["vmTranscriptionStatus"] == "Completed"
    transcript = next(a for a in voicemail["attachments"] if a["type"] == "AudioTranscription")
    assert agent.get(transcript["uri"]).text
    # The default window is a day: the rest is older.
    synced = conforms(agent.get(SYNC, params={"syncType": "FSync"}), "GET", T_SYNC)
    assert len(synced["records"]) < 40 and synced["syncInfo"]["olderRecordsExist"] is True
    whole = conforms(agent.get(SYNC, params={"dateFrom": "2000-01-01T00:00:00Z"}), "GET",
                     T_SYNC)
    assert len(whole["records"]) == 40
    # Another agent's store stays empty.
    with fresh_sandbox.api("103") as colleague:
        assert colleague.get(STORE, params=week).json()["records"] == []


def test_history_conversations_use_the_numbers_given(fresh_sandbox: SandboxProcess,
                                                     agent: httpx.Client) -> None:
    made = _history(fresh_sandbox, extension="102", messages=10, numbers=["+14155550123"],
                    seed=1).json()["records"]
    numbers = {p.get("phoneNumber") for m in made for p in [m["from"], *m["to"]]}
    assert numbers == {"+14155550123", "+16505550102"}
    sms = [m for m in made if m["type"] == "SMS"]
    assert len({m["conversationId"] for m in sms}) == 1


def test_bad_history_requests_get_clear_errors(fresh_sandbox: SandboxProcess) -> None:
    for body in ({"extension": "999"}, {"extension": "102", "messages": 0},
                 {"extension": "102", "days": "x"}, {"extension": "102", "numbers": ["1"]},
                 {"extension": "102", "seed": "s"}):
        response = _history(fresh_sandbox, **body)
        assert response.status_code == 400, body
        assert response.json()["error"]
