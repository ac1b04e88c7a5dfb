"""The grace a NoCall for a call that only rang gets before the call counts as missed
(``CALL_MISSED_GRACE_SECONDS``), in replay tests: short, and passed on demand by running what
the delayed check and the events sweep run (replays run Celery eagerly, which cannot delay
the check)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from crm_cti.telephony.services import events

SHORT_GRACE_SECONDS = 0.05


@pytest.fixture
def short_grace(settings) -> float:
    settings.CALL_MISSED_GRACE_SECONDS = SHORT_GRACE_SECONDS
    return SHORT_GRACE_SECONDS


def grace_pass() -> None:
    """Let every pending NoCall's grace run out, then end the calls nothing carried on."""
    time.sleep(settings.CALL_MISSED_GRACE_SECONDS + 0.02)
    events.calls_missed_end()
