"""Who administers crm_cti, and what that gives them in the Django admin.

RingCentral decides at each sign-in (``permissions.admin.enabled``, or the allow-lists
``CRM_ADMIN_EXTENSIONS`` and ``CRM_ADMIN_ROLE_IDS``), unless an admin decided here
(``Agent.admin_override``), which every later sign-in keeps. An admin is ``is_staff`` and a
member of the "crm_cti admins" group, which holds the model permissions of crm_cti's own
apps: never ``is_superuser`` (that would hand them users, groups and permissions too).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission

logger = logging.getLogger(__name__)

ADMIN_GROUP = "crm_cti admins"
# The apps whose models admins manage; django.contrib.auth is deliberately not among them.
ADMIN_APPS = ("accounts", "crm", "telephony", "dashboard", "ops")


def extension_is_admin(extension: dict[str, Any]) -> bool:
    """What RingCentral (and this deployment's allow-lists) say about ``extension``.

    Role names are not looked at: "Non-admin agent" or "Billing Administrator" say nothing
    about administering crm_cti.
    """
    permissions = extension.get("permissions") or {}
    admin = permissions.get("admin") if isinstance(permissions, dict) else None
    if isinstance(admin, dict) and admin.get("enabled") is True:
        return True
    allowed = {str(item).strip() for item in settings.CRM_ADMIN_EXTENSIONS if str(item).strip()}
    ids = {str(extension.get("id") or ""), str(extension.get("extensionNumber") or "")} - {""}
    if allowed & ids:
        return True
    role_ids = {str(item).strip() for item in settings.CRM_ADMIN_ROLE_IDS if str(item).strip()}
    roles = extension.get("roles") or []
    return any(
        isinstance(role, dict) and str(role.get("id") or "") in role_ids
        for role in roles
        if role_ids
    )


def admin_group_sync() -> Group:
    """The admins' group with every permission of crm_cti's own models (created if missing)."""
    group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
    group.permissions.set(permissions)
    return group


def user_admin_access_set(*, user: Any, admin: bool) -> None:
    """Give or take ``is_staff`` and the admins' group. Users made by RingCentral sign-in
    (no usable password) are never superusers; a local superuser (``createsuperuser``)
    keeps their own flags whatever their extension says."""
    group = admin_group_sync() if admin else Group.objects.filter(name=ADMIN_GROUP).first()
    if user.has_usable_password():
        if admin and group is not None:
            user.groups.add(group)
        return
    changed = []
    if user.is_staff != admin:
        user.is_staff = admin
        changed.append("is_staff")
    if user.is_superuser:
        user.is_superuser = False
        changed.append("is_superuser")
    if changed:
        user.save(update_fields=changed)
        logger.info("admin site access for user %s: %s", user.pk, "granted" if admin else "none")
    if group is not None:
        if admin:
            user.groups.add(group)
        else:
            user.groups.remove(group)


def admin_group_on_migrate(**kwargs: Any) -> None:
    """post_migrate: new models' permissions reach the admins' group."""
    if Group.objects.filter(name=ADMIN_GROUP).exists():
        admin_group_sync()
