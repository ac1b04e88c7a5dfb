"""RingCentral's OpenAPI spec: throttling groups per operation, response schemas for tests.

The spec is read from ``RC_OPENAPI_SPEC`` (default: ``../shared/ringcentral/
rc-public-openapi.yml`` next to the repository). It is never copied into the repository;
without it the sandbox falls back to ``FALLBACK_GROUPS``, a table generated from the spec
for the operations implemented here and kept equal to it by a test.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "ringcentral" / "rc-public-openapi.yml"

_A = "/restapi/v1.0/account/{accountId}"
_E = _A + "/extension/{extensionId}"

# (method, path template) -> x-throttling-group, for every operation the sandbox serves.
FALLBACK_GROUPS: dict[tuple[str, str], str] = {
    ("GET", "/restapi/oauth/authorize"): "Auth",
    ("POST", "/restapi/oauth/authorize"): "Auth",
    ("POST", "/restapi/oauth/token"): "Auth",
    ("POST", "/restapi/oauth/revoke"): "Auth",
    ("POST", "/restapi/oauth/wstoken"): "Auth",
    ("GET", _A): "Light",
    ("GET", _E): "Light",
    ("GET", _E + "/phone-number"): "Light",
    ("GET", _A + "/presence"): "Heavy",
    ("GET", _E + "/presence"): "Light",
    ("GET", _A + "/active-calls"): "Heavy",
    ("GET", _E + "/active-calls"): "Heavy",
    ("GET", _A + "/call-log"): "Heavy",
    ("GET", _A + "/call-log/{callRecordId}"): "Heavy",
    ("GET", _E + "/call-log"): "Heavy",
    ("GET", _E + "/call-log/{callRecordId}"): "Heavy",
    ("GET", _A + "/recording/{recordingId}"): "Heavy",
    ("GET", _A + "/recording/{recordingId}/content"): "Heavy",
    ("POST", _E + "/ring-out"): "Heavy",
    ("GET", _E + "/ring-out/{ringoutId}"): "Light",
    ("DELETE", _E + "/ring-out/{ringoutId}"): "Heavy",
    ("POST", _E + "/sms"): "Medium",
    ("POST", _E + "/company-pager"): "Medium",
    ("GET", _E + "/message-store"): "Light",
    ("GET", _E + "/message-store/{messageId}"): "Light",
    ("PUT", _E + "/message-store/{messageId}"): "Medium",
    ("PATCH", _E + "/message-store/{messageId}"): "Medium",
    ("DELETE", _E + "/message-store/{messageId}"): "Medium",
    ("GET", _E + "/message-store/{messageId}/content/{attachmentId}"): "Medium",
    ("GET", _E + "/message-sync"): "Light",
    ("GET", "/restapi/v1.0/subscription"): "Light",
    ("POST", "/restapi/v1.0/subscription"): "Medium",
    ("GET", "/restapi/v1.0/subscription/{subscriptionId}"): "Light",
    ("PUT", "/restapi/v1.0/subscription/{subscriptionId}"): "Medium",
    ("DELETE", "/restapi/v1.0/subscription/{subscriptionId}"): "Medium",
    ("POST", "/restapi/v1.0/subscription/{subscriptionId}/renew"): "Light",
}

# The tutorial's spelling of RingOut is not in the spec; it shares the current one's groups.
ALIASES = {
    _E + "/ringout": _E + "/ring-out",
    _E + "/ringout/{ringoutId}": _E + "/ring-out/{ringoutId}",
}


def spec_path() -> Path:
    raw = os.environ.get("RC_OPENAPI_SPEC")
    if not raw:
        return DEFAULT_SPEC
    path = Path(raw)
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


@functools.cache
def load_spec(path: str | None = None) -> dict[str, Any] | None:
    """The parsed spec, or None when the file is absent."""
    target = Path(path) if path else spec_path()
    if not target.is_file():
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with target.open("rb") as handle:
        return yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader


def groups_from_spec(spec: dict[str, Any]) -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for template, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("x-throttling-group"):
                index[(method.upper(), template)] = operation["x-throttling-group"]
    return index


def throttling_index() -> tuple[dict[tuple[str, str], str], str]:
    """(index, source): from the spec when present, else the fallback table."""
    spec = load_spec()
    if spec is None:
        log.warning("OpenAPI spec not found at %s: using the built-in throttling table",
                    spec_path())
        return dict(FALLBACK_GROUPS), "builtin"
    index = groups_from_spec(spec)
    for key, group in FALLBACK_GROUPS.items():
        index.setdefault(key, group)
    return index, str(spec_path())


def group_for(index: dict[tuple[str, str], str], method: str, template: str) -> str | None:
    template = ALIASES.get(template.split("?")[0], template)
    if method == "HEAD":
        method = "GET"
    return index.get((method, template))


def response_schema(
    spec: dict[str, Any], method: str, template: str, status: int,
    content_type: str = "application/json",
) -> dict[str, Any] | None:
    """The JSON schema of one operation's response, with the spec's components attached so
    that ``#/components/...`` references resolve."""
    template = ALIASES.get(template, template)
    operation = spec["paths"][template][method.lower()]
    response = operation.get("responses", {}).get(str(status))
    if response is None:
        return None
    if "$ref" in response:
        response = _pointer(spec, response["$ref"])
    media = response.get("content", {}).get(content_type)
    if not media or "schema" not in media:
        return None
    return {**media["schema"], "components": spec["components"]}


def _pointer(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node
