from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls


def serve_media(request, path):
    # MEDIA_ROOT is read per request: tests point it at a temporary folder.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    re_path(r"^media/(?P<path>.*)$", serve_media),
    path("", include("wagtail_offline.urls")),
    path("documents/", include(wagtaildocs_urls)),
    path("", include(wagtail_urls)),
]
