from django.contrib import admin

from crm_cti.messaging.models import CallQueue, FollowUp, Message, ReplyTemplate


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "text")
    list_editable = ("position",)
    search_fields = ("name", "text")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at_rc", "agent", "queue", "type", "direction", "counterpart",
                    "read")
    list_filter = ("type", "direction", "read", "queue")
    search_fields = ("counterpart", "text", "rc_id")
    raw_id_fields = ("agent", "contact", "call")


@admin.register(CallQueue)
class CallQueueAdmin(admin.ModelAdmin):
    # Read from RingCentral (call-queues): edited there, not here.
    list_display = ("name", "extension_number", "rc_extension_id", "updated_at")
    readonly_fields = ("rc_extension_id", "extension_number", "name", "updated_at")


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reason", "number", "agent", "due_at", "closed_at")
    list_filter = ("reason", "closed_how")
    raw_id_fields = ("agent", "contact", "call", "voicemail", "closing_call", "closed_by")
