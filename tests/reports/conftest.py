import pytest

from tests.support.people import (  # noqa: F401 - fixtures
    admin_agent,
    admin_client_agent,
    agent,
    agent_client,
    eager_tasks,
    other_agent,
)


@pytest.fixture(autouse=True)
def plain_http(settings):
    """Django's test client speaks plain HTTP; distributed mode (DEBUG off) would redirect
    every request to HTTPS."""
    settings.SECURE_SSL_REDIRECT = False
