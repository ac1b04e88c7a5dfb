"""Mounted at ``/api/``."""

from django.urls import path

from crm_cti.dashboard import api, callcontrol_api

app_name = "api"

urlpatterns = [
    path("calls/live/", api.calls_live_view, name="calls_live"),
    path("ringout/", api.ringout_create_view, name="ringout"),
    path("ringout/<int:ringout_id>/", api.ringout_detail_view, name="ringout_detail"),
    path("calls/<int:call_id>/control/<slug:action>/", callcontrol_api.call_control_view,
         name="call_control"),
    path("callcontrol/devices/", callcontrol_api.devices_view, name="callcontrol_devices"),
    path("callcontrol/choices/", callcontrol_api.choices_view,
         name="callcontrol_choices"),
    path("callout/", callcontrol_api.callout_view, name="callout"),
]
