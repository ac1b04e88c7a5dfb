"""A batch's call rows: locked with one query up front, saved once each at the end, and
only in the fields the batch changed (tracker.py, inside the applier's transaction)."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from django.db.models import Q

from crm_cti.telephony.call_views import is_session, views_of
from crm_cti.telephony.models import Call
from crm_cti.telephony.notifications import InvalidEvent, ParsedEvent


class CallRows:
    """The batch's call rows, locked with one query up front and saved once each at the end.

    Under load a batch holds several events of the same calls (ringing, connected, ended):
    a lock and an UPDATE per event and session was most of the tracker's cost. A new call is
    inserted at once (its pushed object needs its id); a changed one is saved after the
    batch's last event, inside the same transaction.
    """

    def __init__(self, rows: list[Call]) -> None:
        self._rows = {(call.rc_extension_id, call.session_id): call for call in rows}
        self._dirty: dict[int, Call] = {}
        # What each row held when locked: only the fields the batch changed are written
        # (a whole-row UPDATE of every changed call was a fifth of the applier's CPU).
        self._loaded = {call.pk: _field_values(call) for call in rows}

    @classmethod
    def lock(cls, parsed: Iterable[ParsedEvent | InvalidEvent]) -> CallRows:
        events = [event for event in parsed if isinstance(event, ParsedEvent)]
        keys = {
            (ext, view.session_id) for event in events for ext, view in views_of(event)
        }
        # A telephony session's event may name every call of its session (who took over
        # from whom): all of them, by the indexed session_id (the same id for every party).
        # Presence batches read exactly what they did before.
        # It finds presence's row of the call by telephonySessionId too (indexed).
        wide = {leg.session_id for event in events if is_session(event) for leg in event.legs}
        if not keys:
            return cls([])
        wanted = Q(
            rc_extension_id__in={ext for ext, _session in keys},
            session_id__in={session for _ext, session in keys},
        )
        if wide:
            wanted |= Q(session_id__in=wide) | Q(telephony_session_id__in={
                leg.telephony_session_id for event in events if is_session(event)
                for leg in event.legs
            })
        rows = (
            # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the
            # outer join to the contact; only the call rows need the lock. In id order, like
            # every other statement that locks several calls.
            Call.objects.select_for_update(of=("self",))
            .select_related(*(("contact", "agent") if wide else ("contact",)))
            .filter(wanted)
            .order_by("pk")
        )
        if not wide:
            return cls([call for call in rows if (call.rc_extension_id, call.session_id) in keys])
        return cls(list(rows))

    def get(self, extension_id: str, session_id: str,
            telephony_session_id: str = "") -> Call | None:
        call = self._rows.get((extension_id, session_id))
        if call is None and telephony_session_id:
            # The same call under another sessionId: merged by telephonySessionId.
            call = next((row for (ext, _session), row in self._rows.items()
                         if ext == extension_id
                         and row.telephony_session_id == telephony_session_id), None)
        return call

    def in_session(self, telephony_session_id: str) -> list[Call]:
        return [call for call in self._rows.values()
                if call.telephony_session_id == telephony_session_id]

    def save(self, call: Call) -> None:
        if call.pk is None:
            call.save()
            self._rows[(call.rc_extension_id, call.session_id)] = call
        else:
            self._dirty[call.pk] = call

    def save_changed(self) -> None:
        for call in self._dirty.values():
            loaded = self._loaded.get(call.pk)
            if loaded is None:
                call.save()
                continue
            changed = [name for (name, _attname), before, now
                       in zip(_CALL_FIELDS, loaded, _field_values(call), strict=True)
                       if before != now]
            if changed:
                call.save(update_fields=[*changed, "updated_at"])
        self._dirty.clear()


# (name, attname) of every concrete field but the key and the ones save() stamps itself.
_CALL_FIELDS = [(f.name, f.attname) for f in Call._meta.concrete_fields
                if not f.primary_key and f.name != "updated_at"]


def _field_values(call: Call) -> tuple:
    # JSON values are copied: the tracker may change a dict or list in place.
    return tuple(copy.deepcopy(value) if isinstance(value, dict | list) else value
                 for value in (getattr(call, attname) for _name, attname in _CALL_FIELDS))
