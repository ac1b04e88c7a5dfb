"""Mounted at ``/webhooks/``."""

from django.urls import path

from crm_cti.telephony.webhook import views

app_name = "telephony"

urlpatterns = [
    path("ringcentral/", views.ringcentral_webhook, name="ringcentral_webhook"),
]
