from django.urls import path

from crm_cti.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.reports_view, name="reports"),
    path("<slug:table>.csv", views.reports_csv, name="reports_csv"),
]
