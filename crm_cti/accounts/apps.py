from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "crm_cti.accounts"
    label = "accounts"
    verbose_name = "Agents and sign-in"
