"""Admin: subscriptions (status, expiry, last event; renew/recreate, account mode), calls,
raw events and RingOuts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse

from crm_cti.telephony.models import Call, RingOut, Subscription, TelephonyEvent
from crm_cti.telephony.services import subscriptions


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("rc_id", "mode", "agent", "status", "expires_at", "last_event_at", "last_error")
    list_filter = ("mode", "status")
    readonly_fields = (
        "rc_id", "mode", "agent", "status", "expires_at", "last_event_at", "event_filters",
        "address", "last_error", "created_at", "updated_at",
    )
    exclude = ("verification_token",)
    actions = ("renew_or_recreate", "delete_on_ringcentral")
    change_list_template = "admin/telephony/subscription/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        urls = super().get_urls()
        extra = [
            path(
                "create-account/",
                self.admin_site.admin_view(self.create_account_view),
                name="telephony_subscription_create_account",
            ),
        ]
        return extra + urls

    def changelist_view(self, request: HttpRequest, extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = extra_context or {}
        extra_context["service_credential"] = bool(settings.RC_JWT)
        extra_context["webhook_address"] = subscriptions.webhook_address()
        return super().changelist_view(request, extra_context=extra_context)

    def create_account_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Account mode: one subscription for every extension, with the service credential."""
        target = reverse("admin:telephony_subscription_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(target)
        try:
            sub = subscriptions.subscription_ensure(agent=None)
        except Exception as exc:
            self.message_user(request, f"Could not create it: {exc}", level=messages.ERROR)
        else:
            self.message_user(request, f"Account subscription {sub.rc_id} is {sub.status}.")
        return HttpResponseRedirect(target)

    @admin.action(description="Renew or recreate on RingCentral")
    def renew_or_recreate(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for sub in list(queryset.select_related("agent")):
            try:
                fresh = subscriptions.subscription_ensure(agent=sub.agent)
                self.message_user(
                    request, f"{fresh.rc_id}: {fresh.status} until {fresh.expires_at}"
                )
            except Exception as exc:
                self.message_user(request, f"{sub}: {exc}", level=messages.ERROR)

    @admin.action(description="Delete on RingCentral and here")
    def delete_on_ringcentral(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        for sub in list(queryset.select_related("agent")):
            try:
                subscriptions.subscription_delete(agent=sub.agent)
            except Exception as exc:
                self.message_user(request, f"{sub}: {exc}", level=messages.ERROR)


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = (
        "session_id", "agent", "direction", "from_number", "to_number", "contact", "state",
        "started_at", "duration", "result", "enrichment",
    )
    list_filter = ("state", "direction", "enrichment")
    search_fields = ("session_id", "from_number", "to_number", "from_name", "to_name")
    raw_id_fields = ("agent", "contact")
    date_hierarchy = "started_at"


@admin.register(TelephonyEvent)
class TelephonyEventAdmin(admin.ModelAdmin):
    list_display = ("uuid", "rc_extension_id", "sequence", "received_at", "processed_at", "outcome")
    list_filter = ("outcome",)
    search_fields = ("uuid", "rc_extension_id")
    readonly_fields = [f.name for f in TelephonyEvent._meta.fields]


@admin.register(RingOut)
class RingOutAdmin(admin.ModelAdmin):
    list_display = ("rc_id", "agent", "from_number", "to_number", "call_status", "created_at")
    readonly_fields = [f.name for f in RingOut._meta.fields]
