from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "crm_cti.reports"
    label = "reports"
    verbose_name = "Reports"
