"""RingCentral refusing (503 "not answering", 429 "slow down") reads the same at every door
that asks it something for a person: the JSON API (RingOut), the SMS and pager forms, the
recording proxy and the sign-in page. The words come from one place,
``crm_cti.accounts.refusals``; the sandbox injects the refusals for real."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from crm_cti.accounts.models import Agent
from tests.accounts.signin_helpers import authorize_in_sandbox, callback_path, sign_in, start_signin
from tests.dashboard.test_recording_proxy_streams_audio import _call_with_recording

pytestmark = pytest.mark.django_db

# What a person reads for each refusal, whichever door they came through.
MESSAGES = {
    503: re.compile(r"^RingCentral is not answering; try again\.$"),
    429: re.compile(r"^RingCentral asks us to slow down; try again in \d+ s\.$"),
}


def _fault(rc, *, method: str, path_contains: str, status: int) -> None:
    rc.config(faults=[{"method": method, "path_contains": path_contains, "status": status}])


def _signed_in(client: Client) -> Agent:
    assert sign_in(client, username="102").status_code == 302
    return Agent.objects.get(extension_number="102")


def _ringout(rc, client: Client, status: int) -> str:
    _signed_in(client)
    _fault(rc, method="POST", path_contains="/ring-out", status=status)
    response = client.post("/api/ringout/", {"to": "+14155550100", "from": "+16505550102"})
    assert response.status_code == (429 if status == 429 else 502)
    return response.json()["error"]


def _sms(rc, client: Client, status: int) -> str:
    agent = _signed_in(client)
    _fault(rc, method="POST", path_contains="/sms", status=status)
    response = client.post("/calls/sms/", {"from_number": agent.sms_numbers[0],
                                           "to": "+14155550100", "text": "hello"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["ok"] is False
    return response.json()["errors"]["__all__"][0]["message"]


def _pager(rc, client: Client, status: int) -> str:
    _signed_in(client)
    _fault(rc, method="POST", path_contains="/company-pager", status=status)
    response = client.post("/calls/pager/", {"to": "103", "text": "line 2?"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["ok"] is False
    return response.json()["errors"]["__all__"][0]["message"]


def _recording(rc, client: Client, status: int) -> str:
    _agent, call = _call_with_recording(rc, client)
    _fault(rc, method="GET", path_contains="/content", status=status)
    response = client.get(f"/calls/{call.pk}/recording/")
    assert response.status_code == (429 if status == 429 else 502)
    assert response["Content-Type"].startswith("text/plain")
    if status == 429:
        assert int(response["Retry-After"]) > 0
    return response.content.decode()


def _signin_page(rc, client: Client, status: int) -> str:
    callback = authorize_in_sandbox(start_signin(client), username="102")
    # The code exchange succeeds; reading the extension after it is refused.
    _fault(rc, method="GET", path_contains="/extension/~", status=status)
    response = client.get(callback_path(callback))
    assert response.status_code == (429 if status == 429 else 502)
    assert b"Try again" in response.content
    assert not Agent.objects.exists()
    text = response.content.decode()
    found = re.search(r"(RingCentral (?:is not answering|asks us to slow down)[^<]*?\.) "
                      r"Nothing was saved\.", text)
    assert found, text[:2000]
    return found.group(1)


DOORS: dict[str, Callable[..., str]] = {
    "api ringout": _ringout, "sms form": _sms, "pager form": _pager,
    "recording proxy": _recording, "sign-in page": _signin_page,
}


@pytest.mark.parametrize("status", sorted(MESSAGES))
@pytest.mark.parametrize("door", sorted(DOORS))
def test_the_refusal_reads_the_one_message(rc, client, door, status):
    message = DOORS[door](rc, client, status)
    assert MESSAGES[status].match(message), (door, message)
