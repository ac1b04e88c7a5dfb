"""``python manage.py rcevents``: the events process of the WebSocket transport.

Run one or more (a second one stands by and takes over within ``EVENTS_LEASE_SECONDS`` when
the first dies). Over the webhook transport it waits and does nothing. In embedded mode the
web process runs it as a thread instead (crm_cti/embedded.py): this command then refuses,
since what it stores must reach the web process's in-memory worker and channel layer.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm_cti.telephony.websocket.runner import events_run


class Command(BaseCommand):
    help = "Hold the RingCentral WebSocket connections (RC_EVENTS_TRANSPORT=websocket)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DISTRIBUTED:
            raise CommandError("embedded mode: the web process runs the events process "
                               "itself; rcevents is for distributed mode (DATABASE_URL and "
                               "REDIS_URL)")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if settings.RC_EVENTS_TRANSPORT != "websocket":
            # A deployment's events service may run whatever the transport (compose does):
            # over the webhook it waits, doing nothing, instead of exiting into a restart loop.
            self.stdout.write("rcevents: RC_EVENTS_TRANSPORT is webhook; nothing to hold, "
                              "waiting (set it to websocket to use the gateway)")
            self.stdout.flush()
            stop.wait()
            return
        self.stdout.write("rcevents: holding WebSocket connections (Ctrl-C stops)")
        self.stdout.flush()
        events_run(stop=stop)
