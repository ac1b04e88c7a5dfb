from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "crm_cti.sandbox"
    label = "sandbox"
    verbose_name = "RingCentral sandbox"
