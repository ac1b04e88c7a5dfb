import pytest

from tests.support.people import (  # noqa: F401 - fixtures
    admin_agent,
    admin_client_agent,
    agent,
    agent_client,
    eager_tasks,
    other_agent,
    plain_http,
)


@pytest.fixture
def new_york(settings):
    """The hand-built week's zone (tests/reports/calls.py)."""
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def week(new_york, agent, other_agent):  # noqa: F811 - the fixtures above
    from tests.reports.calls import week_of_calls

    return week_of_calls(agent, other_agent)
