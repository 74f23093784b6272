from django.urls import path, re_path

from . import form_queue, reports, views

app_name = "wagtail_offline"

urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    re_path(
        r"^offline/manifest-(?P<version>[0-9a-f]{1,64})\.json$",
        views.manifest,
        name="manifest",
    ),
    re_path(
        r"^offline/parts/(?P<digest>[0-9a-f]{20})\.json$",
        views.manifest_part,
        name="manifest_part",
    ),
    re_path(
        r"^offline/worker-(?P<code_hash>[0-9a-f]{16})\.js$",
        views.worker_code_view,
        name="worker_code",
    ),
    path("offline/", views.listing, name="listing"),
    # Parts from 2, spelled one way: /offline/ is the first.
    re_path(
        r"^offline/(?P<part>[2-9]|[1-9][0-9]{1,5})/$",
        views.listing,
        name="listing_part",
    ),
    path("offline/pages/", views.reader_pages, name="reader_pages"),
    path("offline/app.webmanifest", views.app_manifest, name="app_manifest"),
    path("offline/unavailable/", views.fallback, name="fallback"),
    path("offline/report/", reports.report, name="report"),
    path("offline/csrf-token/", views.csrf_token, name="csrf_token"),
    path("offline/queued/", views.queued, name="queued"),
    path(
        "offline/forms/<int:page_id>/",
        form_queue.form_submission,
        name="form_submission",
    ),
    # Last: a language code never shadows the plugin's own paths above.
    re_path(
        r"^offline/(?P<language_code>[a-z]{2,3}(?:-[a-z0-9]{1,8})*)/$",
        views.listing,
        name="listing_in_language",
    ),
    re_path(
        r"^offline/(?P<language_code>[a-z]{2,3}(?:-[a-z0-9]{1,8})*)"
        r"/(?P<part>[2-9]|[1-9][0-9]{1,5})/$",
        views.listing,
        name="listing_in_language_part",
    ),
]
