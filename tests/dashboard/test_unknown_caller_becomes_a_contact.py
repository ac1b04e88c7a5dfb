"""The pop card's "Create contact" creates the contact and attaches the live call to it."""

from crm_cti.crm.models import Contact
from crm_cti.telephony.models import Call
from tests.support.people import call_make


def test_quick_create_links_the_live_call(agent_client, agent, django_capture_on_commit_callbacks):
    call = call_make(
        agent, from_number="+14155550177", from_e164="+14155550177", state="ringing",
        answered_at=None, ended_at=None, duration=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            "/contacts/quick/",
            {"first_name": "Nora", "last_name": "Quinn", "company": "Quinn & Co",
             "phone": "415-555-0177", "label": "work"},
        )
    assert response.status_code == 201
    body = response.json()
    contact = Contact.objects.get(pk=body["contact"]["id"])
    assert body["contact"]["name"] == "Nora Quinn"
    assert [p.e164 for p in contact.phones.all()] == ["+14155550177"]
    assert Call.objects.get(pk=call.pk).contact_id == contact.pk


def test_errors_come_back_per_field(agent_client, agent):
    response = agent_client.post("/contacts/quick/", {"first_name": "X", "phone": "12"})
    assert response.status_code == 200 and response.json()["ok"] is False
    assert "phone" in response.json()["errors"]
    assert Contact.objects.count() == 0
