"""Calls by hour are counted in the local time zone: across a daylight-saving change
(grouped by UTC hour, placed locally), and in a zone half an hour off UTC (grouped locally
in SQL)."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.people import call_make


def _hours(client, params):
    rows = csv.reader(io.StringIO(client.get("/reports/hours.csv", params).content.decode()))
    return {hour: n for hour, n in list(rows)[1:] if n != "0"}


@pytest.mark.parametrize(
    ("zone", "times"),
    [
        # New York moves from UTC-5 to UTC-4 on 2026-03-08: 14:30Z and 13:30Z are both 09:30.
        ("America/New_York", [(7, 9, 30), (9, 9, 30), (9, 17, 5)]),
        # Kolkata is UTC+5:30: 09:10 and 09:50 fall in two different UTC hours.
        ("Asia/Kolkata", [(2, 9, 10), (2, 9, 50), (3, 17, 5)]),
    ],
)
def test_local_hours(settings, admin_client_agent, admin_agent, zone, times):
    settings.TIME_ZONE = zone
    for day, hour, minute in times:
        call_make(admin_agent, started_at=datetime(2026, 3, day, hour, minute,
                                                   tzinfo=ZoneInfo(zone)))
    params = {"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-10"}
    assert _hours(admin_client_agent, params) == {"09:00": "2", "17:00": "1"}
