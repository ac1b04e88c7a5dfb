"""URL routes. Each domain keeps its own ``urls.py``; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path

from crm_cti.ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("auth/", include("crm_cti.accounts.urls")),
    path("contacts/", include("crm_cti.crm.urls")),
    path("ops/", include("crm_cti.ops.urls")),
    path("reports/", include("crm_cti.reports.urls")),
    path("webhooks/", include("crm_cti.telephony.urls")),
    path("api/", include("crm_cti.dashboard.api_urls")),
    # /messages/, /voicemail/, /followups/.
    path("", include("crm_cti.messaging.urls")),
    # The dashboard owns "/" and "/calls/...": mounted last so it shadows nothing.
    path("", include("crm_cti.dashboard.urls")),
]
