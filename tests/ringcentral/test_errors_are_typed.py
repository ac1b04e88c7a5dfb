"""Every failure reaches callers as a typed error; idempotent requests are retried on 5xx and
connection errors only, creating requests never; every request has a timeout."""

from __future__ import annotations

import pytest

from crm_cti.ringcentral.client import RingCentralClient
from crm_cti.ringcentral.errors import (
    BadRequest,
    NotFound,
    PermissionDenied,
    PlatformUnavailable,
    ServerError,
)
from tests.support.stack import free_port


def applied(rc, index: int = 0) -> int:
    return int(rc.config()["faults"][index].get("applied", 0))


def test_not_found(rc, rc_client):
    with pytest.raises(NotFound) as error:
        rc_client.get_call_log_record("NoSuchRecord")
    assert error.value.status == 404


def test_permission_denied_names_the_permission(rc, rc_client):
    # Account-level active calls need an admin; 102 is not one.
    with pytest.raises(PermissionDenied) as error:
        rc_client.list_active_calls(account_level=True)
    assert error.value.status == 403
    assert error.value.permission_name


def test_bad_request_carries_the_platform_message(rc, rc_client):
    with pytest.raises(BadRequest) as error:
        rc_client.send_sms(from_number="+19998887777", to_numbers=["+16505550103"], text="hi")
    assert error.value.status == 400
    assert error.value.message and "HTTP 400" not in error.value.message


def test_get_is_retried_through_transient_5xx(rc, rc_client, settings):
    rc.config(faults=[{"method": "GET", "path_contains": "/call-log", "status": 503, "times": 2}])
    assert "records" in rc_client.list_call_log()
    assert applied(rc) == 2


def test_get_gives_up_with_server_error_after_the_retries(rc, rc_client, settings):
    rc.config(faults=[{"method": "GET", "path_contains": "/call-log", "status": 500}])
    with pytest.raises(ServerError) as error:
        rc_client.list_call_log()
    assert error.value.status == 500
    assert applied(rc) == 1 + settings.RC_MAX_RETRIES


def test_a_creating_post_is_never_repeated(rc, rc_client):
    rc.config(faults=[{"method": "POST", "path_contains": "/ring-out", "status": 503}])
    with pytest.raises(ServerError):
        rc_client.create_ringout(from_number="+16505550102", to_number="+16505550103")
    assert applied(rc) == 1


def test_client_errors_are_not_retried(rc, rc_client):
    rc.config(faults=[{"method": "GET", "path_contains": "/call-log", "status": 404}])
    with pytest.raises(NotFound):
        rc_client.list_call_log()
    assert applied(rc) == 1


def test_a_slow_platform_times_out(rc, signed_in_agent, settings):
    from crm_cti.accounts.services import agent_token_source

    rc.config(faults=[{"method": "GET", "path_contains": "/call-log", "delay": 2.0}])
    client = RingCentralClient(agent_token_source(signed_in_agent), timeout=0.3, max_retries=1)
    with pytest.raises(PlatformUnavailable):
        client.list_call_log()
    assert applied(rc) == 2  # the first try and its one retry


def test_nothing_listening_is_platform_unavailable(rc, signed_in_agent, settings):
    from crm_cti.accounts.services import client_for_agent

    client = client_for_agent(signed_in_agent)
    client.server_url = f"http://127.0.0.1:{free_port()}"
    client.backoff_seconds = 0.01
    with pytest.raises(PlatformUnavailable):
        client.get_extension()
