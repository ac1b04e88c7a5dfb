
from tests.accounts.signin_helpers import rc  # noqa: F401 - fixture
from tests.support.people import (  # noqa: F401 - fixtures
    admin_agent,
    admin_client_agent,
    agent,
    agent_client,
    eager_tasks,
    other_agent,
    plain_http,
)
