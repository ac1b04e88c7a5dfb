"""The subscription an agent's sign-in asks for is retried with backoff when the platform
answers with an error (here: two 503s on the creation), without waiting for beat's hourly
maintenance (beat is not even running): a short platform hiccup at sign-in no longer leaves
the agent without pops. Real web process, worker and sandbox."""

from __future__ import annotations

import pytest

from crm_cti.telephony.models import Subscription
from tests.resilience.harness import http_sign_in
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_the_signin_subscription_is_retried_after_platform_errors(stack_factory, fresh_sandbox,
                                                                  record_property):
    sandbox = fresh_sandbox
    sandbox.config(rate_limits={"enabled": False}, faults=[
        {"path_contains": "/subscription", "method": "POST", "status": 503, "times": 2},
    ])
    stack = stack_factory({"RC_SERVER_URL": sandbox.url}, beat=False)
    http_sign_in(stack.url, "102")

    wait_until(
        lambda: Subscription.objects.filter(agent__extension_number="102", status="Active")
        .exclude(rc_id="").exists(),
        timeout=90, interval=0.5, what=f"the sign-in's subscription\n{stack.logs()}",
    )
    faults = sandbox.config()["faults"]
    assert faults[0]["applied"] == 2, faults
    sub = Subscription.objects.get(agent__extension_number="102")
    assert sub.last_error == ""
    assert [s["id"] for s in sandbox.subscriptions() if s["status"] == "Active"] == [sub.rc_id]
    record_property("platform_errors_survived", 2)
