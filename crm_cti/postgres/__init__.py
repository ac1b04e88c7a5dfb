"""Django's PostgreSQL backend, with a pool whose health check skips connections handed
back a moment ago (``ENGINE = "crm_cti.postgres"``, set by settings.py when pooling)."""
