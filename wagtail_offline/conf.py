"""The app's settings, read at call time so tests and sites can override them."""

from django.conf import settings

DEFAULTS = {
    # Switches the plugin off on every site: /sw.js then serves a worker that removes itself.
    "WAGTAIL_OFFLINE_ENABLED": True,
    # Path prefixes the worker never intercepts, beyond the Wagtail and Django admin.
    "WAGTAIL_OFFLINE_BYPASS_PREFIXES": [],
    # Seconds a navigation waits for the network before a cached copy is shown.
    "WAGTAIL_OFFLINE_NETWORK_TIMEOUT": 3.0,
    # Assets larger than this many bytes are left out and reported.
    "WAGTAIL_OFFLINE_MAX_ASSET_SIZE": 10 * 1024 * 1024,
    # A page that uses more same-origin URLs than this (images, scripts, stylesheets,
    # documents) is left out and reported, rather than fetched thousands of times.
    "WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE": 500,
    # Failure reports each client address may send per minute; more are answered 429.
    "WAGTAIL_OFFLINE_REPORTS_PER_MINUTE": 10,
    # The Django cache that keeps /sw.js and the manifest ready to serve.
    "WAGTAIL_OFFLINE_CACHE": "default",
    # The template the offline listing and the built-in fallback page extend: the site's
    # own base template gives them the site's look (see docs/readers.md).
    "WAGTAIL_OFFLINE_BASE_TEMPLATE": "wagtail_offline/base.html",
    # Origins ("https://media.example.com") that serve the site's media storage, such as
    # a bucket or a CDN: its files there are saved offline (the origin must answer CORS).
    "WAGTAIL_OFFLINE_MEDIA_ORIGINS": [],
}


def get(name):
    return getattr(settings, name, DEFAULTS[name])
