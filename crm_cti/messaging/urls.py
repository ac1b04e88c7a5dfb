from django.urls import path

from crm_cti.messaging import views

app_name = "messaging"

urlpatterns = [
    path("messages/", views.conversations, name="conversations"),
    path("messages/<str:counterpart>/", views.thread, name="thread"),
    path("messages/<str:counterpart>/reply/", views.reply, name="reply"),
    path("messages/<str:counterpart>/read/", views.thread_read, name="thread_read"),
    path("voicemail/", views.voicemail_inbox, name="voicemail"),
    path("voicemail/<int:message_id>/audio/", views.voicemail_audio, name="voicemail_audio"),
    path("voicemail/<int:message_id>/read/", views.voicemail_read, name="voicemail_read"),
    path("followups/", views.followups, name="followups"),
    path("followups/<int:followup_id>/done/", views.followup_mark_done, name="followup_done"),
    path("followups/<int:followup_id>/assign/", views.followup_assign, name="followup_assign"),
]
