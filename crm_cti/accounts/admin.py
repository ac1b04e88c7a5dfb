from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import (
    agent_admin_override_set,
    agent_deactivate,
    agent_reactivate,
)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = (
        "name", "extension_number", "email", "is_admin", "admin_override", "active",
        "needs_signin", "updated_at",
    )
    list_filter = ("is_admin", "needs_signin", "user__is_active")
    search_fields = ("name", "email", "extension_number", "rc_extension_id")
    # Identity comes from RingCentral at each sign-in; editing it here would be overwritten.
    # Whether the agent administers crm_cti (admin_override) and whether they may sign in
    # at all (the actions) are decided here, and every later sign-in keeps the decision.
    fields = (
        "user", "rc_account_id", "rc_extension_id", "extension_number", "name", "email",
        "phone_numbers", "rc_admin", "admin_override", "is_admin", "needs_signin",
        "created_at", "updated_at",
    )
    readonly_fields = (
        "user", "rc_account_id", "rc_extension_id", "extension_number", "name", "email",
        "phone_numbers", "rc_admin", "is_admin", "needs_signin", "created_at", "updated_at",
    )
    actions = ("deactivate", "reactivate")

    @admin.display(boolean=True, description="may sign in", ordering="user__is_active")
    def active(self, agent: Agent) -> bool:
        return agent.user.is_active

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        agent_admin_override_set(agent=obj, admin=obj.admin_override)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Agents exist through RingCentral sign-in only.
        return False

    @admin.action(description="Deactivate: refuse their sign-in and end their sessions")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        for agent in queryset.select_related("user"):
            if agent.user_id == request.user.pk:
                self.message_user(request, "You cannot deactivate yourself.", messages.ERROR)
                continue
            agent_deactivate(agent=agent)

    @admin.action(description="Reactivate: let them sign in again")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        for agent in queryset.select_related("user"):
            agent_reactivate(agent=agent)
