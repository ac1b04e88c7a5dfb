"""The benchmark's data, written straight into its own database (Django set up by run.py).

Agents are what a sign-in would have made (user, ``Agent`` with a direct number, a session
cookie for the websocket, a webhook ``Subscription`` with its verification token); contacts
are bulk-inserted; the million-contact table is made by PostgreSQL itself.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from bench.scenarios import AgentSpec

BENCH_EXTENSION_BASE = 910000000
# Callers that match contacts in the event-to-pop phases: +1 415 5xx xxxx.
CONTACT_NUMBER_FORMAT = "+1415{:07d}"
CONTACT_NUMBER_START = 5000000


def database_recreate(url: str) -> None:
    """Drop and create the benchmark database named in ``url`` (PostgreSQL)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"refusing odd database name {name!r}")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def agents_create(*, count: int) -> list[dict[str, Any]]:
    """``count`` agents, each with a session cookie and an active webhook subscription.

    Returns, per agent, what the load generator needs: its ``AgentSpec`` fields and the
    cookie and Origin for ``/ws/agent/``.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from crm_cti.accounts.models import Agent
    from crm_cti.telephony.models import Subscription, verification_token_hash

    now = timezone.now()
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(username=f"bench-agent-{i:04d}", email=f"agent{i}@bench.example")
             for i in range(count)]
        )
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_update(users, ["password"])
        agents = Agent.objects.bulk_create([
            Agent(
                user=user,
                rc_account_id="400000001",
                rc_extension_id=str(BENCH_EXTENSION_BASE + i),
                extension_number=str(2000 + i),
                name=f"Bench Agent {i}",
                email=user.email,
                phone_numbers=[{"phone_number": f"+1650{7000000 + i:07d}",
                                "usage_type": "DirectNumber",
                                "features": ["CallerId", "SmsSender"]}],
            )
            for i, user in enumerate(users)
        ])
        tokens = [secrets.token_urlsafe(32) for _agent in agents]
        # bulk_create skips Subscription.save(), which sets the hash the webhook finds
        # the token by.
        subscriptions = Subscription.objects.bulk_create([
            Subscription(
                rc_id=str(uuid.uuid4()),
                mode=Subscription.Mode.EXTENSION,
                agent=agent,
                verification_token=token,
                verification_token_hash=verification_token_hash(token),
                event_filters=[
                    "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"
                ],
                address=f"{settings.WEBHOOK_BASE_URL}/webhooks/ringcentral/",
                status="Active",
                expires_at=now + timedelta(days=7),
            )
            for agent, token in zip(agents, tokens, strict=True)
        ])
    out = []
    for user, agent, sub in zip(users, agents, subscriptions, strict=True):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        spec = AgentSpec(
            agent_id=agent.pk,
            extension_id=agent.rc_extension_id,
            direct_number=agent.phone_numbers[0]["phone_number"],
            subscription_id=sub.rc_id,
            verification_token=sub.verification_token,
        )
        out.append({
            "spec": asdict(spec),
            "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        })
    return out


def contacts_create(*, count: int) -> list[str]:
    """``count`` contacts with one number each; returns the numbers (E.164)."""
    from django.db import transaction

    from crm_cti.crm.models import Contact, ContactPhone

    numbers = [CONTACT_NUMBER_FORMAT.format(CONTACT_NUMBER_START + i) for i in range(count)]
    with transaction.atomic():
        contacts = Contact.objects.bulk_create(
            [Contact(first_name=f"Caller{i}", last_name="Bench", company="Bench Inc")
             for i in range(count)],
            batch_size=2000,
        )
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=c, label="work", raw=n, e164=n)
             for c, n in zip(contacts, numbers, strict=True)],
            batch_size=2000,
        )
    return numbers


def contacts_bulk_sql(*, count: int, first: int) -> None:
    """Add ``count`` contacts with one number each, numbered from ``first``, in SQL.

    Numbers are +1 212 2xx xxxx and up (``2122000000 + first + n``), a range apart from the
    event-to-pop callers; PostgreSQL generates the rows, so a million take seconds.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH new AS (
                INSERT INTO crm_contact
                    (first_name, last_name, company, title, email, notes, created_at, updated_at)
                SELECT 'Bulk' || g, 'Contact', 'Company ' || (g %% 5000), '', '', '',
                       now(), now() - (g || ' seconds')::interval
                FROM generate_series(%s, %s) AS g
                RETURNING id
            ), numbered AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n FROM new
            )
            INSERT INTO crm_contactphone (contact_id, label, raw, e164)
            SELECT id, 'work', '+1' || (2122000000 + %s + n - 1),
                   '+1' || (2122000000 + %s + n - 1)
            FROM numbered
            """,
            [first, first + count - 1, first, first],
        )
        cursor.execute("ANALYZE crm_contact")
        cursor.execute("ANALYZE crm_contactphone")


def bulk_number(index: int) -> str:
    """The number ``contacts_bulk_sql`` gave its ``index``-th contact (from ``first=0``)."""
    return f"+1{2122000000 + index}"
