from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "crm_cti.telephony"
    label = "telephony"
    verbose_name = "Telephony"

    def ready(self) -> None:
        from crm_cti.telephony import receivers  # noqa: F401  (connects the sign-in signals)
