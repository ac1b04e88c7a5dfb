"""The recording proxy streams audio from RingCentral with the server's token; the browser
never sees the token, and only the call's agent (or an admin) may listen."""

import gc

import pytest
import requests

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent
from tests.accounts.signin_helpers import sign_in
from tests.support.people import call_make

pytestmark = pytest.mark.django_db


def _call_with_recording(rc, client):
    assert sign_in(client, username="102").status_code == 302
    agent = Agent.objects.get(extension_number="102")
    injected = requests.post(
        f"{rc.url}/sandbox/calllog", json={"extension": "102", "records": 30, "seed": 7}, timeout=10
    )
    assert injected.status_code == 201, injected.text
    records = client_for_agent(agent).list_call_log(with_recording=True, per_page=5)["records"]
    assert records, "the sandbox injected no call with a recording"
    recording = records[0]["recording"]
    call = call_make(
        agent, session_id=records[0]["sessionId"],
        recording={"id": recording["id"], "content_uri": recording["contentUri"],
                   "type": recording.get("type", "Automatic"), "duration": 45},
    )
    return agent, call


def test_agent_streams_their_recording(client, rc):
    _agent, call = _call_with_recording(rc, client)
    page = client.get(f"/calls/{call.pk}/").content.decode()
    assert f'src="/calls/{call.pk}/recording/"' in page
    response = client.get(f"/calls/{call.pk}/recording/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/")
    body = b"".join(response.streaming_content)
    assert len(body) > 1000
    assert b"access_token" not in body and "Authorization" not in response


def test_another_agent_gets_404(client, rc, django_user_model):
    _agent, call = _call_with_recording(rc, client)
    client.logout()
    assert sign_in(client, username="103").status_code == 302
    assert client.get(f"/calls/{call.pk}/recording/").status_code == 404


def test_admin_may_listen(client, rc):
    _agent, call = _call_with_recording(rc, client)
    client.logout()
    assert sign_in(client, username="101").status_code == 302
    assert Agent.objects.get(extension_number="101").is_admin
    response = client.get(f"/calls/{call.pk}/recording/")
    assert response.status_code == 200 and response["Content-Type"].startswith("audio/")


def test_the_player_can_seek_with_a_range(client, rc):
    _agent, call = _call_with_recording(rc, client)
    whole = client.get(f"/calls/{call.pk}/recording/")
    assert whole["Accept-Ranges"] == "bytes"
    audio = b"".join(whole.streaming_content)
    part = client.get(f"/calls/{call.pk}/recording/", HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 1000-1999/{len(audio)}"
    assert part["Content-Length"] == "1000"
    assert b"".join(part.streaming_content) == audio[1000:2000]
    tail = client.get(f"/calls/{call.pk}/recording/", HTTP_RANGE="bytes=-144")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == audio[-144:]
    beyond = client.get(f"/calls/{call.pk}/recording/", HTTP_RANGE=f"bytes={len(audio)}-")
    assert beyond.status_code == 416


def test_streams_per_user_are_capped(client, rc, settings):
    settings.RECORDING_MAX_STREAMS_PER_USER = 2
    _agent, call = _call_with_recording(rc, client)
    url = f"/calls/{call.pk}/recording/"
    first, second = client.get(url), client.get(url)  # both still streaming (not read yet)
    assert (first.status_code, second.status_code) == (200, 200)
    third = client.get(url)
    assert third.status_code == 429
    assert "already playing 2 recordings" in third.content.decode()
    # A finished stream gives its slot back, and so does one the player dropped half-read.
    b"".join(first.streaming_content)
    for _chunk in second.streaming_content:
        break
    del second, _chunk  # the server drops the response: it is closed
    gc.collect()
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
