"""``/ws/agent/`` needs a session and delivers an agent only their own pops; admin pages
(operations, Django admin, watching every agent) need an admin.

The websocket goes through the real ASGI application (origin check, session cookie, auth
middleware) in-process, and pushes through the real channel layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from crm_cti.telephony.push import push_call
from tests.support.people import call_make
from tests.support.websocket import Socket
from tests.support.websocket import session_cookie_for as _cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_without_a_session_the_socket_is_refused():
    opened, code = await Socket().open()
    assert not opened and code == 4401


async def test_a_foreign_origin_is_refused(agent):
    cookie = await sync_to_async(_cookie_for)(agent.user)
    sock = Socket(cookie=cookie)
    sock.scope["headers"] = [(b"host", b"127.0.0.1:8000"), (b"origin", b"https://evil.example"),
                             (b"cookie", cookie)]
    opened, _code = await sock.open()
    assert not opened


async def test_an_agent_receives_only_their_own_pops(agent, other_agent):
    mine = await sync_to_async(_cookie_for)(agent.user)
    theirs = await sync_to_async(_cookie_for)(other_agent.user)
    me, them = Socket(cookie=mine), Socket(cookie=theirs)
    assert (await me.open())[0] and (await them.open())[0]
    assert (await me.json())["type"] == "snapshot"
    assert (await them.json())["type"] == "snapshot"

    call = await sync_to_async(call_make)(agent, state="ringing", ended_at=None, duration=None)
    await sync_to_async(push_call)(call)

    message = await me.json()
    assert message["type"] == "call" and message["call"]["id"] == call.pk
    assert await them.receive_nothing(timeout=0.5)
    await me.close()
    await them.close()


async def test_an_agent_asking_for_another_agent_is_refused(agent, other_agent):
    # Not an admin: refused as for an id that does not exist, never silently given their own.
    theirs = await sync_to_async(_cookie_for)(other_agent.user)
    assert await Socket(cookie=theirs, query=f"agent={agent.pk}").open() == (False, 4403)


async def test_watching_everyone_needs_an_admin(agent, admin_agent, other_agent):
    agent_cookie = await sync_to_async(_cookie_for)(agent.user)
    admin_cookie = await sync_to_async(_cookie_for)(admin_agent.user)
    nosy, admin = Socket(cookie=agent_cookie, query="agent=all"), \
        Socket(cookie=admin_cookie, query="agent=all")
    assert await nosy.open() == (False, 4403)
    assert (await admin.open())[0]
    await admin.json()
    call = await sync_to_async(call_make)(other_agent, state="ringing", ended_at=None,
                                          duration=None)
    await sync_to_async(push_call)(call)
    assert (await admin.json())["call"]["id"] == call.pk
    await admin.close()


@pytest.mark.parametrize("path", ["/ops/", "/admin/", "/admin/telephony/subscription/"])
def test_admin_pages_need_an_admin(client, agent, admin_agent, path, django_user_model):
    assert client.get(path).status_code in (302, 403)  # anonymous: to the sign-in page
    client.force_login(agent.user)
    response = client.get(path)
    assert response.status_code in (302, 403, 404), (path, response.status_code)
    if response.status_code == 302:
        assert "login" in response["Location"] or "signin" in response["Location"]
    client.force_login(admin_agent.user)
    if path.startswith("/admin/"):
        # Django's own admin site needs a staff user.
        admin_agent.user.is_staff = True
        admin_agent.user.is_superuser = True
        admin_agent.user.save()
    assert client.get(path).status_code == 200


def test_live_calls_of_everyone_need_an_admin(client, agent, admin_agent, other_agent):
    theirs = call_make(other_agent, state="ringing", ended_at=None, duration=None)
    client.force_login(agent.user)
    refused = client.get("/api/calls/live/", {"agent": "all"})
    assert refused.status_code == 403 and str(theirs.pk) not in refused.content.decode()
    client.force_login(admin_agent.user)
    ids = [c["id"] for c in client.get("/api/calls/live/", {"agent": "all"}).json()["calls"]]
    assert theirs.pk in ids
