"""One rule (``accounts.permissions``) says whether a token's scope has a permission: the
call-control buttons and the subscription's telephony-session filter never disagree, for
whatever scope string the token was stored with."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.telephony.services.callcontrol import callcontrol_allowed
from crm_cti.telephony.services.subscriptions import (
    EXTENSION_SESSIONS_FILTER,
    event_filters_wanted,
)
from tests.support.agents import agent_sign_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.mark.parametrize(("scope", "granted"), [
    ("ReadAccounts CallControl ReadPresence", True),
    ("ReadAccounts,CallControl,ReadPresence", True),
    ("ReadAccounts ReadPresence", False),
    ("CallControlX ReadPresence", False),
    ("", False),
])
def test_buttons_and_subscription_agree_on_the_scope(fresh_sandbox, settings, db, scope,
                                                     granted) -> None:
    settings.RC_SERVER_URL = fresh_sandbox.url
    agent = agent_sign_in(fresh_sandbox, "102")
    RingCentralToken.objects.filter(agent=agent).update(scope=scope)
    agent.refresh_from_db()
    filters = event_filters_wanted(agent=agent, client=client_for_agent(agent))
    assert callcontrol_allowed(agent) is granted
    assert (EXTENSION_SESSIONS_FILTER in filters) is granted
