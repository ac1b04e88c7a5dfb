"""OAuth 2.0: the sign-in page, the token endpoint (four grants) and revocation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import urlencode, urlparse

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from crm_cti.sandbox import config
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import OAuthError
from crm_cti.sandbox.seed import app_scope, app_secret, jwt_subject, other_account_login
from crm_cti.sandbox.state import AuthCode, SandboxState, TokenRecord, now, random_token

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_CALLBACK = re.compile(r"^http://(127\.0\.0\.1|localhost):\d{1,5}/auth/callback/$")
_AUTH_FIELDS = ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method",
                "response_type")


def redirect_allowed(uri: str) -> bool:
    return uri in config.EXTRA_REDIRECT_URIS or bool(_CALLBACK.match(uri))


def token_issue(
    state: SandboxState, *, owner_id: str, client_id: str, grant: str,
    access_ttl: int | None = None, refresh_ttl: int | None = None,
) -> TokenRecord:
    """Create an access/refresh pair. A client may ask for shorter lifetimes, never longer."""
    cfg_access = int(state.config["access_token_ttl"])
    cfg_refresh = int(state.config["refresh_token_ttl"])
    access_life = min(cfg_access, access_ttl) if access_ttl and access_ttl > 0 else cfg_access
    refresh_life = (
        min(cfg_refresh, refresh_ttl) if refresh_ttl and refresh_ttl > 0 else cfg_refresh
    )
    at = now()
    record = TokenRecord(
        access=random_token("U0JYMDFQMDFQQVMwMXxB", 72),
        refresh=random_token("U0JYMDFQMDFQQVMwMXxB", 64) + "UlQ",
        owner_id=owner_id,
        client_id=client_id,
        grant=grant,
        scope=app_scope(client_id),
        created=at,
        access_expires_at=at + access_life,
        refresh_expires_at=at + refresh_life,
        endpoint_id=secrets.token_urlsafe(16),
        session_id=str(secrets.randbelow(10**12)),
    )
    state.tokens.append(record)
    state.by_access[record.access] = record
    state.by_refresh[record.refresh] = record
    key = "jwt" if grant == JWT_GRANT else grant
    state.stats["token_grants"][key] += 1
    return record


def token_body(record: TokenRecord) -> dict[str, Any]:
    at = now()
    return {
        "access_token": record.access,
        "token_type": "bearer",
        "expires_in": max(0, round(record.access_expires_at - at)),
        "refresh_token": record.refresh,
        "refresh_token_expires_in": max(0, round(record.refresh_expires_at - at)),
        "scope": record.scope,
        "owner_id": record.owner_id,
        "endpoint_id": record.endpoint_id,
        "session_id": record.session_id,
    }


def _client_from_basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def client_authenticate(ctx: Ctx) -> str:
    credentials = _client_from_basic(ctx.request.headers.get("authorization", ""))
    if credentials is None:
        raise OAuthError("invalid_client", "OAU-123", "Client authentication is required")
    client_id, secret = credentials
    expected = app_secret(client_id)
    if expected is None or not secrets.compare_digest(secret, expected):
        raise OAuthError("invalid_client", "OAU-153", "Invalid client: " + client_id)
    return client_id


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@operation("POST", "/restapi/oauth/token", authenticated=False)
async def token(ctx: Ctx) -> Response:
    state = ctx.state
    client_id = client_authenticate(ctx)
    form = await ctx.form()
    grant = form.get("grant_type", "")
    ttl = {"access_ttl": _int(form.get("access_token_ttl")),
           "refresh_ttl": _int(form.get("refresh_token_ttl"))}
    if grant == "authorization_code":
        code = state.auth_codes.get(form.get("code", ""))
        ctx.limit(code.owner_id if code else "anonymous", client_id)
        if code is None or code.used or code.expires_at <= now() or code.client_id != client_id:
            if code is not None:
                code.used = True
            raise OAuthError("invalid_grant", "OAU-109", "Authorization code is invalid or expired")
        code.used = True
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError("invalid_grant", "OAU-110", "Redirect URI mismatch")
        if code.code_challenge:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or not secrets.compare_digest(computed, code.code_challenge):
                raise OAuthError("invalid_grant", "OAU-113", "Code verifier is invalid")
        record = token_issue(state, owner_id=code.owner_id, client_id=client_id,
                             grant="authorization_code", **ttl)
    elif grant == "refresh_token":
        old = state.by_refresh.get(form.get("refresh_token", ""))
        ctx.limit(old.owner_id if old else "anonymous", client_id)
        problem = None
        if old is None:
            problem = ("OAU-211", "Token not found")
        elif old.status != "active":
            problem = ("OAU-211", "Token is revoked")
        elif old.refresh_expires_at <= now():
            problem = ("OAU-212", "Refresh token expired")
        elif old.client_id != client_id:
            problem = ("OAU-211", "Token not found")
        if problem:
            state.stats["refresh_failures"] += 1
            raise OAuthError("invalid_grant", *problem)
        # Rotation: the old pair dies as the new one is born.
        old.status = "rotated"
        record = token_issue(state, owner_id=old.owner_id, client_id=client_id,
                             grant="refresh_token", **ttl)
    elif grant == JWT_GRANT:
        subject = jwt_subject(form.get("assertion", ""))
        ctx.limit(subject or "anonymous", client_id)
        if subject is None or subject not in state.extensions:
            raise OAuthError("invalid_grant", "OAU-144", "Invalid JWT assertion")
        record = token_issue(state, owner_id=subject, client_id=client_id, grant=JWT_GRANT, **ttl)
    elif grant == "password":
        username = form.get("username", "")
        ext = state.extension_by_login(username)
        if ext is None and form.get("extension") and username:
            main = "".join(ch for ch in username if ch.isdigit())
            if main in {state.main_number.lstrip("+"), state.main_number[2:]}:
                ext = state.extension_by_number(form["extension"])
        ctx.limit(ext.id if ext else "anonymous", client_id)
        if ext is None or not secrets.compare_digest(form.get("password", ""), ext.password):
            raise OAuthError("invalid_grant", "OAU-140", "Invalid resource owner credentials")
        record = token_issue(state, owner_id=ext.id, client_id=client_id, grant="password", **ttl)
    else:
        ctx.limit("anonymous", client_id)
        raise OAuthError("unsupported_grant_type", "OAU-250", f"Unsupported grant type: {grant}")
    return JSONResponse(token_body(record), headers={"Cache-Control": "no-store",
                                                      "Pragma": "no-cache"})


@operation("POST", "/restapi/oauth/revoke", authenticated=False)
async def revoke(ctx: Ctx) -> Response:
    client_id = client_authenticate(ctx)
    form = await ctx.form()
    value = form.get("token", "")
    record = ctx.state.by_access.get(value) or ctx.state.by_refresh.get(value)
    ctx.limit(record.owner_id if record else "anonymous", client_id)
    if not value:
        raise OAuthError("invalid_request", "OAU-101", "Parameter [token] is missing")
    # RFC 7009: an unknown token is not an error.
    if record is not None and record.status == "active":
        record.status = "revoked"
        ctx.state.stats["revocations"] += 1
    return Response(status_code=200)


def _authorize_params(source: dict[str, str]) -> dict[str, str]:
    return {key: source.get(key, "") for key in _AUTH_FIELDS}


def _authorize_problem(params: dict[str, str]) -> str | None:
    if app_secret(params["client_id"]) is None:
        return "Unknown client_id: the application is not registered."
    if not redirect_allowed(params["redirect_uri"]):
        return "The redirect_uri is not registered for this application."
    if params["code_challenge"] and params["code_challenge_method"] not in ("S256", ""):
        return "Only the S256 code_challenge_method is supported."
    return None


def _redirect_error(params: dict[str, str], error: str, description: str) -> Response:
    query = {"error": error, "error_description": description}
    if params["state"]:
        query["state"] = params["state"]
    return RedirectResponse(params["redirect_uri"] + "?" + urlencode(query), status_code=302)


@operation("GET", "/restapi/oauth/authorize", authenticated=False)
async def authorize_page(ctx: Ctx) -> Response:
    params = _authorize_params(dict(ctx.request.query_params))
    problem = _authorize_problem(params)
    if problem:
        return HTMLResponse(_page(params, error=problem, fatal=True), status_code=400)
    if params["response_type"] != "code":
        return _redirect_error(params, "unsupported_response_type", "Only response_type=code")
    return HTMLResponse(_page(params))


@operation("POST", "/restapi/oauth/authorize", authenticated=False)
async def authorize_submit(ctx: Ctx) -> Response:
    form = await ctx.form()
    params = _authorize_params(form)
    problem = _authorize_problem(params)
    if problem:
        return HTMLResponse(_page(params, error=problem, fatal=True), status_code=400)
    if params["response_type"] != "code":
        return _redirect_error(params, "unsupported_response_type", "Only response_type=code")
    username = form.get("username", "")
    ext = ctx.state.extension_by_login(username) or other_account_login(
        ctx.state.other_account, username
    )
    # The sign-in page is served by the login UI, not the API gateway: it is counted in the
    # stats but does not spend the user's Auth budget (the code exchange does).
    if ext is None or not secrets.compare_digest(form.get("password", ""), ext.password):
        page = _page(params, error="Invalid username or password. Please try again.",
                     username=username)
        return HTMLResponse(page, status_code=200)
    code = AuthCode(
        code=random_token("U0JYMDFQMDFQQVMwMXxBQ", 40),
        owner_id=ext.id,
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        code_challenge=params["code_challenge"] or None,
        expires_at=now() + float(ctx.state.config["auth_code_ttl"]),
    )
    ctx.state.auth_codes[code.code] = code
    query = {"code": code.code}
    if params["state"]:
        query["state"] = params["state"]
    separator = "&" if urlparse(params["redirect_uri"]).query else "?"
    return RedirectResponse(params["redirect_uri"] + separator + urlencode(query),
                            status_code=302)


def _page(params: dict[str, str], *, error: str = "", fatal: bool = False,
          username: str = "") -> str:
    esc = html.escape
    hidden = "\n".join(
        f'<input type="hidden" name="{esc(key)}" value="{esc(value)}">'
        for key, value in params.items()
    )
    error_html = (
        f'<p class="error" role="alert" id="signin-error">{esc(error)}</p>' if error else ""
    )
    form = "" if fatal else f"""
  <form method="post" action="/restapi/oauth/authorize">
    {hidden}
    <label for="username">Phone number, extension or email</label>
    <input id="username" name="username" value="{esc(username)}" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" id="signin">Sign In</button>
  </form>
  <p class="hint">Sandbox accounts: extensions 101&ndash;105, password
  <code>{esc(config.PASSWORD)}</code> (see <a href="/sandbox/">the sandbox console</a>);
  201&ndash;202 belong to another account.</p>"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - RingCentral sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0}}
main{{max-width:360px;margin:8vh auto;background:#fff;padding:2em;border-radius:8px;
box-shadow:0 2px 8px #0002}}
h1{{font-size:1.3em;color:#0073ae}} label{{display:block;margin-top:1em;font-size:.9em}}
input{{width:100%;padding:.5em;box-sizing:border-box}}
button{{margin-top:1.5em;width:100%;padding:.7em;background:#ff8800;color:#fff;border:0;
border-radius:4px;font-size:1em}} .error{{color:#b00020}} .hint{{font-size:.8em;color:#555}}
</style></head>
<body><main>
  <h1>Sign in to RingCentral <small>(sandbox)</small></h1>
  {error_html}{form}
</main></body></html>"""


ROUTES = [authorize_page, authorize_submit, token, revoke]
