"""``python manage.py seed_demo``: realistic demo contacts and 30 days of call history
(idempotent: run it any time).

Numbers are 555-01xx numbers (reserved for fiction in North America) plus a few
international ones, and a couple that the demo's scenarios call from, so the first pop
already shows a name; two numbers are shared by several contacts.

The history belongs to the demo sandbox's five agents (created here as their first sign-in
would; signing in later only refreshes them), so that the reports page means something
from the first visit. Each day's calls are drawn from a generator seeded by agent and day:
running the command again adds only the days that are missing (a call's session id names
its agent, day and number), never a second copy.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.models import Contact, ContactPhone, Disposition
from crm_cti.crm.phones import normalize_e164
from crm_cti.crm.services import contact_create, contact_update
from crm_cti.telephony.models import Call

# Shared numbers, so the demo shows the match rules: Northwind's switchboard is on three
# contacts (the data-quality page offers to make it a company line); the credit union's
# front desk is shared by two (the card offers both; Team settings says which pops).
NORTHWIND_MAIN = "+16505550119"
REDWOOD_DESK = "+17075550120"

# (first, last, company, title, email, [(label, number), ...])
DEMO_CONTACTS: list[tuple[str, str, str, str, str, list[tuple[str, str]]]] = [
    # The seeds' and the sandbox's demo callers.
    ("Phillip", "Marco", "Marco Imports", "Owner", "phillip@marcoimports.example",
     [("mobile", "+16504445567")]),
    ("Grace", "Lin", "Northwind Traders", "Purchasing Manager", "grace.lin@northwind.example",
     [("work", "+16505550110"), ("mobile", "+14155550134"), ("other", NORTHWIND_MAIN)]),
    ("Samuel", "Okafor", "Northwind Traders", "CFO", "s.okafor@northwind.example",
     [("work", "+16505550111"), ("other", NORTHWIND_MAIN)]),
    ("Maria", "Gonzalez", "Northwind Traders", "Logistics", "maria.g@northwind.example",
     [("work", "+16505550112"), ("other", NORTHWIND_MAIN)]),
    ("Daniel", "Kim", "Blue Harbor Dental", "Office Manager", "dkim@blueharbor.example",
     [("work", "+14155550101"), ("mobile", "+14155550102")]),
    ("Priya", "Raman", "Blue Harbor Dental", "Dentist", "priya@blueharbor.example",
     [("work", "+14155550103")]),
    ("Thomas", "Becker", "Acme Robotics", "VP Engineering", "tbecker@acme-robotics.example",
     [("work", "+12125550142"), ("mobile", "+12125550143")]),
    ("Olivia", "Brown", "Acme Robotics", "Procurement", "olivia.brown@acme-robotics.example",
     [("work", "+12125550144")]),
    ("Ethan", "Walker", "Acme Robotics", "Support Lead", "ewalker@acme-robotics.example",
     [("work", "+12125550145")]),
    ("Sophie", "Martin", "Lumière Hôtels", "Directrice", "sophie.martin@lumiere.example",
     [("work", "+33142685300")]),
    ("James", "Wilson", "Thames Logistics", "Account Director", "j.wilson@thames.example",
     [("work", "+442079460958")]),
    ("Hannah", "Schmidt", "Brandt & Söhne GmbH", "Einkauf", "h.schmidt@brandt.example",
     [("work", "+493012345678")]),
    ("Kenji", "Tanaka", "Sakura Components", "Sales", "k.tanaka@sakura.example",
     [("work", "+81312345678")]),
    ("Isabella", "Rossi", "Rossi Architettura", "Partner", "isabella@rossi.example",
     [("work", "+390612345678")]),
    ("Noah", "Davis", "Redwood Credit Union", "Branch Manager", "ndavis@redwoodcu.example",
     [("work", "+17075550121"), ("other", REDWOOD_DESK)]),
    ("Emma", "Johnson", "Redwood Credit Union", "Loan Officer", "ejohnson@redwoodcu.example",
     [("work", "+17075550122"), ("other", REDWOOD_DESK)]),
    ("Liam", "Miller", "Golden Gate Realty", "Broker", "liam@ggrealty.example",
     [("mobile", "+14155550150")]),
    ("Ava", "Garcia", "Golden Gate Realty", "Agent", "ava@ggrealty.example",
     [("mobile", "+14155550151")]),
    ("Lucas", "Martinez", "Sunrise Bakery", "Owner", "lucas@sunrisebakery.example",
     [("work", "+16505550160"), ("home", "+16505550161")]),
    ("Mia", "Anderson", "Peninsula Pediatrics", "Practice Manager", "mia@peninsulapeds.example",
     [("work", "+16505550170")]),
    ("Benjamin", "Thomas", "Bay Area Plumbing", "Dispatcher", "dispatch@bayplumbing.example",
     [("work", "+15105550180")]),
    ("Charlotte", "Moore", "Moore & Partners LLP", "Attorney", "cmoore@moorellp.example",
     [("work", "+12125550190")]),
    ("Henry", "Jackson", "Moore & Partners LLP", "Paralegal", "hjackson@moorellp.example",
     [("work", "+12125550191")]),
    ("Amelia", "White", "Cascade Outfitters", "Buyer", "amelia@cascade.example",
     [("work", "+12065550125")]),
    ("Alexander", "Harris", "Cascade Outfitters", "Store Manager", "alex@cascade.example",
     [("work", "+12065550126")]),
    ("Evelyn", "Clark", "Summit Health", "Scheduling", "eclark@summithealth.example",
     [("work", "+13125550131")]),
    ("Michael", "Lewis", "Summit Health", "IT Director", "mlewis@summithealth.example",
     [("work", "+13125550132"), ("mobile", "+13125550133")]),
    ("Harper", "Young", "", "", "harper.young@example.com", [("mobile", "+16175550135")]),
    ("William", "King", "King Family Farms", "Owner", "will@kingfarms.example",
     [("work", "+15595550136")]),
    ("Ella", "Scott", "Scott Design Studio", "Designer", "ella@scottdesign.example",
     [("work", "+13105550137")]),
    ("Mateo", "Hernández", "Distribuidora del Valle", "Gerente", "mateo@delvalle.example",
     [("work", "+525512345678")]),
    ("Chloe", "Nguyen", "Pho Real Restaurants", "Catering", "chloe@phoreal.example",
     [("work", "+14085550138")]),
]


# The demo sandbox's people (crm_cti/sandbox/seed.py): extension id, number, name, admin.
DEMO_AGENTS: list[tuple[str, str, str, bool]] = [
    ("400000101", "101", "Olivia Bennett", True),
    ("400000102", "102", "Marcus Reed", False),
    ("400000103", "103", "Priya Shah", False),
    ("400000104", "104", "Daniel Kim", False),
    ("400000105", "105", "Sofia Alvarez", False),
]
HISTORY_DAYS = 30
# Company numbers callers dial besides the agents' own: what the reports' queue filter
# lists (README "Reports").
DEMO_QUEUES = [("+16505550190", "Sales queue"), ("+16505550191", "Support queue")]
UNKNOWN_CALLERS = [f"+1408555{n:04d}" for n in range(200, 240)]


def _direct_number(number: str) -> str:
    return f"+165055501{number[-2:]}"


def demo_agents_ensure() -> list[Agent]:
    """The sandbox's five agents, as a first sign-in creates them (user ``rc-<id>``, no
    password: they sign in with RingCentral); existing ones are left as they are."""
    agents = []
    for extension_id, number, name, admin in DEMO_AGENTS:
        agent = Agent.objects.filter(rc_extension_id=extension_id).first()
        if agent is None:
            user, created = get_user_model().objects.get_or_create(username=f"rc-{extension_id}")
            if created:
                user.set_unusable_password()
                user.save()
            agent = Agent.objects.create(
                user=user, rc_extension_id=extension_id, extension_number=number, name=name,
                is_admin=admin, rc_admin=admin,
                phone_numbers=[{"phone_number": _direct_number(number),
                                "usage_type": "DirectNumber",
                                "features": ["SmsSender", "CallerId"]}],
            )
        agents.append(agent)
    return agents


def _day_calls(agent: Agent, day: date, callers: list[tuple[str, int | None]],
               now: datetime) -> list[Call]:
    """One agent's calls of one day: busier mid-week and mid-morning, quiet at weekends."""
    rng = random.Random(f"{agent.rc_extension_id}-{day.isoformat()}")
    weekday = day.weekday()
    count = rng.randint(1, 4) if weekday >= 5 else rng.randint(8, 18) - abs(weekday - 2)
    dispositions = list(Disposition.objects.filter(active=True).order_by("order", "pk"))
    own = agent.direct_numbers[0] if agent.direct_numbers else ""
    calls = []
    for index in range(count):
        hour = rng.choice([8, 9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 17, 18])
        started = timezone.make_aware(datetime.combine(day, time(hour, rng.randrange(60))))
        started += timedelta(seconds=rng.randrange(60))
        if started >= now:
            continue
        inbound = rng.random() < 0.7
        number, contact_id = rng.choice(callers)
        answered = rng.random() < (0.78 if inbound else 0.7)
        wait = rng.randint(3, 25) if inbound else rng.randint(5, 20)
        talk = int(rng.expovariate(1 / 240)) + 15
        answered_at = started + timedelta(seconds=wait) if answered else None
        ended_at = (answered_at + timedelta(seconds=talk)) if answered_at else (
            started + timedelta(seconds=rng.randint(15, 35)))
        if answered:
            state, result = Call.State.ENDED, "Call connected"
        elif inbound and rng.random() < 0.35:
            state, result = Call.State.VOICEMAIL, "Voicemail"
        elif inbound:
            state, result = Call.State.MISSED, "Missed"
        else:
            state, result = Call.State.ENDED, "No Answer"
        dialled, dialled_name = own, agent.name
        if inbound and rng.random() < 0.4:
            dialled, dialled_name = rng.choice(DEMO_QUEUES)
        party = {"from_number": number, "from_e164": number, "to_number": dialled,
                 "to_e164": dialled, "to_name": dialled_name}
        if not inbound:
            party = {"from_number": own, "from_e164": own, "from_name": agent.name,
                     "to_number": number, "to_e164": number}
        calls.append(Call(
            agent=agent, rc_extension_id=agent.rc_extension_id,
            session_id=f"demo-{agent.extension_number}-{day:%Y%m%d}-{index}",
            direction=Call.Direction.INBOUND if inbound else Call.Direction.OUTBOUND,
            contact_id=contact_id, contact_matches=1 if contact_id else 0, state=state,
            started_at=started, answered_at=answered_at, ended_at=ended_at,
            duration=int((ended_at - started).total_seconds()), result=result,
            disposition=(
                rng.choice(dispositions) if dispositions and answered and rng.random() < 0.6
                else None
            ),
            **party,
        ))
    return calls


def demo_history_ensure(*, agents: list[Agent], days: int = HISTORY_DAYS) -> int:
    """Calls of the last ``days`` days (today up to now) for ``agents``; returns how many
    were added (0 when every day is already there)."""
    phones = ContactPhone.objects.filter(contact__email__endswith=".example")
    known = sorted((p.e164, p.contact_id) for p in phones)
    # A few regulars call far more often than the rest: the top callers mean something.
    callers: list[tuple[str, int | None]] = known[:6] * 4 + known + [
        (number, None) for number in UNKNOWN_CALLERS]
    now = timezone.now()
    today = timezone.localdate()
    calls = [
        call
        for offset in range(days)
        for agent in agents
        for call in _day_calls(agent, today - timedelta(days=offset), callers, now)
    ]
    before = Call.objects.filter(session_id__startswith="demo-").count()
    Call.objects.bulk_create(calls, batch_size=500, ignore_conflicts=True)
    return Call.objects.filter(session_id__startswith="demo-").count() - before


class Command(BaseCommand):
    help = "Create or refresh the demo contacts and call history (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = updated = 0
        with transaction.atomic():
            for first, last, company, title, email, phones in DEMO_CONTACTS:
                contact = Contact.objects.filter(email__iexact=email).first()
                if contact is None:
                    # Someone may have created the contact by hand from a pop: match the number.
                    # (Not by a shared number: that would merge the people sharing it.)
                    e164s = [normalize_e164(raw) for _label, raw in phones
                             if raw not in (NORTHWIND_MAIN, REDWOOD_DESK)]
                    phone = ContactPhone.objects.filter(e164__in=e164s).select_related(
                        "contact"
                    ).first()
                    contact = phone.contact if phone else None
                fields = {"first_name": first, "last_name": last, "company": company,
                          "title": title, "email": email}
                if contact is None:
                    contact_create(**fields, phones=phones, source="demo seed")
                    created += 1
                else:
                    current = [(p.label, p.raw) for p in contact.phones.all()]
                    contact_update(
                        contact=contact, phones=current + phones, source="demo seed", **fields
                    )
                    updated += 1
        with transaction.atomic():
            added = demo_history_ensure(agents=demo_agents_ensure())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo contacts: {created} created, {updated} already there; "
                f"demo call history: {added} calls added."
            )
        )
