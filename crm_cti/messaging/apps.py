from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "crm_cti.messaging"
    label = "messaging"
    verbose_name = "Messages and follow-ups"

    def ready(self) -> None:
        # The tasks started by name (dispatch.MESSAGE_*) and the hooks on telephony's
        # signals and calls (receivers.py) must exist in every process.
        from crm_cti.messaging import receivers, tasks  # noqa: F401
