"""Call control is the owner's: agent B pressing any button on agent A's call (or naming A's
consultation call as their own) gets "No such call." and RingCentral is asked nothing on
B's behalf; an admin may act on any call. An app without CallControl offers no button and
every endpoint says why."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crm_cti.accounts.models import Agent
from crm_cti.dashboard.callcontrol_api import ACTIONS
from crm_cti.telephony.models import Call
from tests.accounts.signin_helpers import sign_in
from tests.support.people import call_make
from tests.support.sandbox import SandboxProcess

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(90)]

TELEPHONY = "/restapi/v1.0/account/~/telephony"
EVERY_FIELD = {"device_id": "1", "to": "103", "text": "I'll call you back in 5 minutes.",
               "consult_session_id": "x"}


def _signed_in(username: str) -> Client:
    client = Client()
    assert sign_in(client, username=username).status_code == 302
    return client


def _answered_call(rc: SandboxProcess, extension: str = "102") -> Call:
    started = rc.start_call("interactive", extension=extension, ring_seconds=600,
                            from_="+16504445567")
    rc.wait_for(lambda: rc.call(started["sessionId"])["legs"][0]["telephonyStatus"] == "Ringing")
    rc.call_action(started["sessionId"], "answer")
    owner = Agent.objects.get(extension_number=extension)
    return call_make(owner, session_id=started["sessionId"],
                     telephony_session_id=started["telephonySessionId"],
                     state=Call.State.CONNECTED, ended_at=None, duration=None)


def _press(client: Client, call: Call, action: str, **data: Any):
    return client.post(f"/api/calls/{call.pk}/control/{action}/", data=data,
                       content_type="application/json")


def _call_control_requests(rc: SandboxProcess) -> int:
    by_operation = rc.stats().get("by_operation", {})
    return sum(n for op, n in by_operation.items() if "telephony" in op.lower())


def test_another_agent_cannot_press_any_button_on_my_call(rc) -> None:
    rc.config(rate_limits={"enabled": False})
    _signed_in("102")
    priya = _signed_in("103")
    call = _answered_call(rc)
    before = _call_control_requests(rc)
    for action in ACTIONS:
        response = _press(priya, call, action, **EVERY_FIELD)
        assert response.status_code == 404, action
        assert response.json()["error"] == "No such call.", action
    # The same answer as for a call that does not exist.
    assert _press(priya, Call(pk=call.pk + 1000), "hold").json()["error"] == "No such call."
    assert _call_control_requests(rc) == before
    legs = rc.call(call.session_id)["legs"]
    assert [leg["telephonyStatus"] for leg in legs] == ["CallConnected"]


def test_a_consultation_call_of_someone_else_cannot_be_bridged_into(rc) -> None:
    rc.config(rate_limits={"enabled": False})
    marcus = _signed_in("102")
    _signed_in("103")
    mine = _answered_call(rc, "102")
    theirs = _answered_call(rc, "103")
    response = _press(marcus, mine, "consult_complete",
                      consult_session_id=theirs.telephony_session_id)
    assert response.status_code == 400
    assert "not found" in response.json()["error"]
    assert rc.call(theirs.session_id)["legs"][0]["telephonyStatus"] == "CallConnected"
    assert rc.call(mine.session_id)["legs"][0]["telephonyStatus"] == "CallConnected"


def test_an_admin_may_hold_an_agents_call(rc) -> None:
    rc.config(rate_limits={"enabled": False})
    _signed_in("102")
    olivia = _signed_in("101")
    call = _answered_call(rc)
    assert _press(olivia, call, "hold").status_code == 200
    assert rc.call(call.session_id)["legs"][0]["telephonyStatus"] == "OnHold"


def test_without_call_control_no_button_is_offered_and_every_endpoint_says_why(
        rc, settings) -> None:
    settings.RC_CLIENT_ID = "crm-cti-no-callcontrol-client"
    settings.RC_CLIENT_SECRET = "crm-cti-no-callcontrol-secret"
    rc.config(rate_limits={"enabled": False})
    marcus = _signed_in("102")
    page = marcus.get("/").content.decode()
    assert 'data-call-control="1"' not in page
    call = _answered_call(rc)
    for action in ACTIONS:
        response = _press(marcus, call, action, **EVERY_FIELD)
        assert response.status_code == 403, action
        assert "CallControl" in response.json()["error"], action
    for response in (marcus.get("/api/callcontrol/devices/"),
                     marcus.get("/api/callcontrol/choices/"),
                     marcus.post("/api/callout/", data={"to": "+14155550100", "device_id": "1"},
                                 content_type="application/json")):
        assert response.status_code == 403
        assert "CallControl" in response.json()["error"]
    assert rc.call(call.session_id)["legs"][0]["telephonyStatus"] == "CallConnected"


def test_an_agent_who_must_sign_in_again_is_told_so(rc) -> None:
    rc.config(rate_limits={"enabled": False})
    marcus = _signed_in("102")
    call = _answered_call(rc)
    Agent.objects.filter(extension_number="102").update(needs_signin=True)
    # (The first answer also ends the Django session: the second is asked to sign in.)
    for response in (_press(marcus, call, "hold"), marcus.get("/api/callcontrol/devices/")):
        assert response.status_code == 401, response.content
        assert "sign in" in response.content.decode().lower()
    assert rc.call(call.session_id)["legs"][0]["telephonyStatus"] == "CallConnected"
