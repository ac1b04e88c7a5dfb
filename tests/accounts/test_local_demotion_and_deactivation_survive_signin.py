"""An admin's decisions here outlive RingCentral: an agent demoted (or promoted) in the
agents admin keeps that at every later sign-in, and a deactivated agent loses their sessions
at once and is refused at sign-in with a clear page."""

from __future__ import annotations

import pytest
from django.test import Client

from crm_cti.accounts.models import Agent, RingCentralToken, SignInSession
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def _change(admin: Client, agent: Agent, override: str) -> None:
    response = admin.post(f"/admin/accounts/agent/{agent.pk}/change/",
                          {"admin_override": override})
    assert response.status_code == 302, response.content[:2000]


def test_a_local_demotion_survives_the_next_signin(rc, settings):
    settings.CRM_ADMIN_EXTENSIONS = ["103"]
    admin, demoted = Client(), Client()
    assert sign_in(admin, username="101").status_code == 302
    assert sign_in(demoted, username="103").status_code == 302
    agent = Agent.objects.get(extension_number="103")
    assert agent.is_admin

    # A RingCentral admin uses the agents admin with the group's model permissions.
    _change(admin, agent, "false")
    agent.refresh_from_db()
    assert (agent.is_admin, agent.admin_override, agent.user.is_staff) == (False, False, False)

    demoted.logout()
    assert sign_in(demoted, username="103").status_code == 302
    agent.refresh_from_db()
    assert agent.rc_admin is True, "RingCentral's view is still recorded"
    assert agent.is_admin is False and agent.user.is_staff is False
    assert demoted.get("/admin/").status_code == 302

    # Promoted here, an agent RingCentral does not call admin stays admin too.
    _change(admin, Agent.objects.get(extension_number="101"), "unknown")
    plain = Client()
    assert sign_in(plain, username="104").status_code == 302
    agent = Agent.objects.get(extension_number="104")
    _change(admin, agent, "true")
    plain.logout()
    assert sign_in(plain, username="104").status_code == 302
    agent.refresh_from_db()
    assert agent.is_admin and agent.user.is_staff and not agent.user.is_superuser


def test_a_deactivated_agent_is_signed_out_and_refused(rc):
    admin, victim = Client(), Client()
    assert sign_in(admin, username="101").status_code == 302
    assert sign_in(victim, username="102").status_code == 302
    agent = Agent.objects.get(extension_number="102")
    assert victim.get("/contacts/").status_code == 200

    response = admin.post("/admin/accounts/agent/",
                          {"action": "deactivate", "_selected_action": [agent.pk]})
    assert response.status_code == 302

    # Their session ended at once.
    page = victim.get("/contacts/")
    assert page.status_code == 302 and page["Location"].startswith("/auth/signin/")
    # RingCentral still signs them in; crm_cti does not, and changes nothing.
    refused = sign_in(victim, username="102")
    assert refused.status_code == 403
    assert "Your crm_cti account is deactivated" in refused.content.decode()
    assert "_auth_user_id" not in victim.session
    agent.refresh_from_db()
    assert agent.user.is_active is False
    assert not RingCentralToken.objects.filter(agent=agent).exists()
    assert all(t["status"] != "active" for t in rc.tokens() if t["owner_id"] == "400000102"
               and t["grant"] == "authorization_code")

    admin.post("/admin/accounts/agent/", {"action": "reactivate", "_selected_action": [agent.pk]})
    assert sign_in(victim, username="102").status_code == 302


def test_deactivating_the_user_anywhere_ends_their_sessions(
    rc, django_user_model, django_capture_on_commit_callbacks
):
    victim = Client()
    assert sign_in(victim, username="105").status_code == 302
    user = django_user_model.objects.get(agent__extension_number="105")
    assert SignInSession.objects.filter(user=user).exists()

    # As the users admin (or a shell) would: only the flag.
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()

    assert not SignInSession.objects.filter(user=user).exists()
    assert victim.get("/contacts/").status_code == 302
    assert sign_in(victim, username="105").status_code == 403
