"""The test project with the plugin's URLs included after Wagtail's catch-all: /offline/ is a 404."""

from django.urls import include, path

from tests.urls_without_offline import urlpatterns as urlpatterns_without_offline

urlpatterns = urlpatterns_without_offline + [path("", include("wagtail_offline.urls"))]
