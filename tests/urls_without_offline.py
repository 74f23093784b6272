"""The test project after a site team removed the plugin's URLs: /sw.js answers 404."""

from tests.urls import urlpatterns as all_urlpatterns

urlpatterns = [
    pattern
    for pattern in all_urlpatterns
    if getattr(pattern, "urlconf_name", None) is None
    or getattr(pattern.urlconf_module, "__name__", "") != "wagtail_offline.urls"
]
