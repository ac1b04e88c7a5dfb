from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "crm_cti.telephony"
    label = "telephony"
    verbose_name = "Telephony"

    def ready(self) -> None:
        # receivers: connects the sign-in signals; tasks: registers the tasks dispatch.py
        # starts by name, in every process (the web's included).
        from crm_cti.telephony import receivers, tasks  # noqa: F401
