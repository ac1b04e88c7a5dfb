"""WebSocket routes. Each domain adds its consumers here."""

from __future__ import annotations

from django.urls import path

from crm_cti.dashboard.consumers import AgentConsumer
from crm_cti.ops.consumers import HealthConsumer

websocket_urlpatterns = [
    path("ws/healthz/", HealthConsumer.as_asgi()),
    path("ws/agent/", AgentConsumer.as_asgi()),
]
