from django.contrib import admin

from crm_cti.messaging.models import FollowUp, Message, ReplyTemplate


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "text")
    list_editable = ("position",)
    search_fields = ("name", "text")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at_rc", "agent", "type", "direction", "counterpart", "read")
    list_filter = ("type", "direction", "read")
    search_fields = ("counterpart", "text", "rc_id")
    raw_id_fields = ("agent", "contact", "call")


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reason", "number", "agent", "due_at", "closed_at")
    list_filter = ("reason", "closed_how")
    raw_id_fields = ("agent", "contact", "call", "voicemail", "closing_call", "closed_by")
