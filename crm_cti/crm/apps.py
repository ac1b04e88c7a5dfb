from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm_cti.crm"
    label = "crm"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # Registers the tasks started by name (importing.CONTACT_IMPORT_TASK) in every
        # process, the web's included.
        from crm_cti.crm import tasks  # noqa: F401
