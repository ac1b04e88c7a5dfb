"""The Celery application: ``celery -A crm_cti worker`` and ``celery -A crm_cti beat``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_cti.settings")

app = Celery("crm_cti")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from crm_cti.telephony.worker_step import TelephonyApplierStep  # noqa: E402

app.steps["worker"].add(TelephonyApplierStep)
