"""Access ends with the sign-out: signing out in one browser ends the user's sessions in
every browser and closes each of their open ``/ws/agent/`` sockets with 4401; so does the
RingCentral session dying ("needs sign-in"), after which no data page answers the agent.

Against a running crm_cti (uvicorn subprocess) signed in for real through the sandbox's
sign-in page, with ``websockets`` as the browsers' sockets."""

from __future__ import annotations

import json

import pytest
import requests
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from crm_cti.accounts.models import Agent, SignInSession
from crm_cti.accounts.services import agent_mark_needs_signin
from tests.accounts.signin_helpers import authorize_in_sandbox
from tests.security.test_ws_agent_and_admin_pages_need_the_right_user import Socket


def browser_signed_in(app_url: str, username: str, *, authorize_prefix: str = "",
                      ) -> requests.Session:
    """A browser's cookie jar after the whole sign-in: our /auth/start/, the sandbox's page,
    our callback."""
    http = requests.Session()
    start = http.get(app_url + "/auth/start/?next=/", allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text[:500]
    assert start.headers["Location"].startswith(authorize_prefix), start.headers["Location"]
    callback = authorize_in_sandbox(start.headers["Location"], username=username)
    done = http.get(callback, allow_redirects=False, timeout=10)
    assert done.status_code == 302 and done.headers["Location"] == "/", done.text[:500]
    return http


def socket_for(app_url: str, http: requests.Session):
    cookie = http.cookies[settings.SESSION_COOKIE_NAME]
    ws = ws_connect(app_url.replace("http://", "ws://") + "/ws/agent/",
                    additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
                                        "Origin": app_url},
                    open_timeout=10)
    assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
    return ws


def close_code(ws) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            ws.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def test_signing_out_in_one_browser_ends_the_others(live_app, rc):
    laptop = browser_signed_in(live_app.url, "102")
    phone = browser_signed_in(live_app.url, "102")
    bystander = browser_signed_in(live_app.url, "103")
    assert SignInSession.objects.filter(user__agent__extension_number="102").count() == 2
    phone_socket = socket_for(live_app.url, phone)
    laptop_socket = socket_for(live_app.url, laptop)
    bystander_socket = socket_for(live_app.url, bystander)
    assert phone.get(live_app.url + "/contacts/", allow_redirects=False).status_code == 200

    # The laptop signs out (a real form post, CSRF token from the page).
    page = laptop.get(live_app.url + "/contacts/", timeout=10)
    token = laptop.cookies[settings.CSRF_COOKIE_NAME]
    out = laptop.post(live_app.url + "/auth/signout/", data={"csrfmiddlewaretoken": token},
                      headers={"Referer": page.url, "Origin": live_app.url},
                      allow_redirects=False, timeout=10)
    assert out.status_code == 302 and out.headers["Location"] == "/auth/signin/"

    assert close_code(phone_socket) == 4401
    assert close_code(laptop_socket) == 4401
    # The phone's session is gone too: its next page asks it to sign in.
    again = phone.get(live_app.url + "/contacts/", allow_redirects=False, timeout=10)
    assert again.status_code == 302 and again.headers["Location"].startswith("/auth/signin/")
    assert not SignInSession.objects.filter(user__agent__extension_number="102").exists()
    # Somebody else's socket and session are untouched.
    bystander_socket.send(json.dumps({"type": "snapshot"}))
    assert json.loads(bystander_socket.recv(timeout=10))["type"] == "snapshot"
    assert bystander.get(live_app.url + "/contacts/", allow_redirects=False).status_code == 200
    bystander_socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_dead_ringcentral_session_closes_the_socket_and_refuses_it_again(agent):
    """In-process ASGI (same channel layer as the marking code in any mode)."""
    from tests.security.test_ws_agent_and_admin_pages_need_the_right_user import _cookie_for

    cookie = await sync_to_async(_cookie_for)(agent.user)
    sock = Socket(cookie=cookie)
    assert (await sock.open())[0]
    assert (await sock.json())["type"] == "snapshot"

    await sync_to_async(agent_mark_needs_signin)(agent=agent)

    closed = await sock.receive_output(5)
    assert closed == {"type": "websocket.close", "code": 4401}
    # Flag still set, session gone: reconnecting is refused the same way.
    assert await sync_to_async(lambda: Agent.objects.get(pk=agent.pk).needs_signin)()
    opened, code = await Socket(cookie=cookie).open()
    assert not opened and code == 4401
    # Even a session made after the flag (no sign-in through RingCentral) gets no socket.
    fresh = await sync_to_async(_cookie_for)(agent.user)
    opened, code = await Socket(cookie=fresh).open()
    assert not opened and code == 4401
