"""Who administers crm_cti: RingCentral's ``permissions.admin.enabled``, or this
deployment's allow-lists (``CRM_ADMIN_EXTENSIONS``, ``CRM_ADMIN_ROLE_IDS``); a role's name
says nothing ("Non-admin agent" and "Billing Administrator" used to make admins)."""

from __future__ import annotations

import pytest

from crm_cti.accounts.admin_access import extension_is_admin
from crm_cti.accounts.models import Agent
from tests.accounts.signin_helpers import sign_in


def _extension(**fields):
    return {"id": 400000102, "extensionNumber": "102",
            "permissions": {"admin": {"enabled": False}}, **fields}


@pytest.mark.parametrize("name", ["Non-admin agent", "Billing Administrator", "Admin"])
def test_a_role_name_makes_nobody_an_admin(name, settings):
    settings.CRM_ADMIN_EXTENSIONS, settings.CRM_ADMIN_ROLE_IDS = [], []
    assert not extension_is_admin(_extension(roles=[{"id": "7", "displayName": name}]))


def test_the_admin_permission_does(settings):
    settings.CRM_ADMIN_EXTENSIONS, settings.CRM_ADMIN_ROLE_IDS = [], []
    assert extension_is_admin(_extension(permissions={"admin": {"enabled": True}}))
    # Anything but a real true is not a permission.
    assert not extension_is_admin(_extension(permissions={"admin": {"enabled": "false"}}))
    assert not extension_is_admin(_extension(permissions="admin"))


def test_allow_lists_by_extension_number_id_or_role_id(settings):
    settings.CRM_ADMIN_ROLE_IDS = []
    settings.CRM_ADMIN_EXTENSIONS = ["102"]
    assert extension_is_admin(_extension())
    settings.CRM_ADMIN_EXTENSIONS = ["400000102"]
    assert extension_is_admin(_extension())
    settings.CRM_ADMIN_EXTENSIONS = ["103", ""]
    assert not extension_is_admin(_extension())
    assert not extension_is_admin(_extension(extensionNumber=""))
    settings.CRM_ADMIN_EXTENSIONS, settings.CRM_ADMIN_ROLE_IDS = [], ["1000"]
    assert extension_is_admin(_extension(roles=[{"id": "1000", "displayName": "Agent"}]))
    assert not extension_is_admin(_extension(roles=[{"id": "1001"}, "1000", None]))


@pytest.mark.django_db
def test_an_allow_listed_extension_signs_in_as_admin_without_superuser(rc, client, settings):
    settings.CRM_ADMIN_EXTENSIONS = ["103"]
    assert sign_in(client, username="103").status_code == 302
    agent = Agent.objects.select_related("user").get(extension_number="103")
    assert agent.is_admin and agent.rc_admin
    assert agent.user.is_staff and not agent.user.is_superuser
    assert client.get("/admin/telephony/subscription/").status_code == 200
