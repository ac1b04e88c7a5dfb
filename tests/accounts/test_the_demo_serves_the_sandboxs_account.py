"""``manage.py demo`` sets ``RC_ACCOUNT_ID`` to the sandbox's account it starts: the seeded
users sign in, the sandbox's second account does not."""

from __future__ import annotations

import requests

from tests.accounts.signin_helpers import authorize_in_sandbox
from tests.foundation.helpers import demo_running


def _sign_in(url: str, username: str) -> requests.Response:
    http = requests.Session()
    start = http.get(url + "/auth/start/?next=/", allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text[:300]
    callback = authorize_in_sandbox(start.headers["Location"], username=username)
    return http.get(callback, allow_redirects=False, timeout=30)


def test_the_demo_lets_only_the_sandboxs_account_in(tmp_path):
    with demo_running(tmp_path) as url:
        welcome = _sign_in(url, "102")
        assert welcome.status_code == 302 and welcome.headers["Location"] == "/"
        refused = _sign_in(url, "201")
        assert refused.status_code == 403
        assert "This RingCentral account cannot use crm_cti" in refused.text
