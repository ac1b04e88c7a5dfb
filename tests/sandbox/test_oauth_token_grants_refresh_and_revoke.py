"""Token endpoint: JWT and password grants, refresh rotation, revocation, 401 bodies."""

import hashlib
import time

import httpx

from tests.support.sandbox import JWT_GRANT, SandboxProcess


def _token(sandbox: SandboxProcess, **data: str) -> httpx.Response:
    return httpx.post(sandbox.url + "/restapi/oauth/token", data=data,
                      auth=(sandbox.client_id, sandbox.client_secret))


def _me(sandbox: SandboxProcess, access: str) -> httpx.Response:
    return httpx.get(sandbox.url + "/restapi/v1.0/account/~/extension/~",
                     headers={"Authorization": f"Bearer {access}"})


def test_jwt_and_password_grants(fresh_sandbox: SandboxProcess) -> None:
    jwt = fresh_sandbox.user("104")["jwt"]
    by_jwt = _token(fresh_sandbox, grant_type=JWT_GRANT, assertion=jwt).json()
    assert by_jwt["owner_id"] == "400000104" and by_jwt["session_id"]
    by_password = _token(fresh_sandbox, grant_type="password", username="104",
                         password="ringcentral").json()
    assert by_password["owner_id"] == "400000104"
    assert by_password["access_token"] != by_jwt["access_token"]
    # The legacy form: main number plus extension.
    legacy = _token(fresh_sandbox, grant_type="password", username="+16505550100",
                    extension="105", password="ringcentral").json()
    assert legacy["owner_id"] == "400000105"
    grants = fresh_sandbox.stats()["token_grants"]
    assert grants["jwt"] == 1 and grants["password"] == 2


def test_bad_credentials(fresh_sandbox: SandboxProcess) -> None:
    bad_jwt = _token(fresh_sandbox, grant_type=JWT_GRANT, assertion="a.b.c")
    assert bad_jwt.status_code == 400 and bad_jwt.json()["error"] == "invalid_grant"
    bad_password = _token(fresh_sandbox, grant_type="password", username="102", password="x")
    assert bad_password.json()["errors"][0]["errorCode"] == "OAU-140"
    unsupported = _token(fresh_sandbox, grant_type="client_credentials")
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_and_the_old_refresh_token_dies(fresh_sandbox: SandboxProcess) -> None:
    first = fresh_sandbox.token("102")
    second = _token(fresh_sandbox, grant_type="refresh_token",
                    refresh_token=first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    replay = _token(fresh_sandbox, grant_type="refresh_token",
                    refresh_token=first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert _me(fresh_sandbox, first["access_token"]).status_code == 401
    assert _me(fresh_sandbox, second.json()["access_token"]).status_code == 200
    statuses = {t["refresh_sha256"]: t["status"] for t in fresh_sandbox.tokens()}
    assert statuses[hashlib.sha256(first["refresh_token"].encode()).hexdigest()] == "rotated"
    stats = fresh_sandbox.stats()
    assert stats["token_grants"]["refresh_token"] == 1 and stats["refresh_failures"] == 1


def test_tokens_listing_never_shows_token_strings(fresh_sandbox: SandboxProcess) -> None:
    token = fresh_sandbox.token("102")
    listing = fresh_sandbox.http.get("/sandbox/tokens").text
    assert token["access_token"] not in listing and token["refresh_token"] not in listing
    assert hashlib.sha256(token["access_token"].encode()).hexdigest() in listing


def test_expired_access_token_gets_the_platform_401(fresh_sandbox: SandboxProcess) -> None:
    fresh_sandbox.config(access_token_ttl=1)
    token = fresh_sandbox.token("102")
    assert token["expires_in"] == 1
    time.sleep(1.2)
    response = _me(fresh_sandbox, token["access_token"])
    assert response.status_code == 401
    body = response.json()
    assert body["errorCode"] == "TokenInvalid" and body["message"] == "Access token expired"
    assert body["errors"][0]["errorCode"] == "OAU-213"
    assert [t["status"] for t in fresh_sandbox.tokens()] == ["expired"]
    refreshed = _token(fresh_sandbox, grant_type="refresh_token",
                       refresh_token=token["refresh_token"])
    assert refreshed.status_code == 200


def test_refresh_token_expiry(fresh_sandbox: SandboxProcess) -> None:
    fresh_sandbox.config(refresh_token_ttl=1)
    token = fresh_sandbox.token("102")
    time.sleep(1.2)
    response = _token(fresh_sandbox, grant_type="refresh_token",
                      refresh_token=token["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_revoke_kills_access_and_refresh(fresh_sandbox: SandboxProcess) -> None:
    token = fresh_sandbox.token("102")
    revoked = httpx.post(fresh_sandbox.url + "/restapi/oauth/revoke",
                         data={"token": token["access_token"]},
                         auth=(fresh_sandbox.client_id, fresh_sandbox.client_secret))
    assert revoked.status_code == 200
    response = _me(fresh_sandbox, token["access_token"])
    assert response.status_code == 401
    assert response.json()["message"] == "Token is revoked"
    assert _token(fresh_sandbox, grant_type="refresh_token",
                  refresh_token=token["refresh_token"]).status_code == 400
    assert fresh_sandbox.stats()["revocations"] == 1
    assert fresh_sandbox.tokens()[0]["status"] == "revoked"


def test_unknown_and_missing_tokens(fresh_sandbox: SandboxProcess) -> None:
    unknown = _me(fresh_sandbox, "nonsense")
    assert unknown.status_code == 401
    assert unknown.json()["errors"][0]["errorCode"] == "OAU-213"
    missing = httpx.get(fresh_sandbox.url + "/restapi/v1.0/account/~/extension/~")
    assert missing.status_code == 401 and missing.json()["errorCode"] == "TokenInvalid"


def test_revoke_needs_a_token_and_client_auth(fresh_sandbox: SandboxProcess) -> None:
    url = fresh_sandbox.url + "/restapi/oauth/revoke"
    no_token = httpx.post(url, data={}, auth=(fresh_sandbox.client_id,
                                             fresh_sandbox.client_secret))
    assert no_token.status_code == 400 and no_token.json()["error"] == "invalid_request"
    no_client = httpx.post(url, data={"token": "x"})
    assert no_client.status_code == 400 and no_client.json()["error"] == "invalid_client"
    unknown = httpx.post(url, data={"token": "unknown"},
                         auth=(fresh_sandbox.client_id, fresh_sandbox.client_secret))
    assert unknown.status_code == 200
