"""Every Django session a user is signed in with, and ending all of them at once.

Sign-out in one browser, a RingCentral session that died, or an admin deactivating the user
must end the user's access everywhere: each of their sessions (whatever the session
backend), and each ``/ws/agent/`` socket they have open. Sessions are recorded at login
(``user_logged_in``); sockets join ``user_group_name(user_id)``, and the consumer closes with
4401 when it hears ``{"type": "session.end"}`` there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone

from crm_cti.accounts.models import SignInSession

logger = logging.getLogger(__name__)

SESSION_END = "session.end"


def user_group_name(user_id: int) -> str:
    """The Channels group every ``/ws/agent/`` socket of one user joins."""
    return f"user.{user_id}"


@receiver(user_logged_in, dispatch_uid="accounts.session_record")
def session_record(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    SignInSession.objects.update_or_create(session_key=key, defaults={"user": user})
    # Sessions that expired on their own leave rows behind: drop this user's old ones.
    stale = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    SignInSession.objects.filter(user=user, created_at__lt=stale).delete()


def user_sessions_end(*, user_id: int) -> int:
    """End every session of the user and close their open sockets; how many sessions ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(SignInSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    SignInSession.objects.filter(user_id=user_id, session_key__in=keys).delete()
    user_sockets_close(user_id=user_id)
    logger.info("ended %d session(s) of user %s", len(keys), user_id)
    return len(keys)


def user_sockets_close(*, user_id: int) -> None:
    """Ask every web process to close the user's ``/ws/agent/`` sockets (with 4401)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group_name(user_id), {"type": SESSION_END})
    except Exception:
        # The sessions are gone already: a socket that stays open loses its snapshot source
        # at the next reconnect. Never fail a sign-out because Redis hiccuped.
        logger.exception("could not close the sockets of user %s", user_id)


def user_deactivated(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A user switched off anywhere (the agents' Deactivate action, the users admin, a
    shell): their sessions and sockets end once that is committed."""
    if instance.pk is None or instance.is_active:
        return
    was_active = sender.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        user_id = instance.pk
        transaction.on_commit(lambda: user_sessions_end(user_id=user_id))


# A lazy sender ("auth.User"): this module may be imported before the app registry is ready.
pre_save.connect(
    user_deactivated, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.deactivated"
)
