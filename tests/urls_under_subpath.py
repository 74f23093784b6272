"""The test project with the plugin's URLs under /reading/: its worker controls only that path."""

from django.urls import include, path

from tests.urls_without_offline import urlpatterns as urlpatterns_without_offline

urlpatterns = [
    path("reading/", include("wagtail_offline.urls")),
    *urlpatterns_without_offline,
]
