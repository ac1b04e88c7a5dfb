"""Settings for the test run: the product's own, given keys the way a deployment is.

Distributed mode refuses to start without a shared ``SECRET_KEY``, ``TOKEN_ENCRYPTION_KEY``
and ``RC_ACCOUNT_ID`` (crm_cti/keys.py). The tests are such a deployment: keys generated
once per run are put in the environment before the product settings read it, so every web
process, worker and beat a fixture starts inherits the same ones (tests/support/stack.py
also passes them explicitly). The account is the sandbox's main one, as in the demo.
Nothing here changes a setting's meaning; a value given by the caller wins.
"""

from __future__ import annotations

import os
import secrets

from cryptography.fernet import Fernet

from crm_cti.sandbox.config import ACCOUNT_ID

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
os.environ.setdefault("RC_ACCOUNT_ID", ACCOUNT_ID)


def _run_isolation() -> None:
    """Runs on one machine share its Redis: each run, and each pytest-xdist worker of one,
    gets a Celery queue (hence deployment keys and cache keys), a channel-layer prefix and a
    rate-budget prefix of its own (every run's agents are the sandbox's same users),
    inherited by every process its fixtures start. A caller's own choice stays; a worker
    replaces what its controller set (xdist workers inherit its environment)."""
    owner = os.environ.get("CRM_CTI_TEST_RUN_OWNER")
    if owner is None and ("CELERY_QUEUE" in os.environ or "CHANNELS_PREFIX" in os.environ):
        return
    me = str(os.getpid())
    if owner != me:
        os.environ.update(CRM_CTI_TEST_RUN_OWNER=me, CELERY_QUEUE=f"test{me}",
                          CHANNELS_PREFIX=f"crm_cti_test{me}",
                          RC_BUDGET_KEY_PREFIX=f"crm_cti_test{me}:rc-budget")


_run_isolation()

from crm_cti.settings import *  # noqa: E402, F403
