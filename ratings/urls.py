from django.urls import path

from . import views

app_name = "ratings"

urlpatterns = [
    # Any text after rate/: a damaged link gets the "not valid" page, never a 404.
    path("<path:token>/", views.rate, name="rate"),
]
