from django.urls import path

from crm_cti.ops import pages

app_name = "ops"

urlpatterns = [
    path("", pages.operations, name="operations"),
]
