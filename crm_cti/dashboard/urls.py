from django.urls import path

from crm_cti.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("calls/", views.call_history_view, name="call_history"),
    path("calls/export.csv", views.call_history_csv, name="call_history_csv"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("calls/<int:call_id>/notes/", views.call_notes, name="call_notes"),
    path("calls/<int:call_id>/dismiss/", views.call_dismiss, name="call_dismiss"),
    path("calls/<int:call_id>/contact/", views.call_choose_contact, name="call_choose_contact"),
    path("calls/<int:call_id>/add-number/", views.call_add_number, name="call_add_number"),
    path("settings/", views.pop_settings_view, name="pop_settings"),
    path("settings/team/", views.team_settings_view, name="team_settings"),
    path("calls/<int:call_id>/recording/", views.call_recording, name="call_recording"),
    path("calls/ringout-from/", views.ringout_from_view, name="ringout_from"),
    path("calls/sms/", views.send_sms, name="send_sms"),
    path("calls/pager/", views.send_pager, name="send_pager"),
]
