from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm_cti.crm"
    label = "crm"
    verbose_name = "Contacts"
