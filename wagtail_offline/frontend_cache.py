"""Purging the plugin's own URLs from a frontend cache (a CDN, Varnish) after a rebuild.

With ``wagtail.contrib.frontend_cache`` configured, Wagtail purges a page when it is
published. What the plugin serves is purged here, once a rebuild has changed what a
site's readers are told: /sw.js and the other URLs served with a lifetime a shared
cache may keep. The manifest and the worker's code are served at versioned, immutable
URLs: a change gives them a new URL, so they never need purging.
"""

import logging

from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from . import serving_cache
from .fallbacks import locale_listings
from .models import OfflineManifest
from .views import SiteState, script_for_state, worker_state

logger = logging.getLogger(__name__)

APP = "wagtail.contrib.frontend_cache"

# The plugin's URLs served "no-cache" or without Cache-Control, which a shared cache may
# keep; the listing in each language is added per site. The report, the readers' pages
# and the CSRF token URLs are "no-store" or POST only.
REVALIDATED_URLS = ("service_worker", "listing", "app_manifest", "fallback", "queued")


def is_configured():
    """Whether the project purges a frontend cache: the app installed and a backend set."""
    return app_installed() and bool(
        getattr(settings, "WAGTAILFRONTENDCACHE", None)
        # The setting older Wagtail projects used, which Wagtail still reads.
        or getattr(settings, "WAGTAILFRONTENDCACHE_LOCATION", None)
    )


def app_installed():
    return apps.is_installed(APP)


def served_state(site):
    """What ``site`` serves readers now: the ETag of its /sw.js and its manifest's version.

    /sw.js carries the settings the worker gets (the kill switch among them) and, while
    the site is active, the manifest's version; the version itself changes with
    everything precached, the listings and the app manifest included.
    """
    sw_js = script_for_state(
        SiteState(site.pk, *worker_state(site.pk)), settings.ROOT_URLCONF
    )
    version = (
        OfflineManifest.objects.filter(site=site)
        .values_list("version", flat=True)
        .first()
    )
    return f"{sw_js.etag}:{version}"


def control_urls(site):
    """The absolute URLs of ``site`` that a rebuild may change and a shared cache may keep.

    Made from the site's root URL, as Wagtail makes a page's URLs for purging.
    """
    paths = [reverse(f"wagtail_offline:{name}") for name in REVALIDATED_URLS]
    paths += [listing["url"] for listing in locale_listings(site)]
    # Every part of a long listing, as the stored manifest ships them.
    paths += (
        OfflineManifest.objects.filter(site=site)
        .values_list("listing_renders", flat=True)
        .first()
        or {}
    )
    return {site.root_url + path for path in paths}


def purge_if_changed(site):
    """Purge ``site``'s control URLs when what it serves changed since their last purge.

    Compared with what was served when they were last purged, not when the rebuild
    began: a settings change (the kill switch) is saved before its rebuild runs. The
    URLs purged then are purged again, so a listing in a language the site no longer
    has leaves the cache too. Returns why the purge failed, for the editors, or "";
    never raises: a rebuild stands whatever the frontend cache answers.
    """
    if not is_configured():
        return ""
    key = f"frontend-cache-purged:{site.pk}"
    try:
        state = served_state(site)
        last = serving_cache.remembered(key) or {}
        if last.get("state") == state:
            return ""
        urls = control_urls(site)
        _purge(sorted(urls | set(last.get("urls", ()))))
    except Exception as error:
        logger.exception(
            "wagtail-offline (%s): the frontend cache could not be purged", site
        )
        return _(
            "The frontend cache could not be purged (%(error)s): readers may be "
            "sent outdated offline files until it expires. The next update tries again."
        ) % {"error": error}
    # Remembered only once purged: after a failure the next rebuild purges again.
    serving_cache.remember(key, {"state": state, "urls": sorted(urls)})
    return ""


def _purge(urls):
    from wagtail.contrib.frontend_cache.tasks import purge_urls_from_cache_task

    # Called, not enqueued: this runs in a background task already, and a backend's
    # error must reach the rebuild that records it. Wagtail's task still adds the
    # URLs per language and picks the backends of each host name.
    purge_urls_from_cache_task.call(urls)
