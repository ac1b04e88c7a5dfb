from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "crm_cti.accounts"
    label = "accounts"
    verbose_name = "Agents and sign-in"

    def ready(self) -> None:
        from crm_cti.accounts import sessions  # noqa: F401 - connects user_logged_in
        from crm_cti.accounts.admin_access import admin_group_on_migrate

        post_migrate.connect(admin_group_on_migrate, dispatch_uid="accounts.admin_group")
