"""The two-factor pages, inside the admin (config/urls.py mounts them at admin/two-factor/)."""

from django.contrib import admin
from django.urls import path

from twofactor import views

app_name = "two_factor"
urlpatterns = [
    path("", admin.site.admin_view(views.home), name="home"),
    path("code/", admin.site.admin_view(views.verify), name="verify"),
    path("enrol/", admin.site.admin_view(views.enrol), name="enrol"),
    path("recovery-codes/", admin.site.admin_view(views.recovery_codes), name="recovery_codes"),
    path("reset/<int:user_id>/", admin.site.admin_view(views.reset), name="reset"),
]
