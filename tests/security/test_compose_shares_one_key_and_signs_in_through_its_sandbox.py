"""docker-compose.yml gives web, worker and beat one shared ``SECRET_KEY`` and
``TOKEN_ENCRYPTION_KEY`` with no default to fall back on, and sign-in through its sandbox
works: the containers reach the sandbox by a name that is not loopback (``sandbox``), which
answered 500 before (oauthlib refuses plain HTTP, the client refused to send tokens there),
and the browser reaches it at another address (``localhost:8900``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from tests.foundation.helpers import ROOT
from tests.security.test_signout_ends_every_session_and_socket import browser_signed_in
from tests.support.stack import start_live_app

APP = ("web", "worker", "beat", "migrate")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_one_shared_key_and_no_default_to_fall_back_on():
    services = compose()["services"]
    for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEY"):
        values = {services[s]["environment"][name] for s in APP}
        assert len(values) == 1, f"{name} differs between services: {values}"
        (value,) = values
        # ${NAME:?message}: compose stops when it is unset or empty; never a default.
        assert value.startswith("${" + name + ":?"), value
    assert "change-me" not in (ROOT / "docker-compose.yml").read_text()


def test_the_app_is_pointed_at_the_sandbox_by_name_and_serves_one_account():
    env = compose()["services"]["web"]["environment"]
    server = env["RC_SERVER_URL"].split(":-", 1)[1].rstrip("}")
    assert urlsplit(server).hostname == "sandbox"
    assert env["RC_SANDBOX_HOSTS"] == "sandbox"
    authorize = env["RC_AUTHORIZE_URL"].split("-", 1)[1].rstrip("}")
    published = compose()["services"]["sandbox"]["ports"][0].split(":")[0]
    assert urlsplit(authorize).hostname == "localhost" and urlsplit(authorize).port == int(
        published)
    assert env["RC_ACCOUNT_ID"] == "${RC_ACCOUNT_ID:-400000001}"


@pytest.mark.django_db(transaction=True)
def test_signin_through_a_sandbox_known_by_another_name(rc, tmp_path, monkeypatch):
    port = urlsplit(rc.url).port
    # A fresh process, as a container is: nothing exempts plain HTTP beforehand.
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    # 127.1 is 127.0.0.1 written short: a host name that is not a loopback name, as
    # compose's "sandbox" is. The browser meanwhile uses localhost, as on the compose host.
    app = start_live_app(name="compose_like_web", extra_env={
        "RC_SERVER_URL": f"http://127.1:{port}",
        "RC_SANDBOX_HOSTS": "127.1",
        "RC_AUTHORIZE_URL": f"http://localhost:{port}/restapi/oauth/authorize",
        "VAR_DIR": str(tmp_path),
    })
    try:
        http = browser_signed_in(app.url, "102", authorize_prefix=f"http://localhost:{port}/")
        page = http.get(app.url + "/contacts/", allow_redirects=False, timeout=10)
        assert page.status_code == 200
        # Its REST calls went to the sandbox under the other name, with the token.
        assert any(t["owner_id"] == "400000102" and t["status"] == "active"
                   for t in rc.tokens())
    finally:
        app.process.stop()
