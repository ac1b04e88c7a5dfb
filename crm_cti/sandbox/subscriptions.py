"""Subscription filters, matching presence, telephony-session and message events to
subscriptions, and delivery faults."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from crm_cti.sandbox import delivery
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import Call, Leg, SandboxState, Subscription, now

_EXT_PRESENCE = re.compile(r"^/restapi/v1\.0/account/([^/]+)/extension/([^/?]+)/presence$")
_ACCOUNT_PRESENCE = re.compile(r"^/restapi/v1\.0/account/([^/]+)/presence$")
_EXT_SESSIONS = re.compile(
    r"^/restapi/v1\.0/account/([^/]+)/extension/([^/?]+)/telephony/sessions$")
_ACCOUNT_SESSIONS = re.compile(r"^/restapi/v1\.0/account/([^/]+)/telephony/sessions$")
# Query options of the telephony-session filters (the event-filters guide).
SESSION_OPTIONS = ("direction", "missedCall", "statusCode")
# The message event (``.../message-store``: changes, options ``type`` and ``direction``) and
# the instant message event (``.../message-store/instant?type=SMS``: the inbound SMS itself).
_EXT_MESSAGES = re.compile(
    r"^/restapi/v1\.0/account/([^/]+)/extension/([^/?]+)/message-store(/instant)?$")
MESSAGE_TYPES = ("SMS", "Pager", "VoiceMail", "Fax")


class FilterError(ValueError):
    def __init__(self, event_filter: str, reason: str, *, permission: str | None = None):
        super().__init__(reason)
        self.filter = event_filter
        self.permission = permission


def _session_filter(state: SandboxState, owner: Extension, raw: str, path: str,
                    query: str, scope: str | None) -> str | None:
    """The canonical telephony-session filter, or None when ``path`` is not one."""
    ext_match, account_match = _EXT_SESSIONS.match(path), _ACCOUNT_SESSIONS.match(path)
    if not ext_match and not account_match:
        return None
    if scope is not None and "CallControl" not in scope.split():
        raise FilterError(raw, "Telephony sessions need CallControl", permission="CallControl")
    account = (ext_match or account_match).group(1)  # type: ignore[union-attr]
    if account not in ("~", state.account_id):
        raise FilterError(raw, "Event filter refers to another account")
    for name, values in parse_qs(query).items():
        if name not in SESSION_OPTIONS:
            raise FilterError(raw, f"Unknown filter option {name}")
        if name == "direction" and values[0] not in ("Inbound", "Outbound"):
            raise FilterError(raw, "direction is Inbound or Outbound")
        if name == "missedCall" and values[0] not in ("true", "false"):
            raise FilterError(raw, "missedCall is true or false")
    if account_match:
        if not owner.is_admin:
            raise FilterError(raw, "Account telephony sessions need an admin",
                              permission="ReadCompanyPresence")
        return f"/restapi/v1.0/account/{state.account_id}/telephony/sessions"
    ext_id = _extension_resolve(state, owner, raw, ext_match.group(2))  # type: ignore[union-attr]
    return f"/restapi/v1.0/account/{state.account_id}/extension/{ext_id}/telephony/sessions"


def _message_filter(state: SandboxState, owner: Extension, raw: str, path: str,
                    query: str, scope: str | None) -> str | None:
    """The canonical message-store filter, or None when ``path`` is not one. Like the
    platform: it needs ReadMessages, and another user's store needs an admin."""
    match = _EXT_MESSAGES.match(path)
    if not match:
        return None
    if scope is not None and "ReadMessages" not in scope.split():
        raise FilterError(raw, "Message events need ReadMessages", permission="ReadMessages")
    account, ext_raw, instant = match.groups()
    if account not in ("~", state.account_id):
        raise FilterError(raw, "Event filter refers to another account")
    options = parse_qs(query)
    for name, values in options.items():
        if name not in ("type", "direction") or (instant and name != "type"):
            raise FilterError(raw, f"Unknown filter option {name}")
        if name == "type" and values[0] not in MESSAGE_TYPES:
            raise FilterError(raw, f"type is one of {', '.join(MESSAGE_TYPES)}")
        if name == "direction" and values[0] not in ("Inbound", "Outbound"):
            raise FilterError(raw, "direction is Inbound or Outbound")
    if instant and options.get("type", [""])[0] != "SMS":
        raise FilterError(raw, "The instant message event needs type=SMS")
    ext_id = _extension_resolve(state, owner, raw, ext_raw)
    if ext_id != owner.id and not owner.is_admin:
        raise FilterError(raw, "Another user's messages", permission="ReadMessages")
    return (f"/restapi/v1.0/account/{state.account_id}/extension/{ext_id}/message-store"
            + (instant or ""))


def _extension_resolve(state: SandboxState, owner: Extension, raw: str, ext_id: str) -> str:
    if ext_id == "~":
        return owner.id
    if ext_id in state.extensions:
        return ext_id
    ext = state.extension_by_number(ext_id)
    if ext is None:
        raise FilterError(raw, "Event filter refers to an unknown extension")
    return ext.id


def filter_normalize(state: SandboxState, owner: Extension, raw: str,
                     scope: str | None = None) -> str:
    """The platform's canonical form: ``/restapi/v1.0`` prefix, ``~`` replaced by ids.
    ``scope``: the token's permissions (telephony sessions need CallControl)."""
    text = raw.strip()
    if not text.startswith("/restapi/"):
        text = "/restapi/v1.0" + (text if text.startswith("/") else "/" + text)
    path, _, query = text.partition("?")
    canonical = (_session_filter(state, owner, raw, path, query, scope)
                 or _message_filter(state, owner, raw, path, query, scope))
    if canonical is not None:
        return canonical + ("?" + query if query else "")
    match = _EXT_PRESENCE.match(path)
    if match:
        account, ext_id = match.groups()
        if account not in ("~", state.account_id):
            raise FilterError(raw, "Event filter refers to another account")
        ext_id = _extension_resolve(state, owner, raw, ext_id)
        path = f"/restapi/v1.0/account/{state.account_id}/extension/{ext_id}/presence"
    elif _ACCOUNT_PRESENCE.match(path):
        account = _ACCOUNT_PRESENCE.match(path).group(1)  # type: ignore[union-attr]
        if account not in ("~", state.account_id):
            raise FilterError(raw, "Event filter refers to another account")
        if not owner.is_admin:
            raise FilterError(raw, "Account presence needs an admin",
                              permission="ReadCompanyPresence")
        path = f"/restapi/v1.0/account/{state.account_id}/presence"
    else:
        raise FilterError(raw, "The sandbox delivers presence, telephony-session and message "
                               "events: use /restapi/v1.0/account/~/extension/~/presence"
                               "?detailedTelephonyState=true, "
                               "/restapi/v1.0/account/~/extension/~/telephony/sessions (or "
                               "their account-level forms), "
                               "/restapi/v1.0/account/~/extension/~/message-store or "
                               "/restapi/v1.0/account/~/extension/~/message-store/instant"
                               "?type=SMS")
    return path + ("?" + query if query else "")


def _detailed(event_filter: str) -> bool:
    query = event_filter.partition("?")[2]
    values = parse_qs(query).get("detailedTelephonyState", [])
    return bool(values) and values[0].lower() == "true"


def _covering(state: SandboxState, ext: Extension, resource: str,
              ) -> list[tuple[Subscription, str, str]]:
    """(subscription, extension-level path, filter query) for each live subscription whose
    filter for ``resource`` (``presence``, ``telephony/sessions``) covers ``ext``: its own
    extension's filter or the account's."""
    account = f"/restapi/v1.0/account/{state.account_id}"
    ext_path = f"{account}/extension/{ext.id}/{resource}"
    at = now()
    found = []
    for sub in state.subscriptions.values():
        if sub.status != "Active" or sub.expired(at):
            continue
        for event_filter in sub.event_filters:
            path, _, query = event_filter.partition("?")
            if path in (ext_path, f"{account}/{resource}"):
                found.append((sub, path, query))
                break
    return found


def presence_targets(state: SandboxState, ext: Extension) -> list[tuple[Subscription, str, bool]]:
    """(subscription, event path, detailed) for each live subscription covering ``ext``."""
    ext_path = f"/restapi/v1.0/account/{state.account_id}/extension/{ext.id}/presence"
    return [(sub, ext_path + ("?" + query if query else ""), _detailed("?" + query))
            for sub, _path, query in _covering(state, ext, "presence")]


def _strip_details(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "activeCalls"}


def presence_dispatch(state: SandboxState, ext: Extension, body: dict[str, Any],
                      call: Call | None) -> None:
    """Queue one presence event for every matching subscription, applying call faults."""
    deliveries = [(sub, delivery.envelope_build(sub, event,
                                                body if detailed else _strip_details(body)))
                  for sub, event, detailed in presence_targets(state, ext)]
    _faulted_enqueue(state, call, ext, "presence", deliveries)


def _faulted_enqueue(state: SandboxState, call: Call | None, ext: Extension, kind: str,
                     deliveries: list[tuple[Subscription, dict[str, Any]]]) -> None:
    """Queue ``deliveries`` (one event of ``ext``'s) with the call's faults applied. Each
    kind of event (presence, telephony-sessions) is numbered on its own per extension; a
    fault with ``"event"`` applies to that kind only."""
    index = -1
    key = ext.id if kind == "presence" else f"{kind}:{ext.id}"
    if call is not None:
        index = call.event_counts[key]
        call.event_counts[key] += 1
    faults = [f for f in (call.faults if call is not None else [])
              if f.get("event", kind) == kind and _applies(f, ext)]
    slow = next((f for f in faults if f["type"] == "slow"), None)
    delay = float(slow.get("delay", 2.0)) if slow else 0.0

    def fault_at(kind: str, default_index: int) -> dict[str, Any] | None:
        for fault in faults:
            if fault["type"] == kind and int(fault.get("index", default_index)) == index:
                return fault
        return None

    if fault_at("drop", 1):
        return
    duplicate = fault_at("duplicate", 0) is not None
    hold = fault_at("out_of_order", 0) is not None
    for sub, envelope in deliveries:
        if hold and call is not None:
            call.held_events.setdefault(key, []).append((sub, envelope, delay))
            continue
        delivery.enqueue(state, sub, envelope, delay=delay, fault="slow" if slow else None)
        if duplicate:
            delivery.enqueue(state, sub, envelope, delay=delay, fault="duplicate")
    if call is not None and not hold:
        for sub, envelope, held_delay in call.held_events.pop(key, []):
            delivery.enqueue(state, sub, envelope, delay=held_delay, fault="out_of_order")


# -- telephony sessions ----------------------------------------------------------------------
def session_targets(state: SandboxState, ext: Extension) -> list[tuple[Subscription, str, str]]:
    """(subscription, event path, filter query) for each live subscription to telephony
    sessions covering ``ext`` (the event is named by the subscription's own filter)."""
    return [(sub, path + ("?" + query if query else ""), query)
            for sub, path, query in _covering(state, ext, "telephony/sessions")]


def _party_passes(party: dict[str, Any], query: str) -> bool:
    options = parse_qs(query)
    if "direction" in options and party.get("direction") != options["direction"][0]:
        return False
    if "missedCall" in options and bool(party.get("missedCall")) != (
            options["missedCall"][0] == "true"):
        return False
    if "statusCode" in options:
        codes = {code for value in options["statusCode"] for code in value.split(",")}
        if party.get("status", {}).get("code") not in codes:
            return False
    return True


def session_dispatch(state: SandboxState, call: Call, leg: Leg, body: dict[str, Any]) -> None:
    """Queue one telephony-session event (about ``leg``'s party) for every subscription
    whose filter and options it passes, with the call's faults applied."""
    ext = leg.extension
    deliveries = []
    for sub, event, query in session_targets(state, ext):
        if all(_party_passes(party, query) for party in body["parties"]):
            deliveries.append((sub, delivery.envelope_build(sub, event, body)))
    _faulted_enqueue(state, call, ext, "telephony-sessions", deliveries)


# -- messages ------------------------------------------------------------------------------
def message_targets(state: SandboxState, ext: Extension, *, instant: bool,
                    ) -> list[tuple[Subscription, str, str]]:
    """(subscription, event path, filter query) for each live subscription to ``ext``'s
    message events (``instant``: the instant SMS event)."""
    # Unlike presence, every matching filter of a subscription counts: two filters with
    # different options (``?type=SMS``, ``?direction=Outbound``) are two events.
    path = (f"/restapi/v1.0/account/{state.account_id}/extension/{ext.id}/message-store"
            + ("/instant" if instant else ""))
    at = now()
    return [(sub, event_filter, event_filter.partition("?")[2])
            for sub in state.subscriptions.values()
            if sub.status == "Active" and not sub.expired(at)
            for event_filter in sub.event_filters if event_filter.partition("?")[0] == path]


def release_held(state: SandboxState, call: Call) -> None:
    for held in call.held_events.values():
        for sub, envelope, delay in held:
            delivery.enqueue(state, sub, envelope, delay=delay, fault="out_of_order")
    call.held_events.clear()


def _applies(fault: dict[str, Any], ext: Extension) -> bool:
    target = fault.get("extension")
    return not target or str(target) in (ext.number, ext.id)


def raw_dispatch(state: SandboxState, ext: Extension, body: Any,
                 event: str = "presence") -> int:
    """``POST /sandbox/notify``: deliver ``body`` exactly as given to ``ext``'s subscriptions
    to ``event`` (presence, telephony-sessions, message-store or instant); return the queue
    count."""
    if event == "presence":
        paths = [(sub, path) for sub, path, _detailed in presence_targets(state, ext)]
    elif event in ("message-store", "instant"):
        paths = [(sub, path) for sub, path, _query
                 in message_targets(state, ext, instant=event == "instant")]
    else:
        paths = [(sub, path) for sub, path, _query in session_targets(state, ext)]
    for sub, path in paths:
        delivery.enqueue(state, sub, delivery.envelope_build(sub, path, body))
    return len(paths)
