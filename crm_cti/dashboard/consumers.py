"""``/ws/agent/``: live call updates for one agent's browser.

On connect the consumer sends ``{"type": "snapshot", "calls": [...]}`` with the agent's live
calls, then ``{"type": "call", "call": {...}}`` for every change and ``{"type": "ringout",
"ringout": {...}}`` for RingOut status. Whom a socket may watch (``?agent=<id>`` or
``?agent=all`` for an admin) is ``crm_cti.accounts.access.watch_target``, the rule the API
and the pages use: refused for want of a session it closes with 4401, refused otherwise
(another agent's id, an unknown one) with 4403.

The browser answers each call frame it rendered with ``{"type": "receipt", ...}``
(crm_cti/telephony/receipts.py): the operations page's event → render figures. A bad
receipt is answered ``{"type": "error", "error": ...}``; the socket stays open.

Every socket also joins its user's group (``crm_cti.accounts.sessions.user_group_name``):
sign-out, a dead RingCentral session or a deactivation sends ``session.end`` there, and the
socket closes with 4401 in whichever web process holds it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from crm_cti.accounts.access import SIGN_IN, Watch, WatchRefused, watch_target
from crm_cti.accounts.sessions import user_group_name
from crm_cti.telephony import receipts
from crm_cti.telephony.push import (
    ACCOUNT_GROUP,
    account_watch_end,
    account_watch_start,
    agent_group_name,
)

CLOSE_UNAUTHENTICATED = 4401
# The channel-layer messages that carry pushes (push.py): handled without a database.
PUSH_TYPES = frozenset({"push.message", "push.messages"})
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
        if watch.agent_id is None:
            # Registered before the snapshot is read: see push.account_watched.
            await sync_to_async(account_watch_start, thread_sensitive=False)(self.channel_name)
        else:
            await sync_to_async(receipts.socket_opened, thread_sensitive=False)(
                agent_id=watch.agent_id, channel=self.channel_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", "calls": await _snapshot(self.agent_id)})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            if self.agent_id is None:
                await sync_to_async(account_watch_end, thread_sensitive=False)(
                    self.channel_name)
            else:
                await sync_to_async(receipts.socket_closed, thread_sensitive=False)(
                    agent_id=self.agent_id, channel=self.channel_name)
        if self.user_group:
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def session_end(self, event: dict[str, Any]) -> None:
        """The user signed out (anywhere), must sign in again, or was deactivated."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        # A client may ask for a fresh snapshot (e.g. after its tab woke up).
        if kind == "snapshot":
            await self.send_json({"type": "snapshot", "calls": await _snapshot(self.agent_id)})
        elif kind == "receipt":
            await self._receipt(content)

    async def _receipt(self, content: dict[str, Any]) -> None:
        try:
            call_id, state, latency_ms = receipts.receipt_parse(content)
        except receipts.InvalidReceipt as exc:
            await self.send_json({"type": "error", "error": f"receipt: {exc}"})
            return
        if self.agent_id is None:
            return  # an admin watching everyone: the agent's own socket answers for it
        await sync_to_async(receipts.receipt_record, thread_sensitive=False)(
            call_id=call_id, state=state, latency_ms=latency_ms)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections (a hop to a worker thread and back)
        # before every handler it dispatches. The pushes, one per pop and socket, touch no
        # database: they skip that hop. Every other message goes the usual way.
        if message.get("type") in PUSH_TYPES:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def push_message(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])

    async def push_messages(self, event: dict[str, Any]) -> None:
        """A batch's messages for this group, in order (push._send_many)."""
        for message in event["messages"]:
            await self.send_json(message)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return orjson.loads(text_data)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        # Every pop is encoded here, once per socket: orjson is several times json's speed.
        return orjson.dumps(content).decode()
