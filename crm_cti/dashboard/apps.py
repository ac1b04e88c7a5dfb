from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "crm_cti.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
