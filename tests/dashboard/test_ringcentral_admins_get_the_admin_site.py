"""Signing in as a RingCentral admin opens the Django admin, with crm_cti's model permissions
(staff, never superuser); an agent gets no access."""

import pytest
from django.contrib.auth import get_user_model

from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_admin_extension_gets_the_admin_site(client, rc):
    assert sign_in(client, username="101").status_code == 302
    user = get_user_model().objects.get(agent__extension_number="101")
    assert user.is_staff and not user.is_superuser
    assert [g.name for g in user.groups.all()] == ["crm_cti admins"]
    assert client.get("/admin/telephony/call/").status_code == 200
    assert client.get("/admin/crm/contact/import/").status_code == 200
    assert client.get("/admin/accounts/agent/").status_code == 200
    # Users, groups and permissions stay a local superuser's business.
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


def test_agent_extension_does_not(client, rc):
    assert sign_in(client, username="102").status_code == 302
    user = get_user_model().objects.get(agent__extension_number="102")
    assert not user.is_staff and not user.is_superuser
    assert client.get("/admin/").status_code == 302
