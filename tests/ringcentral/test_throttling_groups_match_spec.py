"""Every operation the client sends is budgeted in the group the spec gives it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from crm_cti.ringcentral.budget import OPERATION_GROUPS, operation_group

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(
    os.environ.get("RC_OPENAPI_SPEC")
    or ROOT.parent / "shared" / "ringcentral" / "rc-public-openapi.yml"
)


@pytest.fixture(scope="module")
def spec_paths() -> dict:
    if not SPEC.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true and the OpenAPI spec is missing at {SPEC} (RC_OPENAPI_SPEC)")
        pytest.skip(f"the OpenAPI spec is not at {SPEC}: set RC_OPENAPI_SPEC")
    with SPEC.open() as fh:
        return yaml.safe_load(fh)["paths"]


@pytest.mark.parametrize(("method", "template", "group"), OPERATION_GROUPS)
def test_table_row_matches_x_throttling_group(spec_paths, method, template, group):
    operation = spec_paths[template][method.lower()]
    assert operation["x-throttling-group"] == group


@pytest.mark.parametrize(
    ("method", "path", "group"),
    [
        ("GET", "/restapi/v1.0/account/~/extension/~/call-log", "Heavy"),
        ("GET", "/restapi/v1.0/account/~/extension/~", "Light"),
        ("GET", "https://platform.ringcentral.com/restapi/v1.0/account/~/active-calls", "Heavy"),
        ("GET", "https://media.ringcentral.com/restapi/v1.0/account/1/recording/9/content",
         "Heavy"),
        ("POST", "/restapi/v1.0/account/~/extension/~/ringout", "Heavy"),
        ("GET", "/restapi/v1.0/account/~/extension/~/ring-out/77", "Light"),
        ("POST", "/restapi/v1.0/subscription/abc-123/renew", "Light"),
        ("POST", "/restapi/oauth/token", "Auth"),
        ("GET", "/restapi/v1.0/something/unknown", "Heavy"),
    ],
)
def test_concrete_paths_resolve_to_their_group(method, path, group):
    assert operation_group(method, path) == group
