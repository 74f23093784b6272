"""Views that serve what the manifest says. They read stored data and never render pages."""

import functools
import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.views.decorators.http import require_GET
from wagtail.models import Site

from . import compression, conf, serving_cache
from . import listing as listing_data
from .app_manifest import CONTENT_TYPE as APP_MANIFEST_CONTENT_TYPE
from .app_manifest import serialise as serialise_app_manifest
from .fallbacks import locale_roots
from .manifest import never_offline_prefixes, site_bypass_prefixes
from .media_origins import declared_origins
from .models import (
    OfflineManifest,
    OfflineManifestPart,
    OfflineSettings,
)
from .reader_pages import BadURLs, answer_reader_pages, checked_urls
from .rendering import AnonymousClient, FetchError, is_rendering
from .schema import tables_ready
from .site_lookup import find_site, site_id_for_request

CACHE_PREFIX = "wagtail-offline"
JAVASCRIPT = "text/javascript; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
WORKER_CODE_PATH = Path(__file__).parent / "worker" / "service_worker.js"


def _site_or_404(request):
    if not tables_ready():
        raise Http404("wagtail_offline is not migrated yet.")
    site = find_site(request)
    if site is None:
        raise Http404("No Wagtail site matches this host.")
    return site


def is_active(offline_settings):
    """Whether a site with these settings serves a worker (the global switch wins)."""
    return bool(conf.get("WAGTAIL_OFFLINE_ENABLED") and offline_settings.enabled)


def network_timeout(offline_settings):
    """Seconds a navigation waits for the network: the site's own, else the project's."""
    return offline_settings.network_timeout or conf.get(
        "WAGTAIL_OFFLINE_NETWORK_TIMEOUT"
    )


def bypass_prefixes(site_prefixes=()):
    """Paths the worker never intercepts: the admins (so previews), the project's and the
    site's lists, /sw.js."""
    return never_offline_prefixes(site_prefixes) + [
        reverse("wagtail_offline:service_worker")
    ]


@functools.cache
def worker_code():
    """The worker's code as served and the hash that versions its URL, read once per process.

    Served without its comment lines: they are a third of its compressed size, which every
    reader downloads again with each upgrade of the plugin.
    """
    content = without_comment_lines(WORKER_CODE_PATH.read_text()).encode()
    return content, hashlib.sha256(content).hexdigest()[:16]


def without_comment_lines(source):
    """``source`` without the lines that are only a comment (``// …``, or a ``/* … */``
    block starting a line) and without blank lines.

    Only for code where no string spans lines and no block comment ends before code on
    its line: tests check the worker's code for both.
    """
    kept, in_block = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if in_block or stripped.startswith("/*"):
            in_block = not stripped.endswith("*/")
        elif stripped and not stripped.startswith("//"):
            kept.append(line)
    return "\n".join(kept) + "\n"


@functools.cache
def _encoded_worker_code():
    content, code_hash = worker_code()
    return compression.Encoded.of(content, f'"{code_hash}"')


def worker_state(site_id):
    """(active, manifest version, network timeout in ms, the site's bypass prefixes,
    readers' own pages): what /sw.js tells the worker."""
    # Not OfflineSettings.for_site: no row is created on a request, and none is cached.
    offline_settings = (
        OfflineSettings.objects.filter(site_id=site_id)
        .only(
            "enabled",
            "network_timeout",
            "reader_saving",
            "recent_pages",
            "recent_pages_days",
        )
        .first()
    ) or OfflineSettings(site_id=site_id)
    active = is_active(offline_settings)
    version = None
    if active:
        version = (
            OfflineManifest.objects.filter(site_id=site_id)
            .values_list("version", flat=True)
            .first()
        )
    return (
        active,
        version,
        int(network_timeout(offline_settings) * 1000),
        tuple(site_bypass_prefixes(site_id)),
        readers_own_pages(offline_settings, active),
    )


def readers_own_pages(offline_settings, active):
    """(reader saving on, recent pages kept, their maximum age in days) for the worker."""
    return (
        bool(active and offline_settings.reader_saving),
        offline_settings.recent_pages if active else 0,
        offline_settings.recent_pages_days,
    )


class SiteState(NamedTuple):
    """What /sw.js and the manifest URL serve for one site."""

    site_id: int
    active: bool
    version: str | None
    network_timeout_ms: int
    bypass_prefixes: tuple
    readers_own_pages: tuple


def site_state(request):
    """The ``SiteState`` of the request's site; None when no site matches.

    Keyed by the site Wagtail resolves for the request (by host name and port, which
    may come from ``X-Forwarded-Port``), never by a raw header: one site's state can
    never answer for another, and no header value can add cache entries. Cached in the
    current serving generation (see ``serving_cache``).
    """
    if not tables_ready():
        return None
    generation = serving_cache.current_generation()
    site_id = site_id_for_request(request, generation)
    if site_id is None:
        return None
    enabled = conf.get("WAGTAIL_OFFLINE_ENABLED")

    return serving_cache.get_or_build(
        # The shape's version: a shared cache may hold states an older release stored.
        f"site-state:v2:{site_id}:{enabled}",
        lambda: SiteState(site_id, *worker_state(site_id)),
        generation,
    )


def worker_script(request, state):
    """/sw.js for a ``site_state``, as ``compression.Encoded`` bytes."""
    return script_for_state(
        state, getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    )


def script_for_state(state, urlconf):
    """/sw.js for a ``SiteState``, its URLs reversed with ``urlconf``."""
    return _worker_script(
        state.active,
        state.version,
        state.network_timeout_ms,
        # What the URLs below are reversed with: part of the memo's key.
        urlconf,
        _project_bypass_prefixes(),
        state.bypass_prefixes,
        state.readers_own_pages,
        declared_origins(),
    )


def _project_bypass_prefixes():
    prefixes = conf.get("WAGTAIL_OFFLINE_BYPASS_PREFIXES")
    return (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)


@functools.lru_cache(maxsize=256)
def _worker_script(
    active,
    version,
    network_timeout_ms,
    urlconf,
    project_bypass,
    site_bypass,
    readers_own_pages,
    media_origins=(),
):
    # A pure function of its arguments: memoised, compressed with it.
    config = {
        "active": active,
        "version": version,
        "manifestUrl": (
            reverse("wagtail_offline:manifest", args=[version]) if version else None
        ),
        "cachePrefix": CACHE_PREFIX,
        "bypassPrefixes": bypass_prefixes(site_bypass),
        "networkTimeoutMs": network_timeout_ms,
        "reportUrl": reverse("wagtail_offline:report"),
        "readerPagesUrl": reverse("wagtail_offline:reader_pages"),
        "readerSaving": readers_own_pages[0],
        "recentPages": {
            "count": readers_own_pages[1],
            "maxAgeDays": readers_own_pages[2],
        },
        "csrfTokenUrl": reverse("wagtail_offline:csrf_token"),
        "mediaOrigins": list(media_origins),
    }
    code_url = reverse("wagtail_offline:worker_code", args=[worker_code()[1]])
    body = render_to_string(
        "wagtail_offline/sw.js",
        {"config": json.dumps(config, sort_keys=True), "worker_code_url": code_url},
    ).encode()
    return compression.Encoded.of(body, serving_cache.content_etag(body))


@require_GET
def service_worker(request):
    """``/sw.js``: this site's configuration and an import of the worker's code.

    A few hundred bytes whatever the site's size; it changes exactly when the manifest
    (or the site's offline settings) do, which is what makes browsers update.
    """
    state = site_state(request)
    if state is None:
        raise Http404(
            "No Wagtail site matches this host, or the plugin is not migrated."
        )
    return compression.respond(
        request, worker_script(request, state), JAVASCRIPT, "no-cache", vary=["Host"]
    )


@require_GET
def worker_code_view(request, code_hash):
    """The worker's code at an immutable URL: fetched again only after a plugin upgrade."""
    if code_hash != worker_code()[1]:
        raise Http404("This version of the worker's code is gone.")
    return compression.respond(request, _encoded_worker_code(), JAVASCRIPT, IMMUTABLE)


@require_GET
def manifest(request, version):
    """The manifest's root at an immutable URL, served while it is the site's current one.

    It lists indexes, which list parts (``manifest_part``): see manifest_parts.py.
    """
    state = site_state(request)
    if state is None or not state.active or version != state.version:
        raise Http404("This offline manifest is no longer current.")
    site_id = state.site_id
    payload = serving_cache.manifest_payload(
        site_id,
        version,
        lambda: (
            OfflineManifest.objects.filter(site_id=site_id, version=version)
            .values_list("payload", flat=True)
            .first()
        ),
    )
    if payload is None:
        raise Http404("This offline manifest is no longer current.")
    return compression.respond(request, payload, "application/json", IMMUTABLE)


@require_GET
def manifest_part(request, digest):
    """An index or part of the manifest, named by its content: immutable.

    Served from the site's own parts only, while its manifests need them.
    """
    state = site_state(request)
    if state is None or not state.active:
        raise Http404("Offline reading is off for this site.")
    site_id = state.site_id
    content = serving_cache.encoded_file(
        f"manifest-part:{site_id}:{digest}",
        lambda: (
            OfflineManifestPart.objects.filter(site_id=site_id, digest=digest)
            .values_list("content", flat=True)
            .first()
        ),
        f'"{digest}"',
    )
    if content is None:
        raise Http404("No such part of this site's offline manifest.")
    return compression.respond(request, content, "application/json", IMMUTABLE)


def site_look(request, site=None):
    """What the listing and the built-in fallback need to wear the site's look (see
    ``listing.look``), for the request's site unless ``site`` is given."""
    return listing_data.look(site or find_site(request))


# Listings rendered by this process, per serving generation: whole pages that are the
# same for every visitor who gets them, and the sections' HTML for the other requests.
LISTINGS_REMEMBERED = 128
shared_listings = serving_cache.ProcessMemo(LISTINGS_REMEMBERED)
listing_fragments = serving_cache.ProcessMemo(LISTINGS_REMEMBERED)
LISTING_CONTENT_TEMPLATE = "wagtail_offline/includes/listing_content.html"


@require_GET
def listing(request, language_code=None, part="1"):
    """``/offline/``: what can be read offline, like a sitemap for people.

    On a site in several languages, ``/offline/<language>/`` lists the pages of that
    locale, in its language; ``/offline/`` lists them all. A long listing goes on at
    ``/offline/2/`` (``/offline/<language>/2/``) and so on (``listing.LINES_PER_PART``).

    Built once per serving generation (which every change to what it shows bumps) and
    kept until a listed page expires. A request that cannot be personal gets a copy
    rendered for no one in particular (``shared_listing``); others get the page rendered
    for them around the cached sections.
    """
    if not tables_ready():
        raise Http404("wagtail_offline is not migrated yet.")
    generation = serving_cache.current_generation()
    site_id = site_id_for_request(request, generation)
    if site_id is None:
        raise Http404("No Wagtail site matches this host.")
    if language_code is not None and language_code not in listing_languages(
        site_id, generation
    ):
        raise Http404("This site has no pages in this language.")
    part = int(part)  # At most six digits (urls.py).
    if part > 1 and not is_rendering():
        # Before any copy is kept: a made-up part number must not push real ones out.
        sections = listing_sections(_site(site_id), language_code, generation)[0]
        if part > listing_data.part_count(sections):
            raise Http404("This listing has fewer parts.")
    key = shared_listing_key(request, generation, site_id, language_code)
    if key is not None:
        shared = shared_listings.get(
            key, lambda: shared_listing(request, site_id, generation, language_code)
        )
        if shared is not None:
            return shared.response(request)
    return personal_listing(request, site_id, generation, language_code, part)


def _site(site_id):
    return Site.objects.select_related("root_page").get(pk=site_id)


def listing_languages(site_id, generation):
    """The codes of the site's listings per language, sorted; none for a site in one."""
    return serving_cache.get_or_build(
        f"listing-languages:v1:{site_id}",
        lambda: tuple(sorted(locale_roots(_site(site_id)))),
        generation,
    )


def listing_sections(site, language_code, generation):
    """``listed_pages_until`` for the listing in ``language_code`` (None: all of them)."""

    def build():
        return listing_data.sections_until(site, language_code)

    return serving_cache.get_or_build_until(
        f"listing:v1:{site.pk}:{language_code or ''}", build, generation
    )


def shared_listing_key(request, generation, site_id, language_code):
    """The key of the copy of the listing shared by visitors like this one, or None when
    this request may get something of its own: it has cookies (a session, a language),
    credentials, a query string, or is a render for a manifest.

    Only resolved values: the site's id, the active language when it is one of
    ``LANGUAGES``, a path the URL patterns matched. No header can add keys of its own.
    """
    if (
        is_rendering()
        or request.COOKIES
        or request.META.get("QUERY_STRING")
        or "HTTP_AUTHORIZATION" in request.META
    ):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:  # RemoteUserMiddleware, say
        return None
    language = translation.get_language()
    if language not in _supported_languages():
        return None
    return (
        generation,
        site_id,
        language_code,
        language,
        request.path_info,
        get_script_prefix(),
        getattr(request, "urlconf", None),
        conf.get("WAGTAIL_OFFLINE_ENABLED"),
        conf.get("WAGTAIL_OFFLINE_BASE_TEMPLATE"),
    )


def _supported_languages():
    return {code for code, _name in settings.LANGUAGES} | {settings.LANGUAGE_CODE}


class SharedListing(NamedTuple):
    """The listing as a first-time visitor with no cookies receives it.

    Kept gzip-compressed beside the plain bytes: it grows with the site (about 0.4 KB
    per page, 27x smaller gzipped), every reader's worker downloads it, and a site may
    not compress HTML. It holds nothing of any visitor's (see ``shared_listing``), so
    compressing it without GZipMiddleware's random padding gives BREACH nothing to guess.
    """

    encoded: compression.Encoded
    content_type: str
    vary: tuple

    def response(self, request):
        return compression.respond(
            request, self.encoded, self.content_type, None, self.vary
        )


def shared_listing(request, site_id, generation, language_code):
    """``(SharedListing or None, until)``: this URL rendered for no one in particular.

    Rendered as the manifest's build renders it, through the whole middleware stack,
    from a request that carries nothing of the visitor's: the site's own host name and
    port, no cookies, the language already resolved. So what the base template renders
    (a userbar, a greeting) is an anonymous visitor's. None when the render shows it
    was not the same for everyone all the same: it used a CSRF token, set a cookie, or
    said it is private; such a site's visitors get the page rendered for each of them.
    """
    site = _site(site_id)
    until = listing_sections(site, language_code, generation)[1]
    language = translation.get_language()
    try:
        fetched = AnonymousClient(site).get(
            request.path_info, {"HTTP_ACCEPT_LANGUAGE": language}
        )
    except FetchError:
        return None, until
    cache_control = fetched.headers.get("Cache-Control", "").lower()
    if (
        fetched.csrf_secret
        or fetched.cookies
        or "private" in cache_control
        or "no-store" in cache_control
        or fetched.headers.get("Content-Language", settings.LANGUAGE_CODE) != language
    ):
        return None, until
    vary = tuple(
        field.strip()
        for field in fetched.headers.get("Vary", "").split(",")
        if field.strip()
    )
    encoded = compression.Encoded.of(
        fetched.content, serving_cache.content_etag(fetched.content)
    )
    return SharedListing(encoded, fetched.content_type, vary), until


def personal_listing(request, site_id, generation, language_code, part=1):
    """Part ``part`` of the listing rendered for this request, around the cached
    sections' HTML."""
    site = _site(site_id)
    if is_rendering():
        # A render for a build (or for the shared copy, once per generation) reads the
        # database, as the listing's key does (listing.render_key): a copy cached before
        # a change that bumped nothing must not outlive its key.
        sections, until = listing_data.sections_until(site, language_code)
        language_codes = sorted(locale_roots(site))
    else:
        sections, until = listing_sections(site, language_code, generation)
        language_codes = listing_languages(site_id, generation)
    parts = listing_data.part_count(sections)
    if part > parts:
        raise Http404("This listing has fewer parts.")
    if parts > 1:
        sections = listing_data.listing_part(sections, part)
    context = listing_data.context(
        site, language_code, sections, language_codes, part, parts
    )
    # The sections' HTML depends on the data, the language and the URLs only, never on
    # the request: rendered without it, it is the same for everyone.
    fragment_key = (
        generation,
        site_id,
        language_code,
        part,
        translation.get_language(),
        get_script_prefix(),
        getattr(request, "urlconf", None),
    )
    with translation.override(language_code or translation.get_language()):
        if (
            is_rendering()
        ):  # Read once, by the build: a large site's listing is not kept.
            fragment = render_to_string(LISTING_CONTENT_TEMPLATE, context)
        else:
            fragment = listing_fragments.get(
                fragment_key,
                lambda: (render_to_string(LISTING_CONTENT_TEMPLATE, context), until),
            )
        return render(
            request,
            "wagtail_offline/listing.html",
            {**context, "listing_content": fragment},
        )


@require_GET
def fallback(request):
    """The built-in page shown offline when the editors chose no fallback page."""
    return render(request, "wagtail_offline/fallback.html", site_look(request))


@require_GET
def app_manifest(request):
    """``/offline/app.webmanifest``: the site's stored web app manifest (see app_manifest.py)."""
    state = site_state(request)
    if state is None or not state.active:
        raise Http404("Offline reading is off for this site.")
    site_id, version = state.site_id, state.version
    # The app manifest is part of the manifest's extras, so its version addresses it.
    content = serving_cache.encoded_file(
        f"app-manifest:{site_id}:{version}",
        lambda: _stored_app_manifest(site_id, version),
    )
    if content is None:
        raise Http404("This site's web app manifest is not built yet.")
    return compression.respond(request, content, APP_MANIFEST_CONTENT_TYPE, "no-cache")


def _stored_app_manifest(site_id, version):
    extras = (
        OfflineManifest.objects.filter(site_id=site_id, version=version)
        .values_list("extras", flat=True)
        .first()
    )
    web_app = (extras or {}).get("appManifest")
    return serialise_app_manifest(web_app) if web_app else None


@require_GET
def queued(request):
    """The page readers see after sending a form offline: it is kept and sent later."""
    return render(request, "wagtail_offline/queued.html", site_look(request))


@require_GET
def reader_pages(request):
    """``/offline/pages/?url=/a/&url=/b/``: the server's word on pages a reader keeps.

    Answers from stored renders; a page without a current one gets a render task.
    """
    site = _site_or_404(request)
    try:
        urls = checked_urls(request, site.root_url)
    except BadURLs as error:
        response = JsonResponse({"error": str(error)}, status=400)
    else:
        response = JsonResponse({"pages": answer_reader_pages(request, site, urls)})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def csrf_token(request):
    """A fresh CSRF token, for forms on pages that were read from the offline cache."""
    response = JsonResponse({"token": get_token(request)})
    response["Cache-Control"] = "no-store"
    return response
