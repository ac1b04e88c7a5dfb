"""The seeded accounts: what a fresh sandbox knows before anyone signs in.

The main account (``config.ACCOUNT_ID``) is the one the product is configured for. A second,
unrelated account (``OTHER_ACCOUNT_ID``) lives on the same platform, as any other RingCentral
customer does: its users can sign in and read their own extension, and nothing of the main
account ever lists them. It exists so that tests can try to get in from the wrong account.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import jwt

from crm_cti.sandbox import config

# Permissions granted to the sandbox's registered app (the token's ``scope``).
APP_SCOPE = (
    "CallControl EditMessages InternalMessages ReadAccounts ReadCallLog ReadCallRecording "
    "ReadMessages "
    "ReadPresence RingOut SMS SubscriptionWebhook WebSocket"
)
# The second registered app (config.LIMITED_CLIENT_ID) lacks CallControl.
LIMITED_APP_SCOPE = " ".join(p for p in APP_SCOPE.split() if p != "CallControl")
# The third (config.NO_MESSAGES_CLIENT_ID) lacks the message permissions.
NO_MESSAGES_APP_SCOPE = " ".join(p for p in APP_SCOPE.split()
                                 if p not in ("ReadMessages", "EditMessages", "SMS"))


def app_scope(client_id: str) -> str:
    """The permissions of the registered app ``client_id`` (a token's ``scope``)."""
    return {config.LIMITED_CLIENT_ID: LIMITED_APP_SCOPE,
            config.NO_MESSAGES_CLIENT_ID: NO_MESSAGES_APP_SCOPE}.get(client_id, APP_SCOPE)


def app_secret(client_id: str) -> str | None:
    """The registered app's client secret, or None for an unknown client id."""
    return {config.CLIENT_ID: config.CLIENT_SECRET,
            config.LIMITED_CLIENT_ID: config.LIMITED_CLIENT_SECRET,
            config.NO_MESSAGES_CLIENT_ID: config.NO_MESSAGES_CLIENT_SECRET}.get(client_id)


# What an admin user may do beyond their own extension.
ADMIN_PERMISSIONS = ("ReadCompanyCallLog", "ReadCompanyPresence", "ReadCompanyCallRecording")

# Another customer on the same platform: its own account id, extensions, numbers and emails.
OTHER_ACCOUNT_ID = "400000002"
_OTHER_PEOPLE = [
    ("201", "Grace", "Hopper", True),
    ("202", "Alan", "Turing", False),
]

_PEOPLE = [
    ("101", "Olivia", "Bennett", True),
    ("102", "Marcus", "Reed", False),
    ("103", "Priya", "Shah", False),
    ("104", "Daniel", "Kim", False),
    ("105", "Sofia", "Alvarez", False),
]


@dataclass
class Extension:
    id: str
    number: str
    first_name: str
    last_name: str
    email: str
    direct_number: str
    is_admin: bool
    password: str
    # Monotonic per extension, like the platform's presence ``sequence``.
    sequence: int = 0
    jwt: str = field(default="", repr=False)
    account_id: str = config.ACCOUNT_ID
    # "User" for a person; "Department" for a call queue (which no one signs in as).
    kind: str = "User"
    # A call queue's member agents (extension numbers), in ring order.
    members: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def public(self) -> dict:
        return {
            "extension_id": self.id,
            "extension_number": self.number,
            "name": self.name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "direct_number": self.direct_number,
            "is_admin": self.is_admin,
            "account_id": self.account_id,
            "password": self.password,
            "jwt": self.jwt,
            "sign_in": {
                "username": self.number,
                "alternatives": [self.direct_number, self.email],
                "password": self.password,
            },
        }


def jwt_credential(extension_id: str) -> str:
    """A RingCentral-style JWT credential (the assertion of the JWT bearer grant)."""
    claims = {
        "aud": "/restapi/oauth/token",
        "sub": extension_id,
        "iss": "crm-cti-sandbox",
        "account_id": config.ACCOUNT_ID,
        # Stable iat keeps the credential identical across restarts of the sandbox.
        "iat": 1767225600,
    }
    return jwt.encode(claims, config.JWT_SECRET, algorithm="HS256")


def jwt_subject(assertion: str) -> str | None:
    """The extension id a JWT credential was issued for, or None if it is not ours."""
    try:
        claims = jwt.decode(
            assertion,
            config.JWT_SECRET,
            algorithms=["HS256"],
            audience="/restapi/oauth/token",
            options={"require": ["sub"]},
        )
    except jwt.PyJWTError:
        return None
    return str(claims["sub"])


_EXTRA_FIRST = ["Ava", "Noah", "Mia", "Liam", "Zoe", "Ethan", "Leah", "Owen", "Nora", "Ravi"]
_EXTRA_LAST = ["Turner", "Nguyen", "Okafor", "Larsen", "Moreau", "Tanaka", "Costa", "Haddad"]
# Extra agents are numbered 106..190; 191-195 are the RingOut outcome numbers.
MAX_EXTRA = 85


def _people() -> list[tuple[str, str, str, bool]]:
    """The five seeded people plus ``SANDBOX_EXTRA_EXTENSIONS`` agents (benchmarks)."""
    extra = min(MAX_EXTRA, max(0, int(os.environ.get("SANDBOX_EXTRA_EXTENSIONS", "0") or 0)))
    people = list(_PEOPLE)
    known = {number for number, *_ in people}
    for index in range(extra):
        number = str(106 + index)
        if number in known:
            continue
        first = _EXTRA_FIRST[index % len(_EXTRA_FIRST)]
        last = _EXTRA_LAST[(index // len(_EXTRA_FIRST)) % len(_EXTRA_LAST)]
        people.append((number, first, f"{last}{number}" if index >= 80 else last, False))
    return people


def seed_extensions() -> dict[str, Extension]:
    extensions: dict[str, Extension] = {}
    # Sequences start at different large values, as real ones do, so that a product
    # comparing them across extensions would be caught.
    base = int(time.time()) % 100000 * 10
    for index, (number, first, last, admin) in enumerate(_people()):
        ext_id = f"400000{number}"
        ext = Extension(
            id=ext_id,
            number=number,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@example.com",
            direct_number=f"+165055501{number[-2:]}",
            is_admin=admin,
            password=config.PASSWORD,
            sequence=base + index * 7919,
        )
        ext.jwt = jwt_credential(ext.id)
        extensions[ext.id] = ext
    return extensions


# Call queues (extensions of type Department): number, name, member agents.
_CALL_QUEUES = [
    ("801", "Support queue", ("102", "103", "104")),
    ("802", "Sales queue", ("104", "105")),
]


def seed_call_queues() -> dict[str, Extension]:
    """The account's call queues, keyed by extension id. They are kept apart from the
    users (``state.extensions``): nobody signs in as a queue, and it has no presence."""
    queues: dict[str, Extension] = {}
    for number, name, members in _CALL_QUEUES:
        queue = Extension(id=f"400000{number}", number=number, first_name=name, last_name="",
                          email=f"{name.split()[0].lower()}@example.com",
                          direct_number=f"+1650555{number.zfill(4)}", is_admin=False,
                          password="", kind="Department", members=members)
        queues[queue.id] = queue
    return queues


def seed_other_account() -> dict[str, Extension]:
    """The second account's extensions (``OTHER_ACCOUNT_ID``), keyed by extension id."""
    extensions: dict[str, Extension] = {}
    for number, first, last, admin in _OTHER_PEOPLE:
        ext = Extension(
            id=f"500000{number}",
            number=number,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@other.example.com",
            direct_number=f"+14155550{number}",
            is_admin=admin,
            password=config.PASSWORD,
            account_id=OTHER_ACCOUNT_ID,
        )
        extensions[ext.id] = ext
    return extensions


def other_account_login(extensions: dict[str, Extension], username: str) -> Extension | None:
    """Sign-in name of a second-account user: extension number or email."""
    raw = username.strip().lower()
    for ext in extensions.values():
        if raw in (ext.number, ext.email):
            return ext
    return None
