"""Agents signed in for real against the sandbox, without a browser."""

from __future__ import annotations

from typing import Any

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import agent_upsert_from_extension, phone_numbers_from_records
from crm_cti.ringcentral.client import RingCentralClient, StaticToken
from crm_cti.ringcentral.oauth import jwt_bearer_tokens


def agent_sign_in(sandbox: Any, extension_number: str) -> Agent:
    """Sign an agent in with the extension's JWT credential (no browser needed here: the
    browser sign-in is the accounts domain's test). ``settings.RC_SERVER_URL`` must be the
    sandbox's."""
    tokens = jwt_bearer_tokens(assertion=sandbox.user(extension_number)["jwt"])
    client = RingCentralClient(StaticToken(tokens.access_token, user_key=""))
    try:
        extension = client.get_extension()
        numbers = phone_numbers_from_records(client.list_phone_numbers().get("records", []))
    finally:
        client.close()
    agent, _ = agent_upsert_from_extension(extension=extension, phone_numbers=numbers,
                                           tokens=tokens)
    return agent
