"""Mounted at ``/api/``."""

from django.urls import path

from crm_cti.dashboard import api

app_name = "api"

urlpatterns = [
    path("calls/live/", api.calls_live_view, name="calls_live"),
    path("ringout/", api.ringout_create_view, name="ringout"),
    path("ringout/<int:ringout_id>/", api.ringout_detail_view, name="ringout_detail"),
]
