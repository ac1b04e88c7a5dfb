from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "crm_cti.ops"
    label = "ops"
    verbose_name = "Operations"
