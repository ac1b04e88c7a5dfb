"""``/ws/agent/``: live call updates for one agent's browser.

On connect the consumer sends ``{"type": "snapshot", "calls": [...]}`` with the agent's live
calls, then ``{"type": "call", "call": {...}}`` for every change and ``{"type": "ringout",
"ringout": {...}}`` for RingOut status. Whom a socket may watch (``?agent=<id>`` or
``?agent=all`` for an admin) is ``crm_cti.accounts.access.watch_target``, the rule the API
and the pages use: refused for want of a session it closes with 4401, refused otherwise
(another agent's id, an unknown one) with 4403.

Every socket also joins its user's group (``crm_cti.accounts.sessions.user_group_name``):
sign-out, a dead RingCentral session or a deactivation sends ``session.end`` there, and the
socket closes with 4401 in whichever web process holds it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from crm_cti.accounts.access import SIGN_IN, Watch, WatchRefused, watch_target
from crm_cti.accounts.sessions import user_group_name
from crm_cti.telephony.push import ACCOUNT_GROUP, agent_group_name

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _watch(user: Any, requested: str) -> Watch | int:
    """What ``user`` may watch, or the close code that refuses them."""
    try:
        return watch_target(user=user, requested=requested)
    except WatchRefused as refused:
        return CLOSE_UNAUTHENTICATED if refused.reason == SIGN_IN else CLOSE_FORBIDDEN


@database_sync_to_async
def _session_alive(session: Any) -> bool:
    key = getattr(session, "session_key", None)
    if settings.SESSION_ENGINE.endswith("signed_cookies"):
        # Nothing server-side to look up (nor to end): the cookie is the session.
        return bool(key)
    return bool(key) and session.exists(key)


@database_sync_to_async
def _snapshot(agent_id: int | None) -> list[dict[str, Any]]:
    from crm_cti.telephony.selectors import calls_live
    from crm_cti.telephony.serializers import call_to_dict

    return [call_to_dict(call) for call in calls_live(agent_id=agent_id)]


class AgentConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    user_group: str | None = None
    agent_id: int | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        watch = await _watch(user, (query.get("agent") or [""])[0])
        if not isinstance(watch, Watch):
            await self.close(code=watch)
            return
        self.agent_id = watch.agent_id
        self.group = ACCOUNT_GROUP if watch.agent_id is None else agent_group_name(watch.agent_id)
        # The user's group first: a sign-out from now on reaches this socket. One that ended
        # the session between the check above and the join sent its message too early:
        # the session is gone already, so look again.
        self.user_group = user_group_name(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        if not await _session_alive(self.scope.get("session")):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Join first, then snapshot: a change between the two arrives after the snapshot
        # (and carries the full call object), so nothing is lost.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", "calls": await _snapshot(self.agent_id)})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.user_group:
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def session_end(self, event: dict[str, Any]) -> None:
        """The user signed out (anywhere), must sign in again, or was deactivated."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # A client may ask for a fresh snapshot (e.g. after its tab woke up).
        if isinstance(content, dict) and content.get("type") == "snapshot":
            await self.send_json({"type": "snapshot", "calls": await _snapshot(self.agent_id)})

    async def push_message(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])
