import pytest

from tests.accounts.signin_helpers import rc, sign_in  # noqa: F401 - fixture


@pytest.fixture
def signed_in_agent(rc, client, db):  # noqa: F811 - rc is the fixture above
    """Agent 102, signed in through the real flow (the token comes from the sandbox)."""
    from crm_cti.accounts.models import Agent

    assert sign_in(client, username="102").status_code == 302
    return Agent.objects.get(rc_extension_id="400000102")


@pytest.fixture
def rc_client(signed_in_agent):
    from crm_cti.accounts.services import client_for_agent

    client = client_for_agent(signed_in_agent)
    yield client
    client.close()
