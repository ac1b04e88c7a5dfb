"""CSRF on every state-changing endpoint: a signed-in agent's browser tricked into a
cross-site POST/DELETE gets 403 and nothing changes. The list of endpoints is taken from the
URL configuration, so a new endpoint cannot slip through unlisted."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from crm_cti.accounts.models import Agent, AgentPopSettings
from crm_cti.crm.models import CompanyLine, Contact, NumberChoice
from crm_cti.messaging.models import FollowUp, Message
from crm_cti.telephony.models import Call, RingOut
from tests.security.conftest import all_routes
from tests.support.people import call_make, contact_make

pytestmark = pytest.mark.django_db

# Route -> the unsafe methods it accepts. The webhook is the one CSRF-exempt POST: it is
# called by RingCentral, not by a browser, and authenticates with the Verification-Token.
UNSAFE = {
    "/auth/start/": ["POST"],
    "/auth/signout/": ["POST"],
    "/contacts/new/": ["POST"],
    "/contacts/quick/": ["POST"],
    "/contacts/<int:contact_id>/edit/": ["POST"],
    "/api/ringout/": ["POST"],
    "/api/ringout/<int:ringout_id>/": ["DELETE"],
    "/api/calls/<int:call_id>/control/<slug:action>/": ["POST"],
    "/api/callout/": ["POST"],
    "/calls/<int:call_id>/notes/": ["POST"],
    "/calls/ringout-from/": ["POST"],
    "/calls/sms/": ["POST"],
    "/calls/pager/": ["POST"],
    "/calls/<int:call_id>/dismiss/": ["POST"],
    "/calls/<int:call_id>/contact/": ["POST"],
    "/calls/<int:call_id>/add-number/": ["POST"],
    "/settings/": ["POST"],
    "/settings/team/": ["POST"],
    "/contacts/company-lines/mark/": ["POST"],
    "/contacts/company-lines/unmark/": ["POST"],
    "/messages/<str:counterpart>/reply/": ["POST"],
    "/messages/<str:counterpart>/read/": ["POST"],
    "/followups/<int:followup_id>/done/": ["POST"],
    "/voicemail/<int:message_id>/read/": ["POST"],
    "/followups/<int:followup_id>/assign/": ["POST"],
}
CSRF_EXEMPT = {"/webhooks/ringcentral/"}
READ_ONLY = {
    "/healthz", "/auth/signin/", "/auth/callback/", "/contacts/", "/contacts/<int:contact_id>/",
    "/ops/", "/api/calls/live/", "/", "/calls/", "/calls/export.csv", "/calls/<int:call_id>/",
    "/calls/<int:call_id>/recording/", "/contacts/lookup/", "/contacts/data-quality/",
    "/reports/", "/reports/<slug:table>.csv", "/api/callcontrol/devices/",
    "/api/callcontrol/choices/",
    "/messages/", "/messages/<str:counterpart>/", "/voicemail/",
    "/voicemail/<int:message_id>/audio/", "/followups/",
}


def test_every_route_is_classified():
    routes = {route for route, _view in all_routes()}
    assert routes == set(UNSAFE) | CSRF_EXEMPT | READ_ONLY


def test_csrf_exempt_views_are_only_the_webhook():
    exempt = {route for route, view in all_routes() if getattr(view, "csrf_exempt", False)}
    assert exempt == CSRF_EXEMPT


def test_read_only_routes_refuse_unsafe_methods_or_change_nothing(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    call = call_make(agent)
    contact = contact_make("Ada", "Lovelace", "+14155550100")
    for route in READ_ONLY:
        path = route.replace("<int:contact_id>", str(contact.pk)).replace(
            "<int:call_id>", str(call.pk)).replace("<slug:table>", "summary").replace(
            "<str:counterpart>", "+14155550100").replace("<int:message_id>", "1")
        response = client.post(path, {"notes": "x"})
        assert response.status_code in (403, 405), (route, response.status_code)


def test_forged_requests_are_refused(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    call = call_make(agent, notes="original")
    contact = contact_make("Ada", "Lovelace", "+14155550100")
    ringout = RingOut.objects.create(agent=agent, rc_id="ro-1", from_number="+16505550102",
                                     to_number="+14155550100", call_status="InProgress")
    followup = FollowUp.objects.create(agent=agent, reason=FollowUp.Reason.MISSED_CALL,
                                       number="+14155550100", due_at=timezone.now())
    ids = {"<int:contact_id>": contact.pk, "<int:call_id>": call.pk,
           "<int:ringout_id>": ringout.pk, "<slug:action>": "hold",
           "<int:followup_id>": followup.pk, "<str:counterpart>": "+14155550199",
           "<int:message_id>": "1"}
    payload = {
        "notes": "forged", "disposition": "Sale", "first_name": "Eve", "last_name": "Forger",
        "phones-TOTAL_FORMS": "1", "phones-INITIAL_FORMS": "0", "phones-0-label": "work",
        "phones-0-number": "+14155550199", "phone": "+14155550199", "label": "work",
        "to": "+14155550199", "from": "+16505550102", "text": "forged", "number": "+16505550199",
        "next": "/", "contact": str(contact.pk), "company": "Evil Corp", "pop_on": "off",
        "note": "forged", "agent": "",
    }
    for route, methods in UNSAFE.items():
        path = route
        for placeholder, value in ids.items():
            path = path.replace(placeholder, str(value))
        for method in methods:
            response = client.generic(method, path, data=_form(payload),
                                      content_type="application/x-www-form-urlencoded",
                                      HTTP_ORIGIN="https://evil.example")
            assert response.status_code == 403, (method, route, response.status_code)

    call.refresh_from_db()
    ringout.refresh_from_db()
    agent.refresh_from_db()
    assert call.notes == "original" and call.disposition is None
    assert ringout.finished_at is None
    assert agent.ringout_from_number == ""
    assert not Contact.objects.filter(first_name="Eve").exists()
    assert not CompanyLine.objects.exists() and not NumberChoice.objects.exists()
    assert not AgentPopSettings.objects.exists()
    assert Contact.objects.get(pk=contact.pk).first_name == "Ada"
    assert Agent.objects.filter(pk=agent.pk).exists()
    # Still signed in: the forged sign-out did nothing.
    assert client.get("/").status_code == 200
    assert Call.objects.get(pk=call.pk).notes == "original"
    followup.refresh_from_db()
    assert followup.is_open and followup.agent == agent and not Message.objects.exists()


def _form(data: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(data)
