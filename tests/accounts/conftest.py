from tests.accounts.signin_helpers import rc  # noqa: F401 - fixture
