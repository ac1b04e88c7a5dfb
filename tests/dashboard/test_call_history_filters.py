"""History filters return the right rows; pagination and CSV export follow the filters."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from crm_cti.telephony.models import Call
from tests.support.people import call_make, contact_make


@pytest.fixture
def calls(agent, other_agent):
    now = timezone.now()
    marco = contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    lin = contact_make("Grace", "Lin", "+16505550110", company="Northwind")
    return {
        "answered_in": call_make(agent, contact=marco, started_at=now - timedelta(hours=1)),
        "missed_in": call_make(
            agent, contact=lin, from_number="+16505550110", from_e164="+16505550110",
            state=Call.State.MISSED, answered_at=None, result="Missed",
            started_at=now - timedelta(days=2),
        ),
        "voicemail": call_make(
            agent, from_number="+12125550142", from_e164="+12125550142",
            state=Call.State.VOICEMAIL, answered_at=None, result="Voicemail",
            started_at=now - timedelta(days=10),
        ),
        "outbound": call_make(
            agent, direction=Call.Direction.OUTBOUND, from_number="+16505550102",
            from_e164="+16505550102", to_number="+14155550101", to_e164="+14155550101",
            started_at=now - timedelta(hours=3),
        ),
        "internal": call_make(
            agent, from_number="103", from_e164="", from_name="Otto Other",
            started_at=now - timedelta(hours=5),
        ),
        "other_agent": call_make(other_agent, started_at=now - timedelta(hours=2)),
    }


def _ids(client, **params):
    html = client.get("/calls/", params).content.decode()
    return {int(part.split('"')[0]) for part in html.split('data-call-id="')[1:]}


def test_filters(agent_client, calls):
    c = {k: v.pk for k, v in calls.items()}
    mine = {c[k] for k in calls if k != "other_agent"}
    assert _ids(agent_client) == mine
    assert _ids(agent_client, direction="outbound") == {c["outbound"]}
    assert _ids(agent_client, result="missed") == {c["missed_in"]}
    assert _ids(agent_client, result="voicemail") == {c["voicemail"]}
    assert _ids(agent_client, result="answered") == {c["answered_in"], c["outbound"], c["internal"]}
    assert _ids(agent_client, type="internal") == {c["internal"]}
    assert c["internal"] not in _ids(agent_client, type="external")
    assert _ids(agent_client, phone="(415) 555-0101") == {c["outbound"]}
    assert _ids(agent_client, contact="northwind") == {c["missed_in"]}
    assert _ids(agent_client, contact="marco") == {c["answered_in"]}
    today = timezone.localdate()
    assert _ids(agent_client, date_from=str(today - timedelta(days=3)), date_to=str(today)) == (
        mine - {c["voicemail"]}
    )
    assert _ids(agent_client, date_to=str(today - timedelta(days=5))) == {c["voicemail"]}


def test_admin_filters_by_agent(admin_client_agent, calls, other_agent):
    assert _ids(admin_client_agent, agent=other_agent.pk) == {calls["other_agent"].pk}
    assert len(_ids(admin_client_agent)) == 6


def test_bad_date_range_shows_an_error(agent_client, calls):
    html = agent_client.get("/calls/", {"date_from": "2026-02-10", "date_to": "2026-02-01"})
    assert "The end date is before the start date." in html.content.decode()


def test_pagination(agent_client, agent):
    for i in range(55):
        call_make(agent, started_at=timezone.now() - timedelta(minutes=i))
    first = agent_client.get("/calls/").content.decode()
    assert "Page 1 of 2" in first and first.count('data-call-id="') == 50
    second = agent_client.get("/calls/", {"page": 2}).content.decode()
    assert second.count('data-call-id="') == 5


def test_csv_export_follows_the_filters(agent_client, calls):
    response = agent_client.get("/calls/export.csv", {"result": "missed"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["contact"] == "Grace Lin" and rows[0]["result"] == "Missed"
    assert rows[0]["from_number"] == "+16505550110"
