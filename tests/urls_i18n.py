"""The test project with translated pages under language prefixes (/fr/…)."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls

from tests.urls import urlpatterns as all_urlpatterns

urlpatterns = [
    pattern
    for pattern in all_urlpatterns
    if getattr(pattern, "urlconf_module", None) is not wagtail_urls
] + i18n_patterns(path("", include(wagtail_urls)), prefix_default_language=False)
