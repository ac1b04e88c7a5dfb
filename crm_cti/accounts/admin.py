from django.contrib import admin

from crm_cti.accounts.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "extension_number", "email", "is_admin", "needs_signin", "updated_at")
    list_filter = ("is_admin", "needs_signin")
    search_fields = ("name", "email", "extension_number", "rc_extension_id")
    # Identity comes from RingCentral at each sign-in; editing it here would be overwritten.
    readonly_fields = (
        "user", "rc_account_id", "rc_extension_id", "extension_number", "name", "email",
        "phone_numbers", "is_admin", "created_at", "updated_at",
    )
