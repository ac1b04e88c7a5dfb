"""Sign-in with RingCentral, mounted at /auth/."""

from django.urls import path

from crm_cti.accounts import views

app_name = "accounts"

urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("start/", views.signin_start, name="start"),
    path("callback/", views.signin_callback, name="callback"),
    path("signout/", views.signout, name="signout"),
]
