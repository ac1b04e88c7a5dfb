"""``python manage.py seed_demo``: realistic demo contacts (idempotent: run it any time).

Numbers are 555-01xx numbers (reserved for fiction in North America) plus a few
international ones, and a couple that the demo's scenarios call from, so the first pop
already shows a name; two numbers are shared by several contacts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from crm_cti.crm.models import Contact, ContactPhone
from crm_cti.crm.phones import normalize_e164
from crm_cti.crm.services import contact_create, contact_update

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


class Command(BaseCommand):
    help = "Create or refresh the demo contacts (safe to run again)."

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
        self.stdout.write(
            self.style.SUCCESS(f"Demo contacts: {created} created, {updated} already there.")
        )
