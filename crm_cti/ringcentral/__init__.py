"""The RingCentral client package: the only code in crm_cti that talks to RingCentral.

- ``client.RingCentralClient``: typed methods for every endpoint the product uses;
- ``oauth``: authorization code + PKCE, refresh, revoke, JWT bearer (requests-oauthlib);
- ``budget``: the per (user, throttling group) request budget shared by all processes;
- ``websocket``: the WebSocket gateway (wstoken, connection, ClientRequest subscriptions);
- ``errors``: the typed errors every caller handles.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

# requests-oauthlib and oauthlib log request bodies and token responses (access and refresh
# tokens in clear) at DEBUG. Tokens must never reach a log line, whatever LOG_LEVEL says.
# The websockets library logs the handshake request at DEBUG: the gateway URL carries the
# wstoken (access_token=...).
for _name in ("requests_oauthlib", "oauthlib", "websockets"):
    logging.getLogger(_name).setLevel(logging.WARNING)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def plain_http_host(host: str) -> bool:
    """Whether ``host`` may be spoken to over plain HTTP: loopback, or one of
    ``RC_SANDBOX_HOSTS`` (the bundled sandbox under another name, docker-compose's
    ``sandbox`` service). RingCentral itself is only served over HTTPS."""
    from django.conf import settings

    host = (host or "").lower()
    sandbox_hosts = {h.strip().lower() for h in getattr(settings, "RC_SANDBOX_HOSTS", [])}
    return host in LOOPBACK_HOSTS or host in sandbox_hosts


def allow_plain_http_to_loopback(server_url: str) -> None:
    """oauthlib refuses http:// endpoints; the bundled sandbox listens on 127.0.0.1 over http.

    Only the sandbox gets the exemption (``plain_http_host``): a non-TLS RingCentral URL
    anywhere else still fails loudly (oauthlib's InsecureTransportError).
    """
    parts = urlsplit(server_url)
    if parts.scheme == "http" and plain_http_host(parts.hostname or ""):
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
