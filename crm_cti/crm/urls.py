from django.urls import path

from crm_cti.crm import views

app_name = "crm"

urlpatterns = [
    path("", views.contact_list, name="contact_list"),
    path("new/", views.contact_create_view, name="contact_create"),
    path("quick/", views.contact_quick_create, name="contact_quick_create"),
    path("lookup/", views.contact_lookup, name="contact_lookup"),
    path("data-quality/", views.data_quality, name="data_quality"),
    path("company-lines/mark/", views.company_line_mark_view, name="company_line_mark"),
    path("company-lines/unmark/", views.company_line_unmark_view, name="company_line_unmark"),
    path("<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("<int:contact_id>/edit/", views.contact_edit_view, name="contact_edit"),
]
