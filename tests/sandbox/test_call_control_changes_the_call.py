"""Call Control operations change the call for real: the events to every extension involved,
active calls and the call log afterwards; refusals are worded as the platform words them;
the app needs CallControl; responses validate against the spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.sandbox.conftest import PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.sandbox.session_helpers import (
    ACCOUNT_SESSIONS,
    SESSIONS,
    TELEPHONY,
    device_id,
    last_party,
    limited_api,
    party_codes,
    party_of,
    presence_events,
    session_events,
)
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import SandboxProcess

AGENT, PRIYA, DANIEL = "400000102", "400000103", "400000104"
S = "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}"
P = S + "/parties/{partyId}"


@pytest.fixture
def live(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    # Slow enough that a transferred call rings while the test answers it.
    fresh_sandbox.config(speed=2, call_log_lag=0, rate_limits={"enabled": False})
    return fresh_sandbox


@pytest.fixture
def priya(live: SandboxProcess) -> Iterator[httpx.Client]:
    with live.api("103") as client:
        yield client


@pytest.fixture
def spec() -> dict:
    return load_or_skip()


def _ringing(sandbox: SandboxProcess, extension: str = "102") -> dict:
    """An interactive call ringing on ``extension`` (it rings until someone acts)."""
    call = sandbox.start_call("interactive", extension=extension, ring_seconds=600)
    sandbox.wait_for(lambda: sandbox.call(call["sessionId"])["legs"][0]["telephonyStatus"]
                     == "Ringing")
    return call


def _path(call: dict, party: dict | None = None, action: str = "") -> str:
    base = f"{TELEPHONY}/sessions/{call['telephonySessionId']}"
    if party is not None:
        base += f"/parties/{party['id']}"
    return base + (f"/{action}" if action else "")


def _answered(sandbox: SandboxProcess, client: httpx.Client, extension_id: str = AGENT,
              ) -> tuple[dict, dict]:
    call = _ringing(sandbox)
    party = party_of(client, call["telephonySessionId"], extension_id)
    answered = client.post(_path(call, party, "answer"),
                           json={"deviceId": device_id(client)})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"]["code"] == "Answered"
    return call, party


def _call_log(sandbox: SandboxProcess, client: httpx.Client, session_id: str,
              level: str = "/extension/~") -> list[dict]:
    def found() -> list[dict]:
        records = client.get(f"/restapi/v1.0/account/~{level}/call-log",
                             params={"sessionId": session_id, "view": "Detailed",
                                     "dateFrom": "2020-01-01"}).json()["records"]
        return records
    return sandbox.wait_for(found)


def test_devices_list_each_extensions_desk_phone_and_softphone(live, agent, spec) -> None:
    body = conforms(agent.get("/restapi/v1.0/account/~/extension/~/device"), "GET",
                    "/restapi/v1.0/account/{accountId}/extension/{extensionId}/device")
    assert sorted(r["type"] for r in body["records"]) == ["HardPhone", "SoftPhone"]
    assert all(r["extension"]["extensionNumber"] == "102" for r in body["records"])


def test_answer_hold_unhold_and_hang_up(live, agent, receiver: Receiver, spec) -> None:
    subscribe(agent, receiver, [SESSIONS, PRESENCE])
    call, party = _answered(live, agent)
    session = conforms(agent.get(_path(call)), "GET", S)
    assert session["origin"]["type"] == "Call"
    assert session["parties"][0]["to"]["deviceId"] == device_id(agent)
    held = conforms(agent.post(_path(call, party, "hold"), json={}), "POST", P + "/hold")
    assert held["status"]["code"] == "Hold"
    assert live.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "OnHold"
    again = agent.post(_path(call, party, "hold"))
    assert again.status_code == 409 and again.json()["errors"][0]["errorCode"] == "TAS-106"
    conforms(again, "POST", P + "/hold")
    resumed = conforms(agent.post(_path(call, party, "unhold")), "POST", P + "/unhold")
    assert resumed["status"]["code"] == "Answered"
    assert agent.delete(_path(call)).status_code == 204
    live.wait_for(lambda: live.call(call["sessionId"])["endTime"])
    events = live.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 6 and e)
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Hold",
                                          "Answered", "Disconnected"]
    presence = [p["telephonyStatus"] for p in presence_events(receiver, AGENT)]
    assert presence == ["Ringing", "CallConnected", "OnHold", "CallConnected", "NoCall"]
    # The call ended: another operation on it is refused.
    gone = agent.post(_path(call, party, "hold"))
    assert gone.status_code == 404 and gone.json()["errors"][0]["errorCode"] == "TAS-102"
    records = _call_log(live, agent, call["sessionId"])
    assert records[0]["result"] == "Accepted"


def test_blind_transfer_to_a_colleague(live, agent, priya, admin, receiver: Receiver,
                                       spec) -> None:
    subscribe(admin, receiver, [ACCOUNT_SESSIONS])
    call, party = _answered(live, agent)
    unknown = agent.post(_path(call, party, "transfer"), json={"extensionNumber": "999"})
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["parameterName"] == "extensionNumber"
    conforms(unknown, "POST", P + "/transfer")
    two = agent.post(_path(call, party, "transfer"),
                     json={"extensionNumber": "103", "phoneNumber": "+14155550100"})
    assert two.status_code == 400
    moved = conforms(agent.post(_path(call, party, "transfer"), json={"extensionNumber": "103"}),
                     "POST", P + "/transfer")
    assert moved["status"]["code"] == "Gone" and moved["status"]["reason"] == "BlindTransfer"
    new = party_of(priya, call["telephonySessionId"], PRIYA)
    assert moved["status"]["peerId"]["partyId"] == new["id"]
    assert new["status"]["code"] == "Proceeding"
    # Priya's phone rings; she answers on her softphone; Marcus is off the call.
    assert live.call(call["sessionId"])["legs"][1]["telephonyStatus"] == "Ringing"
    answered = priya.post(_path(call, new, "answer"),
                          json={"deviceId": device_id(priya, "SoftPhone")})
    assert answered.status_code == 200, answered.text
    active = priya.get("/restapi/v1.0/account/~/extension/~/active-calls").json()["records"]
    assert [r["sessionId"] for r in active] == [call["sessionId"]]
    assert priya.delete(_path(call, new)).status_code == 204
    live.wait_for(lambda: live.call(call["sessionId"])["endTime"])
    events = live.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 8 and e)
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Gone"]
    assert party_codes(events, PRIYA) == ["Setup", "Proceeding", "Answered", "Disconnected"]
    records = {r["extension"]["id"]: r for r in _call_log(live, admin, call["sessionId"], "")}
    assert records[int(AGENT)]["result"] == "Accepted"
    assert records[int(PRIYA)]["result"] == "Accepted"
    # Marcus's record says where his call went.
    legs = records[int(AGENT)]["legs"]
    assert [(leg["legType"], leg.get("action")) for leg in legs] == [
        ("Accept", "Phone Call"), ("TransferCall", "Transfer")]
    assert legs[1]["to"]["extensionNumber"] == "103"
    conforms(admin.get("/restapi/v1.0/account/~/call-log", params={
        "sessionId": call["sessionId"], "view": "Detailed", "dateFrom": "2020-01-01"}), "GET",
        "/restapi/v1.0/account/{accountId}/call-log")


def test_transfer_to_voicemail_and_to_an_outside_number(live, agent, receiver) -> None:
    subscribe(agent, receiver, [SESSIONS])
    call, party = _answered(live, agent)
    out = agent.post(_path(call, party, "transfer"), json={"phoneNumber": "+14155550100"})
    assert out.status_code == 200 and out.json()["status"]["code"] == "Gone"
    live.wait_for(lambda: live.call(call["sessionId"])["endTime"])
    second, party2 = _answered(live, agent)
    sent = agent.post(_path(second, party2, "transfer"), json={"voicemail": PRIYA})
    assert sent.status_code == 200
    ended = live.wait_for(lambda: (c := live.call(second["sessionId"]))["endTime"] and c)
    assert [leg["result"] for leg in ended["legs"]] == ["Accepted", "Voicemail"]


def test_reject_sends_the_call_to_voicemail(live, agent, receiver, spec) -> None:
    subscribe(agent, receiver, [SESSIONS])
    call = _ringing(live)
    party = party_of(agent, call["telephonySessionId"], AGENT)
    rejected = agent.post(_path(call, party, "reject"))
    assert rejected.status_code == 204
    ended = live.wait_for(lambda: (c := live.call(call["sessionId"]))["endTime"] and c)
    assert ended["legs"][0]["result"] == "Voicemail"
    events = live.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 4 and e)
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "VoiceMail", "Disconnected"]
    assert last_party(events, AGENT)["status"]["reason"] == "Rejected"
    assert last_party(events, AGENT)["missedCall"] is False


def test_forward_reply_and_ignore(live, agent, priya, receiver, spec) -> None:
    subscribe(agent, receiver, [SESSIONS])
    call = _ringing(live)
    party = party_of(agent, call["telephonySessionId"], AGENT)
    forwarded = conforms(agent.post(_path(call, party, "forward"),
                                    json={"extensionNumber": "103"}), "POST", P + "/forward")
    assert forwarded["status"] == {"code": "Disconnected", "reason": "CallRedirected",
                                   "rcc": False, "peerId": forwarded["status"]["peerId"]}
    assert party_of(priya, call["telephonySessionId"], PRIYA)["status"]["code"] == "Proceeding"
    # Not a queue call: it cannot be ignored.
    new = party_of(priya, call["telephonySessionId"], PRIYA)
    assert priya.post(_path(call, new, "ignore"), json={}).status_code == 400
    reply = conforms(priya.post(_path(call, new, "reply"),
                                json={"replyWithText": "I'll call you back in 5 minutes"}),
                     "POST", P + "/reply")
    assert reply["status"]["reason"] == "CallReplied"
    ended = live.wait_for(lambda: (c := live.call(call["sessionId"]))["endTime"] and c)
    assert [leg["result"] for leg in ended["legs"]] == ["Stopped", "Reply"]


def test_park_and_pickup(live, agent, priya, receiver, spec) -> None:
    subscribe(agent, receiver, [SESSIONS, PRESENCE])
    call, party = _answered(live, agent)
    parked = agent.post(_path(call, party, "park"))
    assert parked.status_code == 201, parked.text
    conforms(parked, "POST", P + "/park")
    assert parked.json()["park"]["id"] == "*801"
    assert parked.json()["status"]["code"] == "Parked"
    assert live.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "ParkedCall"
    bad_device = priya.post(_path(call, party, "pickup"), json={"deviceId": device_id(agent)})
    assert bad_device.status_code == 404
    picked = priya.post(_path(call, party, "pickup"), json={"deviceId": device_id(priya)})
    assert picked.status_code == 201, picked.text
    conforms(picked, "POST", P + "/pickup")
    assert picked.json()["extensionId"] == PRIYA and picked.json()["status"]["code"] == (
        "Answered")
    events = live.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 5 and e)
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Parked", "Gone"]
    assert last_party(events, AGENT)["status"]["reason"] == "Pickup"
    presence = [p["telephonyStatus"] for p in presence_events(receiver, AGENT)]
    assert presence == ["Ringing", "CallConnected", "ParkedCall", "NoCall"]


def test_recording_start_pause_and_resume(live, agent, receiver, spec) -> None:
    subscribe(agent, receiver, [SESSIONS])
    call, party = _answered(live, agent)
    started = agent.post(_path(call, party, "recordings"))
    assert started.status_code == 201, started.text
    recording = conforms(started, "POST", P + "/recordings")
    assert recording["active"] is True
    twice = agent.post(_path(call, party, "recordings"))
    assert twice.status_code == 409
    paused = agent.patch(_path(call, party, f"recordings/{recording['id']}"),
                         json={"active": False})
    assert conforms(paused, "PATCH", P + "/recordings/{recordingId}")["active"] is False
    missing = agent.patch(_path(call, party, "recordings/123"), json={"active": True})
    assert missing.status_code == 404
    events = live.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 5 and e)
    recordings = [body["parties"][0].get("recordings") for body in events]
    assert recordings[-2:] == [[{"id": recording["id"], "active": True}],
                               [{"id": recording["id"], "active": False}]]


def test_warm_transfer_bridges_the_customer_to_the_colleague(live, agent, priya,
                                                             receiver, spec) -> None:
    subscribe(agent, receiver, [SESSIONS])
    customer, party = _answered(live, agent)
    agent.post(_path(customer, party, "hold"))
    consult = agent.post(f"{TELEPHONY}/call-out", json={
        "from": {"deviceId": device_id(agent)}, "to": {"extensionNumber": "103"}})
    assert consult.status_code == 201, consult.text
    conforms(consult, "POST", "/restapi/v1.0/account/{accountId}/telephony/call-out")
    session = consult.json()["session"]
    assert session["origin"]["type"] == "CallOut"
    mine = next(p for p in session["parties"] if p["extensionId"] == AGENT)
    theirs = next(p for p in session["parties"] if p["extensionId"] == PRIYA)
    consult_call = {"telephonySessionId": session["id"]}
    # Priya answers the consultation; until then there is nothing to bridge.
    early = agent.post(_path(customer, party, "bridge"),
                       json={"telephonySessionId": session["id"], "partyId": mine["id"]})
    assert early.status_code == 409
    assert priya.post(_path(consult_call, theirs, "answer"),
                      json={"deviceId": device_id(priya)}).status_code == 200
    bridged = agent.post(_path(customer, party, "bridge"),
                         json={"telephonySessionId": session["id"], "partyId": mine["id"]})
    assert bridged.status_code == 200, bridged.text
    conforms(bridged, "POST", P + "/bridge")
    assert bridged.json()["extensionId"] == PRIYA
    assert bridged.json()["status"]["code"] == "Answered"
    customer_events = live.wait_for(
        lambda: (e := session_events(receiver, customer["telephonySessionId"]))
        and party_codes(e, AGENT)[-1] == "Gone" and e)
    assert last_party(customer_events, AGENT)["status"]["reason"] == "AttendedTransfer"
    consult_state = agent.get(f"{TELEPHONY}/sessions/{session['id']}").json()
    assert {p["status"]["code"] for p in consult_state["parties"]} == {"Gone"}


def test_another_agent_cannot_control_my_call(live, agent, priya) -> None:
    call, party = _answered(live, agent)
    # Priya has no party in the call: she cannot even see it.
    assert priya.get(_path(call)).status_code == 404
    assert priya.post(_path(call, party, "hold")).status_code == 404
    assert priya.delete(_path(call)).status_code == 404



def test_on_a_shared_call_each_acts_on_their_own_party_and_an_admin_on_any(
        live, agent, priya, admin) -> None:
    call = live.start_call("internal", extension="102", from_="103", ring_seconds=600)
    live.wait_for(lambda: all(leg["telephonyStatus"] == "Ringing"
                              for leg in live.call(call["sessionId"])["legs"]))
    mine = party_of(agent, call["telephonySessionId"], AGENT)
    live.call_action(call["sessionId"], "answer")
    refused = priya.post(_path(call, mine, "hold"))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["errorCode"] == "CMN-419"
    held = admin.post(_path(call, mine, "hold"))
    assert held.status_code == 200 and held.json()["status"]["code"] == "Hold"


def test_an_app_without_call_control_gets_403(live, agent) -> None:
    call, party = _answered(live, agent)
    with limited_api(live) as limited:
        for response in (limited.get(_path(call)), limited.post(_path(call, party, "hold")),
                         limited.post(f"{TELEPHONY}/call-out", json={})):
            assert response.status_code == 403
            assert response.json()["permissionName"] == "CallControl"
        refused = limited.post("/restapi/v1.0/subscription", json={
            "eventFilters": [SESSIONS],
            "deliveryMode": {"transportType": "WebHook", "address": "http://127.0.0.1:9/"}})
        assert refused.status_code == 403
        assert limited.get("/restapi/v1.0/account/~/extension/~").status_code == 200


def test_call_control_spends_the_spec_throttling_groups(live, agent) -> None:
    call, party = _answered(live, agent)
    before = live.stats()["requests"]
    agent.post(_path(call, party, "hold"))
    agent.post(f"{TELEPHONY}/call-out", json={"from": {"deviceId": device_id(agent)},
                                              "to": {"phoneNumber": "+14155550100"}})
    after = live.stats()["requests"]
    # hold is Light, call-out Heavy (device_id's GET .../device is Light as well).
    assert after.get("Heavy", 0) - before.get("Heavy", 0) == 1
    assert after.get("Light", 0) - before.get("Light", 0) == 2


def test_call_out_to_a_number_connects_and_hangs_up(live, agent, receiver) -> None:
    subscribe(agent, receiver, [SESSIONS])
    created = agent.post(f"{TELEPHONY}/call-out", json={
        "from": {"deviceId": device_id(agent, "SoftPhone")},
        "to": {"phoneNumber": "+14155550100"}})
    assert created.status_code == 201
    session = created.json()["session"]
    assert agent.post(f"{TELEPHONY}/call-out", json={
        "from": {"deviceId": "1"}, "to": {"phoneNumber": "+1"}}).status_code == 404
    live.wait_for(lambda: party_of(agent, session["id"], AGENT)["status"]["code"]
                  == "Answered", timeout=30)
    assert agent.delete(f"{TELEPHONY}/sessions/{session['id']}").status_code == 204
    events = live.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 4 and e)
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Disconnected"]
    assert events[0]["origin"] == {"type": "CallOut"}


def test_a_queue_agent_ignores_and_another_answers(live, agent, priya, admin, receiver) -> None:
    subscribe(admin, receiver, [ACCOUNT_SESSIONS])
    call = live.start_call("call_queue", extension="102", ring_seconds=600)
    live.wait_for(lambda: all(leg["telephonyStatus"] == "Ringing"
                              for leg in live.call(call["sessionId"])["legs"]))
    mine = party_of(priya, call["telephonySessionId"], PRIYA)
    assert priya.post(_path(call, mine, "ignore"), json={}).status_code == 204
    marcus = party_of(agent, call["telephonySessionId"], AGENT)
    assert agent.post(_path(call, marcus, "answer"),
                      json={"deviceId": device_id(agent)}).status_code == 200
    legs = {leg["extensionNumber"]: leg for leg in live.call(call["sessionId"])["legs"]}
    assert legs["103"]["result"] == "Missed"
    assert legs["104"]["result"] == "Answered Elsewhere"
    assert legs["102"]["partyStatus"] == "Answered"
    events = live.wait_for(lambda: (e := session_events(receiver)) and party_codes(
        e, DANIEL)[-1:] == ["Disconnected"] and e)
    assert last_party(events, DANIEL)["status"]["reason"] == "AgentAnswered"
    assert last_party(events, DANIEL)["status"]["peerId"]["partyId"] == marcus["id"]
    assert all(p["queueCall"] for b in events for p in b["parties"])


def test_transfer_to_a_park_orbit(live, agent, spec) -> None:
    call, party = _answered(live, agent)
    parked = conforms(agent.post(_path(call, party, "transfer"), json={"parkOrbit": "*805"}),
                      "POST", P + "/transfer")
    assert parked["status"]["code"] == "Parked" and parked["park"]["id"] == "*805"
    assert parked["status"]["reason"] == "ParkLocation"
    assert live.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "ParkedCall"
    assert agent.delete(_path(call)).status_code == 204
    records = _call_log(live, agent, call["sessionId"])
    assert [leg["legType"] for leg in records[0]["legs"]] == ["Accept", "CallPark"]
    conforms(agent.get("/restapi/v1.0/account/~/extension/~/call-log", params={
        "sessionId": call["sessionId"], "view": "Detailed", "dateFrom": "2020-01-01"}), "GET",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log")
