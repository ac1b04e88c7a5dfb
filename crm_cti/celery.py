"""The Celery application: ``celery -A crm_cti worker`` and ``celery -A crm_cti beat``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_cti.settings")

app = Celery("crm_cti")
# The current app of every thread (the applier's, the web's executor threads), not only of
# the one importing this module: dispatch.py and redis_client.py read celery.current_app.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from crm_cti.telephony.worker_step import TelephonyApplierStep  # noqa: E402

app.steps["worker"].add(TelephonyApplierStep)
