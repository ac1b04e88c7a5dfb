from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "crm_cti.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        # Connects the sign-in receivers.
        from crm_cti.dashboard import receivers  # noqa: F401
