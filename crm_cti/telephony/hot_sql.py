"""The hot path's fixed-shape writes, as plain SQL: the webhook's INSERT of each event, and
the two writes that end every applier batch.

Through the ORM, building these statements cost more CPU than running them: the webhook's
``objects.create`` was about a third of its CPU per delivery, and the tracker's
``bulk_update`` of the sequence marks (a ``CASE WHEN`` per column, built anew each time)
with an ``UPDATE`` per outcome about a sixth of the applier's when batches are small
(bench/hotpath.py, README "Performance"). Their shape never changes, so they are written
once here, with the tables' and columns' names from the models and values prepared by the
models' own fields (PostgreSQL and SQLite alike), in the caller's transaction or autocommit.
Each statement's text is built once per process (per database vendor), not per call.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from crm_cti.telephony.models import ExtensionState, TelephonyEvent

# The columns the webhook's INSERT fills: every column of the table but the key.
_EVENT_FIELDS = [f for f in TelephonyEvent._meta.concrete_fields if not f.primary_key]


def _column(model: type, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _datetime(model: type, name: str, value: datetime | None) -> object:
    return model._meta.get_field(name).get_db_prep_value(value, connection)


@functools.cache
def _extension_states_sql(vendor: str) -> str:
    table = connection.ops.quote_name(ExtensionState._meta.db_table)
    # Names from the models, values as parameters: nothing here comes from an event.
    return (
        f"UPDATE {table} SET {_column(ExtensionState, 'last_sequence')} = %s, "  # noqa: S608
        f"{_column(ExtensionState, 'last_event_at')} = %s, "
        f"{_column(ExtensionState, 'updated_at')} = %s WHERE {_column(ExtensionState, 'id')} = %s"
    )


def extension_states_save(states: Iterable[ExtensionState], *, now: datetime) -> None:
    """Write each state's ``last_sequence`` and ``last_event_at`` (``updated_at`` = now)."""
    updated_at = _datetime(ExtensionState, "updated_at", now)
    rows = [
        (state.last_sequence, _datetime(ExtensionState, "last_event_at", state.last_event_at),
         updated_at, state.pk)
        for state in states
    ]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(_extension_states_sql(connection.vendor), rows)


@functools.lru_cache(maxsize=256)  # one per batch size seen (a batch is at most 200 events)
def _events_processed_sql(vendor: str, count: int) -> str:
    table = connection.ops.quote_name(TelephonyEvent._meta.db_table)
    marks = ", ".join(["%s"] * count)
    return (
        f"UPDATE {table} SET {_column(TelephonyEvent, 'processed_at')} = %s, "  # noqa: S608
        f"{_column(TelephonyEvent, 'outcome')} = %s, {_column(TelephonyEvent, 'error')} = '' "
        f"WHERE {_column(TelephonyEvent, 'id')} IN ({marks})"
    )


def events_mark_processed(*, pks: list[int], outcome: str, now: datetime) -> None:
    """Mark these events processed with ``outcome`` (and no error)."""
    if not pks:
        return
    with connection.cursor() as cursor:
        cursor.execute(_events_processed_sql(connection.vendor, len(pks)),
                       [_datetime(TelephonyEvent, "processed_at", now), outcome, *pks])


@functools.cache
def _event_insert_sql(vendor: str) -> str:
    table = connection.ops.quote_name(TelephonyEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _EVENT_FIELDS)
    marks = ", ".join(["%s"] * len(_EVENT_FIELDS))
    return (f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
            f"RETURNING {_column(TelephonyEvent, 'id')}")


def event_insert(*, uuid: str, subscription_id: int | None, extension_id: str, sequence: int,
                 timestamp: datetime | None, payload: object, now: datetime) -> int:
    """INSERT one received event (not yet processed); returns its id. Raises what the
    database raises (IntegrityError for a redelivery's uuid or a gone subscription)."""
    values = {
        "uuid": uuid, "subscription": subscription_id, "rc_extension_id": extension_id,
        "sequence": sequence, "event_timestamp": timestamp, "payload": payload,
        "received_at": now, "processed_at": None, "outcome": "", "error": "", "attempts": 0,
    }
    params = [field.get_db_prep_save(values[field.name], connection) for field in _EVENT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_event_insert_sql(connection.vendor), params)
        return int(cursor.fetchone()[0])
