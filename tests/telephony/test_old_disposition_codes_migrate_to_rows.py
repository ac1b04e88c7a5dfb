"""The fixed disposition codes of earlier versions become rows of the team's list, and every
call keeps its disposition (a code outside the old list too, as an inactive row)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("telephony", "0003_call_missed_due_at"), ("crm", "0003_contact_changes_and_import_resume"),
]
AFTER = [("telephony", "0005_call_disposition_fk")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_codes_become_references():
    old = _migrate(BEFORE)
    Call = old.get_model("telephony", "Call")
    common = {"rc_extension_id": "400000102", "direction": "inbound", "state": "ended"}
    Call.objects.create(session_id="A", disposition="follow_up", **common)
    Call.objects.create(session_id="B", disposition="Escalated to Bob", **common)
    Call.objects.create(session_id="C", disposition="", **common)
    try:
        new = _migrate(AFTER)
        Call = new.get_model("telephony", "Call")
        names = {
            c.session_id: (c.disposition.name, c.disposition.active) if c.disposition else None
            for c in Call.objects.select_related("disposition")
        }
        assert names == {
            "A": ("Follow-up needed", True), "B": ("Escalated to Bob", False), "C": None,
        }
        Disposition = new.get_model("crm", "Disposition")
        assert list(Disposition.objects.filter(active=True).order_by("order").values_list(
            "name", flat=True)) == [
            "Resolved", "Follow-up needed", "Sale", "Support request", "Left voicemail",
            "Wrong number", "Spam",
        ]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
