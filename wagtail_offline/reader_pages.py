"""Pages readers keep on their device themselves: saved with the button, or recently read.

A reader's browser asks ``reader_pages`` about the pages it keeps. The answers come from
stored ``OfflineReaderPage`` renders, checked against the page as it is now; a page
without a current render is rendered by ``render_reader_page_task``, once, with the
rules of the editors' manifest: an anonymous render, the same privacy rules, size
limits and revisions. Nothing here renders on a request path.
"""

import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.models import Page, PageViewRestriction, Site

from . import conf
from .manifest import (
    AnonymousClient,
    Assembly,
    Rendered,
    never_offline_prefixes,
    page_paths,
    render_page,
    site_bypass_prefixes,
)
from .models import OfflineManifestEntry, OfflineReaderPage, OfflineSettings
from .paths import canonical_path, served_path

logger = logging.getLogger(__name__)

MAX_URLS = 50
MAX_URL_LENGTH = OfflineReaderPage._meta.get_field("url").max_length
# A render asked for longer ago than this is taken as lost (a worker restarted) and asked again.
REQUEST_AGAIN_AFTER = timedelta(minutes=5)
ENTRY_FIELDS = ("url", "revision", "size", "kind")

READY, PENDING, SITE, GONE, FAILED = "ready", "pending", "site", "gone", "failed"
# The source of a render out of date: no page's (see ``render_source``).
OUT_OF_DATE = "out-of-date"


class BadURLs(ValueError):
    """The URLs asked about are too many, or one is not a canonical path; the message says which."""


def checked_urls(request, origin):
    """The distinct ``url``s of the request's query, in order; ``BadURLs`` unless there
    are at most ``MAX_URLS`` and each is a canonical path."""
    # Django refuses to read thousands of fields: as many as too many.
    try:
        values = request.GET.getlist("url")
    except TooManyFieldsSent:
        values = None
    if values is None or len(values) > MAX_URLS:
        raise BadURLs(_("Ask about %(limit)s pages at most.") % {"limit": MAX_URLS})
    for value in values:
        if not (
            len(value) <= MAX_URL_LENGTH
            and value.startswith("/")
            and "?" not in value
            and canonical_path(value, origin + "/", origin) == value
            and served_path(value) is not None
        ):
            raise BadURLs(
                _("Each url must be a path of this site, written as browsers send it.")
            )
    return list(dict.fromkeys(values))


def serves_reader_pages(offline_settings):
    """Whether readers of a site with these settings may keep pages of their own."""
    # The site is active as ``views.is_active`` says: the global switch and the site's.
    active = conf.get("WAGTAIL_OFFLINE_ENABLED") and offline_settings.enabled
    return bool(
        active and (offline_settings.reader_saving or offline_settings.recent_pages > 0)
    )


def render_source(page):
    """What a render of ``page`` is made from: a publish changes it."""
    if page.live_revision_id:
        return f"revision-{page.live_revision_id}"
    published = page.last_published_at
    return f"published-{published.isoformat()}" if published else ""


# ---------- From URLs to pages ----------


def _route(served):
    """The path Wagtail's serve view routes ``served`` by (below a site root), or None."""
    # A path without a language prefix is in the default language (prefix_default_language=False).
    language = translation.get_language_from_path(served) or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            match = resolve(served)
        except Resolver404:
            return None
    if match.url_name != "wagtail_serve" or not match.args:
        return None
    return match.args[0]


def _site_root_paths(site):
    """The url_paths of the site's root page and of the translations Wagtail serves."""
    return {
        root.root_path for root in Site.get_site_root_paths() if root.site_id == site.pk
    }


def find_pages(site, urls, request):
    """({url: page} of the URLs that serve a live, public, unexpired page of ``site``,
    {URLs that serve a page of ``site`` readers may not keep}).

    A page counts only where Wagtail itself links to it on this site, whatever the
    spelling asked about. A few queries, whatever the number of URLs.
    """
    roots = _site_root_paths(site)
    candidates = {}
    for url in urls:
        route = _route(served_path(url))
        if route is not None:
            for root in roots:
                candidates.setdefault(root + route, set()).add(url)
    if not candidates:
        return {}, set()
    pages = Page.objects.filter(url_path__in=candidates).only(
        "pk",
        "path",
        "url_path",
        "title",
        "seo_title",
        "search_description",
        "live",
        "expire_at",
        "live_revision_id",
        "last_published_at",
        "content_type_id",
    )
    pages = list(pages)
    restricted = tuple(_restricted_paths(pages))
    now = timezone.now()
    public, refused = {}, set()
    for page in pages:
        parts = page.get_url_parts(request) or (None, None, None)
        url = parts[2] if parts[0] == site.pk else None
        if url not in candidates[page.url_path]:
            continue
        if (
            page.live
            and (page.expire_at is None or page.expire_at > now)
            and not page.path.startswith(restricted)
        ):
            public[url] = page
        else:
            refused.add(url)
    return public, refused


def _restricted_paths(pages):
    """Tree paths of the pages, among ``pages`` and their ancestors, with a view restriction."""
    steplen = Page.steplen
    ancestry = {
        page.path[:end]
        for page in pages
        for end in range(steplen, len(page.path) + 1, steplen)
    }
    return PageViewRestriction.objects.filter(page__path__in=ancestry).values_list(
        "page__path", flat=True
    )


def is_bypassed(url, site_prefixes):
    """Whether ``url`` is under a path the worker never touches (the admins, the settings' list)."""
    return served_path(url).startswith(tuple(never_offline_prefixes(site_prefixes)))


def manifest_page_urls(site, urls):
    """Those of ``urls`` that are pages of the editors' current manifest: the worker
    holds them already. One indexed query, however many entries the site has."""
    return set(
        OfflineManifestEntry.objects.filter(
            site=site, kind="page", url__in=sorted(urls)
        ).values_list("url", flat=True)
    )


# ---------- Answering readers ----------


def answer_reader_pages(request, site, urls):
    """The protocol's answer for each URL, enqueueing the renders that are due."""
    # Not OfflineSettings.for_site: no row is created on a request.
    offline_settings = (
        OfflineSettings.objects.filter(site=site)
        .only("enabled", "reader_saving", "recent_pages")
        .first()
    ) or OfflineSettings(site=site)
    if not urls or not serves_reader_pages(offline_settings):
        return [{"url": url, "state": GONE} for url in urls]
    site_prefixes = site_bypass_prefixes(site.pk)
    reachable = [url for url in urls if not is_bypassed(url, site_prefixes)]
    pages, refused = find_pages(site, reachable, request)
    in_manifest = manifest_page_urls(site, urls)
    rows = _stored_rows(site, pages)
    due = [
        url
        for url, page in pages.items()
        if url not in in_manifest and _is_due(rows.get(url), page)
    ]
    claimed = claim_renders(site, due, pages, rows)
    for url in claimed:
        schedule_render(site.pk, url)
    if claimed:
        rows.update(_stored_rows(site, {url: pages[url] for url in claimed}))
    answered = [
        _answer(url, pages.get(url), rows.get(url), url in in_manifest, url in refused)
        for url in urls
    ]
    ready = {answer["url"]: answer for answer in answered if answer["state"] == READY}
    form_urls = _form_submit_urls(pages[url].pk for url in ready)
    for url, answer in ready.items():
        answer["formSubmitUrl"] = form_urls.get(pages[url].pk)
    return answered


def mark_out_of_date(rows):
    """Renders that no longer say what the page needs: rendered again when next asked for.

    ``rendered_at`` moves on too: a render that began before the change (and may list media
    made private since) is then older than the row, and is not stored.
    """
    rows.update(source=OUT_OF_DATE, rendered_at=timezone.now(), requested_at=None)


def _stored_rows(site, pages):
    return {
        row.url: row
        for row in OfflineReaderPage.objects.filter(site=site, url__in=list(pages))
    }


def _is_current(row, page):
    """Whether ``row`` holds a render of ``page`` as it is published now."""
    return (
        row is not None
        and row.rendered_at is not None
        and row.page_id == page.pk
        and row.source == render_source(page)
    )


def _is_due(row, page):
    """Whether ``page`` needs a render: none is current, and none was asked for lately."""
    if _is_current(row, page):
        return False
    requested = row and row.requested_at
    return not requested or requested < timezone.now() - REQUEST_AGAIN_AFTER


def claim_renders(site, urls, pages, rows):
    """The URLs among ``urls`` whose render this request asks for, and no other request.

    Rows are marked with this request's own time, then read back: of two requests at
    once, only one finds its mark on a row. Three queries, whatever the number of URLs.
    """
    if not urls:
        return set()
    now = timezone.now()
    new = [url for url in urls if url not in rows]
    OfflineReaderPage.objects.bulk_create(
        [
            OfflineReaderPage(
                site=site, page_id=pages[url].pk, url=url, requested_at=now
            )
            for url in new
        ],
        ignore_conflicts=True,
    )
    stored = [rows[url].pk for url in urls if url in rows]
    if stored:
        OfflineReaderPage.objects.filter(pk__in=stored).filter(
            Q(requested_at__isnull=True) | Q(requested_at__lt=now - REQUEST_AGAIN_AFTER)
        ).update(requested_at=now)
    return set(
        OfflineReaderPage.objects.filter(
            site=site, url__in=urls, requested_at=now
        ).values_list("url", flat=True)
    )


def schedule_render(site_id, url):
    """Render ``url`` of a site in the background once the current transaction commits."""
    transaction.on_commit(functools.partial(enqueue_render, site_id, url))


def enqueue_render(site_id, url):
    """Enqueue ``render_reader_page_task``; a backend that refuses is logged, never raised."""
    from .tasks import render_reader_page_task

    try:
        render_reader_page_task.enqueue(site_id, url)
    except Exception:  # The reader is answered "pending"; a later request asks again.
        logger.exception("wagtail-offline: the render of %s could not be queued", url)


def _form_submit_urls(page_ids):
    page_ids = list(page_ids)
    if not page_ids:
        return {}
    from .form_queue import form_submit_urls

    return form_submit_urls(page_ids)


def _answer(url, page, row, in_manifest, refused):
    if page is None:
        # A manifest's other URLs (a feed, a route) are no Wagtail page, yet the worker holds them.
        return {"url": url, "state": SITE if in_manifest and not refused else GONE}
    if in_manifest:
        return {"url": url, "state": SITE}
    if not _is_current(row, page):
        return {"url": url, "state": PENDING}
    if row.error:
        return {
            "url": url,
            "state": FAILED,
            # The stored error is for editors; it may name the site's internals.
            "message": _("This page could not be saved for reading offline."),
        }
    return {
        "url": url,
        "state": READY,
        "title": page.seo_title or page.title,
        "summary": page.search_description,
        "revision": row.entries[0]["revision"],
        "formSubmitUrl": None,  # Filled in for every ready page at once.
        "entries": row.entries,
    }


# ---------- Rendering, in the background ----------


def render_reader_page(site, url):
    """Render the page at ``url`` for readers and store it.

    Returns the stored ``OfflineReaderPage``, or None when ``url`` is no page readers may
    keep (then any stored render of it is deleted).
    """
    client = AnonymousClient(site)
    request = client.request(url)
    site_prefixes = site_bypass_prefixes(site.pk)
    page = None
    if not is_bypassed(url, site_prefixes):
        page = find_pages(site, [url], request)[0].get(url)
    if page is None:
        OfflineReaderPage.objects.filter(site=site, url=url).delete()
        return None
    page = page.specific
    source = render_source(page)
    started = timezone.now()
    entries, error = _render_entries(site, client, page, url, request, site_prefixes)
    return _store(site, page, url, source, entries, error, started)


def _render_entries(site, client, page, url, request, site_prefixes):
    """(entries, "") of the page at ``url``, first, and of everything it needs; ([], error)."""
    paths, problem = page_paths(page, request, site.root_url, site_prefixes)
    if url not in paths:
        return [], problem or _("%(url)s is not an address of “%(page)s”.") % {
            "url": url,
            "page": page,
        }
    snapshot = render_page(client, page, [url])[0]
    if snapshot.error:
        return [], snapshot.error
    include_documents = bool(
        OfflineSettings.objects.filter(site=site)
        .values_list("include_documents", flat=True)
        .first()
    )
    assembly = Assembly(site, client, include_documents)
    assembly.private_media.prefetch(snapshot.asset_urls)
    rendered = Rendered(url, snapshot.revision, snapshot.size, snapshot.asset_urls)
    assembly.add_page_like(rendered, "page", critical=False, page_id=page.pk)
    assembly.remember_revisions()
    page_entry = assembly.entries.pop(url)
    needed = sorted(assembly.entries.values(), key=lambda entry: entry["url"])
    return [
        {field: entry[field] for field in ENTRY_FIELDS}
        for entry in [page_entry, *needed]
    ], ""


def _store(site, page, url, source, entries, error, started):
    """Store a render, unless a render of the same URL that began later stored its own."""
    try:
        with transaction.atomic():
            row = (
                OfflineReaderPage.objects.select_for_update()
                .filter(site=site, url=url)
                .first()
            ) or OfflineReaderPage(site=site, url=url)
            if row.rendered_at and row.rendered_at > started:
                return row
            row.page = page
            row.source = source
            row.entries = entries
            row.size = sum(entry["size"] for entry in entries)
            row.error = error
            row.rendered_at = started  # When the render began: what orders two renders.
            row.requested_at = None
            row.save()
            return row
    except IntegrityError:  # Another render of it created the row meanwhile.
        return OfflineReaderPage.objects.filter(site=site, url=url).first()
