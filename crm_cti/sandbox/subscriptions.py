"""Subscription filters, matching presence events to subscriptions, and delivery faults."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from crm_cti.sandbox import delivery
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import Call, SandboxState, Subscription, now

_EXT_PRESENCE = re.compile(r"^/restapi/v1\.0/account/([^/]+)/extension/([^/?]+)/presence$")
_ACCOUNT_PRESENCE = re.compile(r"^/restapi/v1\.0/account/([^/]+)/presence$")


class FilterError(ValueError):
    def __init__(self, event_filter: str, reason: str, *, permission: str | None = None):
        super().__init__(reason)
        self.filter = event_filter
        self.permission = permission


def filter_normalize(state: SandboxState, owner: Extension, raw: str) -> str:
    """The platform's canonical form: ``/restapi/v1.0`` prefix, ``~`` replaced by ids."""
    text = raw.strip()
    if not text.startswith("/restapi/"):
        text = "/restapi/v1.0" + (text if text.startswith("/") else "/" + text)
    path, _, query = text.partition("?")
    match = _EXT_PRESENCE.match(path)
    if match:
        account, ext_id = match.groups()
        if account not in ("~", state.account_id):
            raise FilterError(raw, "Event filter refers to another account")
        if ext_id == "~":
            ext_id = owner.id
        elif ext_id not in state.extensions:
            ext = state.extension_by_number(ext_id)
            if ext is None:
                raise FilterError(raw, "Event filter refers to an unknown extension")
            ext_id = ext.id
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
        raise FilterError(raw, "The sandbox delivers presence events only: use "
                               "/restapi/v1.0/account/~/extension/~/presence"
                               "?detailedTelephonyState=true or the account-level form")
    return path + ("?" + query if query else "")


def _detailed(event_filter: str) -> bool:
    query = event_filter.partition("?")[2]
    values = parse_qs(query).get("detailedTelephonyState", [])
    return bool(values) and values[0].lower() == "true"


def presence_targets(state: SandboxState, ext: Extension) -> list[tuple[Subscription, str, bool]]:
    """(subscription, event path, detailed) for each live subscription covering ``ext``."""
    ext_path = f"/restapi/v1.0/account/{state.account_id}/extension/{ext.id}/presence"
    account_path = f"/restapi/v1.0/account/{state.account_id}/presence"
    at = now()
    targets = []
    for sub in state.subscriptions.values():
        if sub.status != "Active" or sub.expired(at):
            continue
        for event_filter in sub.event_filters:
            path, _, query = event_filter.partition("?")
            if path in (ext_path, account_path):
                event = ext_path + ("?" + query if query else "")
                targets.append((sub, event, _detailed(event_filter)))
                break
    return targets


def _strip_details(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "activeCalls"}


def presence_dispatch(state: SandboxState, ext: Extension, body: dict[str, Any],
                      call: Call | None) -> None:
    """Queue one presence event for every matching subscription, applying call faults."""
    targets = presence_targets(state, ext)
    index = -1
    if call is not None:
        index = call.event_counts[ext.id]
        call.event_counts[ext.id] += 1
    faults = call.faults if call is not None else []
    slow = next((f for f in faults if f["type"] == "slow" and _applies(f, ext)), None)
    delay = float(slow.get("delay", 2.0)) if slow else 0.0

    def fault_at(kind: str, default_index: int) -> dict[str, Any] | None:
        for fault in faults:
            if fault["type"] == kind and _applies(fault, ext) and int(
                fault.get("index", default_index)
            ) == index:
                return fault
        return None

    if fault_at("drop", 1):
        return
    duplicate = fault_at("duplicate", 0) is not None
    hold = fault_at("out_of_order", 0) is not None
    for sub, event, detailed in targets:
        envelope = delivery.envelope_build(sub, event, body if detailed else _strip_details(body))
        if hold and call is not None:
            call.held_events.setdefault(ext.id, []).append((sub, envelope, delay))
            continue
        delivery.enqueue(state, sub, envelope, delay=delay, fault="slow" if slow else None)
        if duplicate:
            delivery.enqueue(state, sub, envelope, delay=delay, fault="duplicate")
    if call is not None and not hold:
        for sub, envelope, held_delay in call.held_events.pop(ext.id, []):
            delivery.enqueue(state, sub, envelope, delay=held_delay, fault="out_of_order")


def release_held(state: SandboxState, call: Call) -> None:
    for held in call.held_events.values():
        for sub, envelope, delay in held:
            delivery.enqueue(state, sub, envelope, delay=delay, fault="out_of_order")
    call.held_events.clear()


def _applies(fault: dict[str, Any], ext: Extension) -> bool:
    target = fault.get("extension")
    return not target or str(target) in (ext.number, ext.id)


def raw_dispatch(state: SandboxState, ext: Extension, body: Any) -> int:
    """``POST /sandbox/notify``: deliver ``body`` exactly as given; return the queue count."""
    targets = presence_targets(state, ext)
    for sub, event, _detailed_flag in targets:
        delivery.enqueue(state, sub, delivery.envelope_build(sub, event, body))
    return len(targets)
