from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("card-progress/", views.case_progress, name="case_progress"),
    # Any text after temp-card/: a damaged code gets the "not valid" page, never a 404.
    path("temp-card/<path:token>/", views.temp_card_check, name="temp_card"),
]
