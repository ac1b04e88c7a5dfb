"""Narrow covering indexes for the reports (crm_cti/reports/selectors.py; bench/reports.py).

Over a long period every call matches, and reading the nine columns of
``call_report_period_idx`` (0006: two texts in the middle of each entry) costs more than
reading the table, so PostgreSQL read the table, four times per page. Each of these holds
only what one report query reads, the fixed-width columns first:

- ``call_report_cells_idx``: the day x hour totals and the dispositions (one query);
- ``call_report_inbound_idx``, inbound calls only: the top callers and the queue list.

Both lead with ``started_at`` (the period), then ``agent`` (an admin's agent filter).
PostgreSQL only (``INCLUDE``, 11+); SQLite has no use for them.
"""

from django.db import migrations

INDEXES = {
    "call_report_cells_idx": (
        "CREATE INDEX IF NOT EXISTS call_report_cells_idx ON telephony_call "
        "(started_at, agent_id) INCLUDE (answered_at, ended_at, disposition_id, direction, state)"
    ),
    "call_report_inbound_idx": (
        "CREATE INDEX IF NOT EXISTS call_report_inbound_idx ON telephony_call "
        "(started_at, agent_id) INCLUDE (answered_at, from_e164, to_e164) "
        "WHERE direction = 'inbound'"
    ),
}


def indexes_create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in INDEXES.values():
            schema_editor.execute(sql)


def indexes_drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("telephony", "0006_call_report_indexes"),
    ]

    operations = [
        migrations.RunPython(indexes_create, indexes_drop),
    ]
