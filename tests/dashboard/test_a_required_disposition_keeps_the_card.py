"""While the team requires a disposition, an answered call's card cannot be dismissed until
it has one (and a note, when the disposition asks for one): the dismiss action refuses, and
the dashboard lists the call again on every visit. Missed calls need nothing."""

import json

import pytest

from crm_cti.accounts.preferences import team_settings_update
from tests.support.people import call_make, disposition_make

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def _dashboard_calls(client) -> list[int]:
    """The calls the dashboard page hands its script as cards."""
    page = client.get("/").content.decode()
    marker = '<script id="live-calls" type="application/json">'
    start = page.index(marker) + len(marker)
    return [c["id"] for c in json.loads(page[start:page.index("</script>", start)])]


def test_dismiss_is_refused_until_a_disposition_is_set(agent_client, agent):
    team_settings_update(require_disposition=True)
    call = call_make(agent)
    refused = agent_client.post(f"/calls/{call.pk}/dismiss/", **JSON).json()
    assert refused["ok"] is False
    assert "disposition" in refused["errors"]
    assert call.pk in _dashboard_calls(agent_client)

    sale = disposition_make("Sale")
    saved = agent_client.post(f"/calls/{call.pk}/notes/", {"disposition": sale.pk}, **JSON)
    assert saved.json()["ok"]
    assert agent_client.post(f"/calls/{call.pk}/dismiss/", **JSON).json() == {"ok": True}
    assert call.pk not in _dashboard_calls(agent_client)


def test_a_disposition_that_requires_a_note_needs_one(agent_client, agent):
    team_settings_update(require_disposition=True)
    callback = disposition_make("Call back", order=5, requires_note=True)
    call = call_make(agent)
    refused = agent_client.post(
        f"/calls/{call.pk}/notes/", {"disposition": callback.pk, "notes": " "}, **JSON
    ).json()
    assert refused["ok"] is False and "notes" in refused["errors"]
    call.refresh_from_db()
    assert call.disposition is None
    saved = agent_client.post(
        f"/calls/{call.pk}/notes/", {"disposition": callback.pk, "notes": "Tomorrow 9:00"}, **JSON
    ).json()
    assert saved["ok"] and saved["call"]["disposition"] == callback.pk
    assert agent_client.post(f"/calls/{call.pk}/dismiss/", **JSON).json() == {"ok": True}


def test_missed_calls_and_a_team_without_the_rule_dismiss_freely(agent_client, agent):
    team_settings_update(require_disposition=True)
    missed = call_make(agent, state="missed", answered_at=None, duration=0)
    assert agent_client.post(f"/calls/{missed.pk}/dismiss/", **JSON).json() == {"ok": True}
    assert missed.pk not in _dashboard_calls(agent_client)
    team_settings_update(require_disposition=False)
    answered = call_make(agent)
    assert agent_client.post(f"/calls/{answered.pk}/dismiss/", **JSON).json() == {"ok": True}
    assert answered.pk not in _dashboard_calls(agent_client)


def test_an_inactive_disposition_is_kept_but_not_offered(agent_client, agent):
    spam = disposition_make("Spam")
    call = call_make(agent, disposition=spam)
    spam.active = False
    spam.save()
    assert "Spam" not in agent_client.get("/").content.decode().split('id="card-template"')[1]
    page = agent_client.get(f"/calls/{call.pk}/").content.decode()
    assert f'<option value="{spam.pk}" selected>Spam</option>' in page
    history = agent_client.get("/calls/", {"disposition": spam.pk}).content.decode()
    assert f'data-call-id="{call.pk}"' in history and "<td>Spam</td>" in history
    csv = b"".join(agent_client.get("/calls/export.csv").streaming_content).decode()
    assert ",Spam," in csv
