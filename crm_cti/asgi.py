"""ASGI entry point: HTTP through Django (webhook deliveries through a faster route of
their own), ``/ws/...`` through Channels consumers.

Run with ``uvicorn crm_cti.asgi:application``. In embedded mode the lifespan start-up
launches the in-process Celery worker and beat (see crm_cti/embedded.py).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_cti.settings")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: consumers import models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from crm_cti.routing import websocket_urlpatterns  # noqa: E402
from crm_cti.telephony.webhook.asgi import webhook_fast_path  # noqa: E402


async def lifespan(scope, receive, send) -> None:
    """Start embedded workers with the server, and stop them with it."""
    from asgiref.sync import sync_to_async

    from crm_cti.embedded import start_embedded_workers, stop_embedded_workers

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await sync_to_async(start_embedded_workers, thread_sensitive=False)()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await sync_to_async(stop_embedded_workers, thread_sensitive=False)()
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        # Webhook deliveries are answered before Django (crm_cti/telephony/webhook/asgi.py).
        "http": webhook_fast_path(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
        "lifespan": lifespan,
    }
)
