"""The card's call-control endpoints act through the RingCentral client on the agent's own
party of the call, in the sandbox, over HTTP: the call changes at RingCentral (legs, call
log), the ``Call`` row waits for the platform's event, and refusals read clearly."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm_cti.accounts.models import Agent
from crm_cti.ringcentral.budget import budget_reset, budget_take
from crm_cti.telephony.models import Call
from crm_cti.telephony.services.callcontrol import REPLY_TEXTS
from tests.support.agents import agent_sign_in
from tests.support.people import call_make
from tests.support.sandbox import SandboxProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

TELEPHONY = "/restapi/v1.0/account/~/telephony"


@pytest.fixture
def live(fresh_sandbox: SandboxProcess, settings) -> SandboxProcess:
    settings.RC_SERVER_URL = fresh_sandbox.url
    settings.SECURE_SSL_REDIRECT = False
    fresh_sandbox.config(speed=2, call_log_lag=0, rate_limits={"enabled": False})
    budget_reset()
    yield fresh_sandbox
    budget_reset()


@pytest.fixture
def marcus(live, db) -> Agent:
    return agent_sign_in(live, "102")


@pytest.fixture
def priya(live, db) -> Agent:
    return agent_sign_in(live, "103")


def _browser(agent: Agent) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(agent.user)
    return client


def _ringing(sandbox: SandboxProcess, agent: Agent, *, scenario: str = "interactive") -> Call:
    """A call ringing at RingCentral and the row the tracker keeps for it."""
    started = sandbox.start_call(scenario, extension=agent.extension_number,
                                 ring_seconds=600, from_="+16504445567")
    sandbox.wait_for(lambda: sandbox.call(started["sessionId"])["legs"][0]["telephonyStatus"]
                     == "Ringing")
    return call_make(agent, session_id=started["sessionId"],
                     telephony_session_id=started["telephonySessionId"],
                     state=Call.State.RINGING, answered_at=None, ended_at=None, duration=None)


def _leg(sandbox: SandboxProcess, call: Call, extension: str = "102") -> dict[str, Any]:
    legs = [leg for leg in sandbox.call(call.session_id)["legs"]
            if leg["extensionNumber"] == extension]
    return legs[-1]


def _press(client: Client, call: Call, action: str, **data: Any):
    return client.post(f"/api/calls/{call.pk}/control/{action}/", data=data,
                       content_type="application/json")


def _devices(client: Client) -> list[dict[str, Any]]:
    response = client.get("/api/callcontrol/devices/")
    assert response.status_code == 200, response.content
    return response.json()["devices"]


def _answered(live: SandboxProcess, marcus: Agent, client: Client) -> Call:
    call = _ringing(live, marcus)
    device = _devices(client)[0]["id"]
    answered = _press(client, call, "answer", device_id=device)
    assert answered.status_code == 200, answered.content
    live.wait_for(lambda: _leg(live, call)["telephonyStatus"] == "CallConnected")
    Call.objects.filter(pk=call.pk).update(state=Call.State.CONNECTED)
    call.refresh_from_db()
    return call


def test_answer_on_a_chosen_phone_then_hold_resume_and_hang_up(live, marcus) -> None:
    client = _browser(marcus)
    devices = _devices(client)
    assert sorted(d["type"] for d in devices) == ["HardPhone", "SoftPhone"]
    call = _answered(live, marcus, client)
    held = _press(client, call, "hold")
    assert held.status_code == 200 and held.json()["ok"] is True
    assert _leg(live, call)["telephonyStatus"] == "OnHold"
    # Not optimistic: the row changes when the platform's event says so, not here.
    call.refresh_from_db()
    assert call.state == Call.State.CONNECTED
    again = _press(client, call, "hold")
    assert again.status_code == 400
    assert "not allowed" in again.json()["error"]
    assert _press(client, call, "unhold").status_code == 200
    assert _leg(live, call)["telephonyStatus"] == "CallConnected"
    assert _press(client, call, "hangup").status_code == 200
    ended = live.wait_for(lambda: (c := live.call(call.session_id))["endTime"] and c)
    assert ended["legs"][0]["result"] == "Accepted"
    # The platform ended it: another press says so clearly.
    gone = _press(client, call, "hold")
    assert gone.status_code in (400, 409)
    assert gone.json()["error"] in ("The call has already ended.",
                                    "Telephony session is already finished")


def test_ringing_call_to_voicemail_forward_and_reply(live, marcus, priya) -> None:
    client = _browser(marcus)
    first = _ringing(live, marcus)
    assert _press(client, first, "voicemail").status_code == 200
    ended = live.wait_for(lambda: (c := live.call(first.session_id))["endTime"] and c)
    assert ended["legs"][0]["result"] == "Voicemail"

    second = _ringing(live, marcus)
    bad = _press(client, second, "forward", to="not a number")
    assert bad.status_code == 400 and "to" in bad.json()["errors"]
    assert _press(client, second, "forward", to="103").status_code == 200
    live.wait_for(lambda: _leg(live, second, "103")["telephonyStatus"] == "Ringing")

    third = _ringing(live, marcus)
    made_up = _press(client, third, "reply", text="Go away")
    assert made_up.status_code == 400
    assert _press(client, third, "reply", text=REPLY_TEXTS[0]).status_code == 200
    ended = live.wait_for(lambda: (c := live.call(third.session_id))["endTime"] and c)
    assert ended["legs"][0]["result"] == "Reply"


def test_blind_transfer_refuses_an_unknown_extension_then_moves_the_call(live, marcus, priya,
                                                                         ) -> None:
    client = _browser(marcus)
    call = _answered(live, marcus, client)
    unknown = _press(client, call, "transfer", to="999")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "Resource for parameter [extensionNumber] is not found"
    assert _leg(live, call)["telephonyStatus"] == "CallConnected"
    assert _press(client, call, "transfer", to="103").status_code == 200
    live.wait_for(lambda: _leg(live, call, "103")["telephonyStatus"] == "Ringing")


def test_warm_transfer_consults_then_bridges_or_cancels(live, marcus, priya) -> None:
    client = _browser(marcus)
    call = _answered(live, marcus, client)
    consult = _press(client, call, "consult", to="103")
    assert consult.status_code == 200, consult.content
    consult_id = consult.json()["consult_session_id"]
    assert _leg(live, call)["telephonyStatus"] == "OnHold"
    # Cancelled: the consultation ends and the caller is back.
    assert _press(client, call, "consult_cancel",
                  consult_session_id=consult_id).status_code == 200
    assert _leg(live, call)["telephonyStatus"] == "CallConnected"

    consult_id = _press(client, call, "consult", to="103").json()["consult_session_id"]
    # Priya answers the consultation on her phone; then Marcus completes the transfer.
    with live.api("103") as api:
        session = api.get(f"{TELEPHONY}/sessions/{consult_id}").json()
        hers = next(p for p in session["parties"] if p["extensionId"] == priya.rc_extension_id)
        device = api.get("/restapi/v1.0/account/~/extension/~/device").json()["records"][0]
        answered = api.post(f"{TELEPHONY}/sessions/{consult_id}/parties/{hers['id']}/answer",
                            json={"deviceId": device["id"]})
        assert answered.status_code == 200, answered.text
    # A session Marcus has no party in is not his to bridge with.
    foreign = _press(client, call, "consult_complete", consult_session_id="no-such-session")
    assert foreign.status_code == 400
    done = _press(client, call, "consult_complete", consult_session_id=consult_id)
    assert done.status_code == 200, done.content
    legs = live.wait_for(lambda: (c := live.call(call.session_id)) and _leg(
        live, call, "103")["telephonyStatus"] == "CallConnected" and c["legs"])
    assert [leg["extensionNumber"] for leg in legs] == ["102", "103"]


def test_park_and_record_start_pause_resume(live, marcus) -> None:
    client = _browser(marcus)
    call = _answered(live, marcus, client)
    assert _press(client, call, "record_pause").json()["error"] == (
        "The call is not being recorded.")
    assert _press(client, call, "record_start").status_code == 200
    assert _press(client, call, "record_pause").status_code == 200
    assert _press(client, call, "record_start").status_code == 200  # resumes the same one
    parked = _press(client, call, "park")
    assert parked.status_code == 200 and parked.json()["message"] == "Parked at *801."
    assert _leg(live, call)["telephonyStatus"] == "ParkedCall"


def test_call_from_my_phone_rings_the_chosen_device_first(live, marcus) -> None:
    client = _browser(marcus)
    device = next(d for d in _devices(client) if d["type"] == "SoftPhone")
    missing = client.post("/api/callout/", data={"to": "+14155550100"},
                          content_type="application/json")
    assert missing.status_code == 400 and "device_id" in missing.json()["errors"]
    placed = client.post("/api/callout/", data={"to": "(415) 555-0100", "device_id": device["id"]},
                         content_type="application/json")
    assert placed.status_code == 201, placed.content
    session_id = placed.json()["telephony_session_id"]
    with live.api("102") as api:
        session = api.get(f"{TELEPHONY}/sessions/{session_id}").json()
    assert session["origin"]["type"] == "CallOut"
    assert session["parties"][0]["from"]["deviceId"] == device["id"]


def test_a_press_beyond_the_budget_says_when_to_try_again(live, marcus) -> None:
    client = _browser(marcus)
    call = _ringing(live, marcus)
    user_key = f"ext:{marcus.rc_extension_id}"
    while budget_take(user_key=user_key, group="Light") == 0:
        pass
    before = live.stats()["requests"].get("Light", 0)
    refused = _press(client, call, "voicemail")
    assert refused.status_code == 429
    assert refused["Retry-After"].isdigit()
    assert refused.json()["error"].startswith("RingCentral asks us to slow down; try again in ")
    # Nothing was sent, nothing was queued: the call still rings.
    assert live.stats()["requests"].get("Light", 0) == before
    assert _leg(live, call)["telephonyStatus"] == "Ringing"


def test_calling_off_a_consultation_the_colleague_hung_up_brings_the_caller_back(
        live, marcus, priya) -> None:
    client = _browser(marcus)
    call = _answered(live, marcus, client)
    consult_id = _press(client, call, "consult", to="103").json()["consult_session_id"]
    with live.api("103") as api:
        assert api.delete(f"{TELEPHONY}/sessions/{consult_id}").status_code == 204
    assert _press(client, call, "consult_complete",
                  consult_session_id=consult_id).status_code in (400, 409)
    assert _press(client, call, "consult_cancel",
                  consult_session_id=consult_id).status_code == 200
    assert _leg(live, call)["telephonyStatus"] == "CallConnected"


def test_a_press_on_a_call_whose_party_events_stored_sends_one_request(live, marcus) -> None:
    """Telephony-session events store the agent's party (``Call.party_id``): a press acts on
    it at once, one Light request, instead of asking for the session first."""
    client = _browser(marcus)
    call = _answered(live, marcus, client)
    Call.objects.filter(pk=call.pk).update(party_id=_leg(live, call)["partyId"],
                                           party_status="Answered")
    before = live.stats()["requests"].get("Light", 0)
    assert _press(client, call, "hold").status_code == 200
    assert live.stats()["requests"].get("Light", 0) == before + 1
    assert _leg(live, call)["telephonyStatus"] == "OnHold"
    # Without a stored party (presence only) the press looks it up: two requests.
    Call.objects.filter(pk=call.pk).update(party_id="", party_status="")
    before = live.stats()["requests"].get("Light", 0)
    assert _press(client, call, "unhold").status_code == 200
    assert live.stats()["requests"].get("Light", 0) == before + 2
    assert _leg(live, call)["telephonyStatus"] == "CallConnected"
