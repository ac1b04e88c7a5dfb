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

from crm_cti.settings import *  # noqa: F403
