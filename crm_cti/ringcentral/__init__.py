"""The RingCentral client package: the only code in crm_cti that talks to RingCentral.

- ``client.RingCentralClient``: typed methods for every endpoint the product uses;
- ``oauth``: authorization code + PKCE, refresh, revoke, JWT bearer (requests-oauthlib);
- ``budget``: the per (user, throttling group) request budget shared by all processes;
- ``errors``: the typed errors every caller handles.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

# requests-oauthlib and oauthlib log request bodies and token responses (access and refresh
# tokens in clear) at DEBUG. Tokens must never reach a log line, whatever LOG_LEVEL says.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def allow_plain_http_to_loopback(server_url: str) -> None:
    """oauthlib refuses http:// endpoints; the bundled sandbox listens on 127.0.0.1 over http.

    Only a loopback server gets the exemption: a non-TLS RingCentral URL anywhere else
    still fails loudly (oauthlib's InsecureTransportError).
    """
    parts = urlsplit(server_url)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
