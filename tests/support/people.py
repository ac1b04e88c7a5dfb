"""Factories for agents, contacts and calls, for page tests that need data in the database.

Plain functions plus fixtures; tests of the dashboard, crm and browser domains import the
fixtures in their conftest.py.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.models import Contact, ContactPhone, Disposition
from crm_cti.telephony.models import Call

_session_ids = itertools.count(1)


def agent_create(
    *, extension: str = "102", admin: bool = False, name: str | None = None,
    numbers: list[str] | None = None,
) -> Agent:
    user = get_user_model().objects.create_user(
        username=f"ext{extension}", email=f"ext{extension}@example.com"
    )
    numbers = numbers if numbers is not None else [f"+1650555{int(extension):04d}"]
    return Agent.objects.create(
        user=user,
        rc_account_id="400000001",
        rc_extension_id=f"400000{int(extension):03d}",
        extension_number=extension,
        name=name or f"Agent {extension}",
        email=f"ext{extension}@example.com",
        is_admin=admin,
        phone_numbers=[
            {"phone_number": n, "usage_type": "DirectNumber", "features": ["SmsSender", "CallerId"]}
            for n in numbers
        ],
    )


def contact_make(first: str, last: str, *numbers: str, company: str = "") -> Contact:
    contact = Contact.objects.create(first_name=first, last_name=last, company=company)
    for number in numbers:
        ContactPhone.objects.create(contact=contact, raw=number, e164=number)
    return contact


def call_make(agent: Agent | None, **fields: Any) -> Call:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "rc_extension_id": agent.rc_extension_id if agent else "400000199",
        "session_id": f"S{next(_session_ids)}",
        "direction": Call.Direction.INBOUND,
        "from_number": "+16504445567",
        "from_e164": "+16504445567",
        "to_number": agent.direct_numbers[0] if agent and agent.direct_numbers else "+16505550102",
        "to_e164": agent.direct_numbers[0] if agent and agent.direct_numbers else "+16505550102",
        "state": Call.State.ENDED,
        "started_at": now - timedelta(minutes=5),
        "answered_at": now - timedelta(minutes=5) + timedelta(seconds=5),
        "ended_at": now - timedelta(minutes=4),
        "duration": 55,
    }
    defaults.update(fields)
    return Call.objects.create(agent=agent, **defaults)


@pytest.fixture
def agent(db) -> Agent:
    return agent_create(extension="102", name="Ava Agent")


@pytest.fixture
def other_agent(db) -> Agent:
    return agent_create(extension="103", name="Otto Other")


@pytest.fixture
def admin_agent(db) -> Agent:
    return agent_create(extension="101", admin=True, name="Ada Admin")


@pytest.fixture(autouse=True)
def plain_http(settings):
    """Django's test client speaks plain HTTP; distributed mode (DEBUG off) would redirect
    every request to HTTPS. Autouse where a conftest imports it."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent.user)
    return client


@pytest.fixture
def admin_client_agent(client, admin_agent):
    client.force_login(admin_agent.user)
    return client


@pytest.fixture
def eager_tasks():
    """Run Celery tasks inline in this test process, in either mode.

    For tests of what a task does once queued (an import, a refresh), not of the broker:
    the broker round trip has its own tests (tests/foundation).
    """
    from crm_cti.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous



def disposition_make(name: str, **fields: Any) -> Disposition:
    """One of the team's dispositions. The migration creates the old fixed list, but a
    transactional test (the browser's, the integration ones) empties every table after it,
    so tests make the ones they use."""
    disposition, _created = Disposition.objects.get_or_create(name=name, defaults=fields)
    return disposition
