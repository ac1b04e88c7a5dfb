from django.urls import path

from crm_cti.crm import views

app_name = "crm"

urlpatterns = [
    path("", views.contact_list, name="contact_list"),
    path("new/", views.contact_create_view, name="contact_create"),
    path("quick/", views.contact_quick_create, name="contact_quick_create"),
    path("<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("<int:contact_id>/edit/", views.contact_edit_view, name="contact_edit"),
]
