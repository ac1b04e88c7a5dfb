"""crm_cti: a CRM screen-pop for teams whose phones run on RingCentral."""

from .celery import app as celery_app

__all__ = ("celery_app",)
