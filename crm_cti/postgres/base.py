"""``crm_cti.postgres``: Django's PostgreSQL backend with the pool's check of db_pool.py.

Django builds its psycopg pool with either psycopg_pool's own check (an empty query on
every checkout when ``CONN_HEALTH_CHECKS`` is on) or none, and takes no other; the webhook
checks a connection out for every delivery, so the pool is built here instead, as Django
builds it (django/db/backends/postgresql/base.py, 5.2) but with ``db_pool.connection_check``
and ``db_pool.connection_returned``. Everything else is Django's backend unchanged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base

from crm_cti.db_pool import connection_check, connection_returned


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> Any:
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django: it sets the mode later on
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=connection_check,
                reset=connection_returned,
                **({} if pool_options is True else pool_options),
            )
            # As Django: the first pool made wins when threads race at start-up.
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
