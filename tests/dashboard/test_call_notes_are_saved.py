"""Notes and a disposition are saved to the call (JSON from a pop card, form from the page)."""

from crm_cti.telephony.models import Call
from tests.support.people import call_make, disposition_make


def _disposition(name: str) -> int:
    return disposition_make(name).pk


def test_pop_card_saves_notes_and_disposition(agent_client, agent):
    call = call_make(agent, state="connected", ended_at=None, duration=None)
    response = agent_client.post(
        f"/calls/{call.pk}/notes/",
        {"notes": "Wants a quote for 40 units", "disposition": _disposition("Follow-up needed")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["call"]["notes"] == "Wants a quote for 40 units"
    call.refresh_from_db()
    assert (call.notes, call.disposition.name) == ("Wants a quote for 40 units", "Follow-up needed")


def test_call_page_form_saves_and_redirects_back(agent_client, agent):
    call = call_make(agent)
    response = agent_client.post(
        f"/calls/{call.pk}/notes/",
        {"notes": "Resolved on the phone", "disposition": _disposition("Resolved"),
         "next": f"/calls/{call.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/calls/{call.pk}/"
    page = agent_client.get(response["Location"]).content.decode()
    assert "Resolved on the phone" in page


def test_unknown_disposition_is_refused(agent_client, agent):
    call = call_make(agent)
    response = agent_client.post(
        f"/calls/{call.pk}/notes/", {"disposition": "bogus"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200 and response.json()["ok"] is False
    assert Call.objects.get(pk=call.pk).disposition is None


def test_notes_need_a_csrf_token(client, agent):
    from django.test import Client

    call = call_make(agent)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent.user)
    response = strict.post(f"/calls/{call.pk}/notes/", {"notes": "x"})
    assert response.status_code == 403
