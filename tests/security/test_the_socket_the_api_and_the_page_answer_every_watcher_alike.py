"""The websocket, the live-calls API and the dashboard page ask one rule whom a user may
watch (``crm_cti.accounts.access.watch_target``): for every kind of watcher and ``?agent=``
they give the same answer, the same calls or the same refusal (4401 = 401 = the sign-in
page; 4403 = 403 = 403). An id that does not exist is refused exactly like one the watcher
may not see, so no answer tells which agents exist. One difference is on purpose: the page
is more than the live list, so a signed-in user without an agent who asks for nothing gets
it, empty, with a link to sign in with RingCentral."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from crm_cti.accounts.models import Agent
from tests.support.people import call_make
from tests.support.websocket import Socket, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

API_STATUS = {None: 200, 4401: 401, 4403: 403}  # socket close code (None: open) -> API
PAGE_STATUS = {None: 200, 4401: 302, 4403: 403}  # -> dashboard page

# (watcher, ?agent=, the socket's answer, whose live calls an open socket shows)
CASES = {
    "own, nothing asked": ("agent", "", None, {"agent"}),
    "own, by id": ("agent", "{agent}", None, {"agent"}),
    "admin, everyone": ("admin", "all", None, {"agent", "other", "admin"}),
    "admin, another agent": ("admin", "{other}", None, {"other"}),
    "admin, unknown id": ("admin", "{unknown}", 4403, None),
    "admin, not an id": ("admin", "ext103", 4403, None),
    "other agent, by id": ("agent", "{other}", 4403, None),
    "other agent, everyone": ("agent", "all", 4403, None),
    "agent, unknown id": ("agent", "{unknown}", 4403, None),
    "staff user without an agent, nothing asked": ("staff", "", 4403, None),
    "needs sign-in, own": ("needs_signin", "", 4401, None),
    "needs sign-in admin, everyone": ("needs_signin_admin", "all", 4401, None),
    "anonymous": (None, "", 4401, None),
}


def _world(agent, other_agent, admin_agent, django_user_model):
    staff = django_user_model.objects.create_user(username="staff", is_staff=True)
    users = {"agent": agent.user, "admin": admin_agent.user, "staff": staff,
             "needs_signin": agent.user, "needs_signin_admin": admin_agent.user}
    calls = {name: call_make(who, state="connected", ended_at=None, duration=None).pk
             for name, who in (("agent", agent), ("other", other_agent), ("admin", admin_agent))}
    ids = {"agent": agent.pk, "other": other_agent.pk,
           "unknown": Agent.objects.order_by("-pk").first().pk + 1000}
    return users, calls, ids


def _answers(user, requested: str, *, flag_needs_signin: Agent | None):
    """What the API and the page answer ``user`` (their own sessions; the socket has its)."""
    api, page = Client(), Client()
    cookie = b""
    if user is not None:
        api.force_login(user)
        page.force_login(user)
        cookie = session_cookie_for(user)
    if flag_needs_signin is not None:
        # Set as by hand, sessions left alive: each door must refuse on the flag itself.
        Agent.objects.filter(pk=flag_needs_signin.pk).update(needs_signin=True)
    query = {"agent": requested} if requested else {}
    return cookie, api.get("/api/calls/live/", query), page.get("/", query)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_door_gives_the_same_answer(case, agent, other_agent, admin_agent,
                                                django_user_model, settings):
    settings.SECURE_SSL_REDIRECT = False
    watcher, requested, expected_close, whose = CASES[case]
    users, calls, ids = await sync_to_async(_world)(agent, other_agent, admin_agent,
                                                    django_user_model)
    requested = requested.format(**ids)
    flagged = {"needs_signin": agent, "needs_signin_admin": admin_agent}.get(watcher or "")
    cookie, api, page = await sync_to_async(_answers)(
        users.get(watcher or ""), requested, flag_needs_signin=flagged
    )

    socket = Socket(cookie=cookie, query=f"agent={requested}" if requested else "")
    opened, code = await socket.open()
    assert (None if opened else code) == expected_close, case
    assert api.status_code == API_STATUS[expected_close], (case, api.content)
    if watcher == "staff" and not requested:
        assert page.status_code == 200
        assert "not linked to a RingCentral extension" in page.content.decode()
        assert '<span class="badge" id="live-count">0</span>' in page.content.decode()
    else:
        assert page.status_code == PAGE_STATUS[expected_close], case
    if expected_close == 4401:
        assert page["Location"].startswith("/auth/signin/")
    if not opened:
        assert "calls" not in api.json()
        return
    snapshot = await socket.json()
    await socket.close()
    assert snapshot["type"] == "snapshot"
    expected = {calls[name] for name in whose}
    assert {c["id"] for c in snapshot["calls"]} == expected
    assert {c["id"] for c in api.json()["calls"]} == expected
