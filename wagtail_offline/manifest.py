"""Building a site's offline manifest: render the offline pages, find their assets, store revisions.

Runs in a background task (see ``tasks.py``) or the ``rebuild_offline_manifest``
command, never on a request path. A build has two phases:

1. *Render* the pages whose bytes may have changed, as an anonymous reader, and keep
   one ``OfflinePageSnapshot`` per page URL (its revision and the URLs it uses).
2. *Assemble* the manifest from every snapshot: the pages, their assets and linked
   documents, minus anything private; then store it, unless another build stored
   newer snapshots meanwhile, in which case assemble again.
"""

import contextlib
import functools
import gc
import hashlib
import json
import logging
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import Collate
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.urls import NoReverseMatch, Resolver404, get_urlconf, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.documents import get_document_model
from wagtail.models import Page, Site

from . import app_manifest, conf, manifest_rows
from .asset_revisions import AssetRevisions, KnownAsset
from .assets import same_origin_paths, static_fingerprint, urls_in_css, urls_in_html
from .fallbacks import locale_fallbacks, locale_listings
from .form_queue import form_submit_urls
from .listing import listing_url, refresh_listed_lines
from .listing import part_count as listing_part_count
from .listing import read_once as listing_sections_read_once
from .listing import render_key as listing_render_key
from .listing import sections_until as listing_sections_until
from .media_origins import RemoteMedia
from .models import (
    OfflineExtraURL,
    OfflineManifest,
    OfflineManifestEntry,
    OfflinePageMixin,
    OfflinePageSnapshot,
    OfflineServingState,
    OfflineSettings,
)
from .paths import base_url, canonical_path, served_path
from .rendering import (
    AnonymousClient,
    FetchError,
    fetch_asset,
    fetch_file,
    read_asset,
    read_media,
    too_large,
)
from .selection import (
    PrivateMedia,
    below,
    excluded_pages,
    is_public_live_page,
    offline_pages,
    outermost,
)
from .spilled_rows import SpilledRows

logger = logging.getLogger(__name__)

# Optimistic assemblies tried before one is made while holding the manifest's lock.
OPTIMISTIC_ATTEMPTS = 3


@contextlib.contextmanager
def cycle_collection_paused():
    """Python's cycle collector paused for a step that builds many small containers.

    Choosing and assembling the pages of a large site allocates hundreds of thousands of
    dicts, lists and tuples, none of them in a cycle; the collector would walk them again
    and again (40% of a publish's time at 10,000 pages). Whatever cyclic garbage the step
    leaves is collected once it ends. A collector the process had disabled stays so.
    """
    global _collector_paused
    was_enabled = gc.isenabled()
    gc.disable()
    _collector_paused = _collector_paused or was_enabled
    try:
        yield
    finally:
        if was_enabled:
            _collector_paused = False
            gc.enable()


_collector_paused = False  # By ``cycle_collection_paused``, not by the process.


def collect_render_cycles():
    """A render through Django leaves cycles behind (its request, response and template
    context refer to each other), and the page's HTML with them. While a step has the
    collector paused, a step that renders collects them after each render: a large
    site's listing parts would otherwise stay in memory until the step ends. Only the
    youngest objects are looked at, where a paused collector leaves everything new."""
    if _collector_paused:
        gc.collect(0)


class ManifestError(Exception):
    """The manifest cannot be built at all (the critical pages do not render)."""


def revision_of(content):
    return hashlib.sha256(content).hexdigest()[:20]


# A masked CSRF token: 64 letters and digits standing alone.
MASKED_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


def unmask_csrf_token(token):
    """The secret behind a masked CSRF token, as Django's CsrfViewMiddleware computes it."""
    chars = CSRF_ALLOWED_CHARS
    mask, cipher = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return "".join(
        chars[(chars.index(c) - chars.index(m)) % len(chars)]
        for c, m in zip(cipher, mask, strict=True)
    )


def page_revision(content, csrf_secret=""):
    """The revision of a page's bytes, blind to the CSRF tokens masked afresh on every render.

    Only tokens that unmask to this render's own secret are blanked: a 64-character
    hash elsewhere in the page still counts.
    """
    if csrf_secret:

        def blank_own_token(match):
            token = match.group()
            return (
                b"CSRF" if unmask_csrf_token(token.decode()) == csrf_secret else token
            )

        content = MASKED_TOKEN.sub(blank_own_token, content)
    return revision_of(content)


ERROR = "error"  # Something was left out.
WARNING = "warning"  # Something ships, with a flaw.


@dataclass
class Problem:
    url: str
    message: str
    page_id: int | None = None
    level: str = ERROR

    def as_dict(self):
        return {
            "url": self.url,
            "message": self.message,
            "page_id": self.page_id,
            "level": self.level,
        }


@dataclass
class Rendered:
    """One rendered page-like URL: its revision, size and the URLs it uses.

    ``asset_urls`` holds same-origin paths (subresources and document links) and the
    absolute URLs of cross-origin subresources, which are reported, never fetched.
    """

    url: str
    revision: str
    size: int
    asset_urls: list
    warnings: list = field(default_factory=list)


# What {% offline_head %} renders; a page without it never registers the worker.
OFFLINE_HEAD_MARKER = "data-service-worker="


def render_html(client, url):
    """Render a page-like URL and find what it uses; raises ``FetchError`` with a clear message."""
    try:
        fetched = client.get(url)
    except FetchError:
        raise
    except Exception as error:  # A page that raises must not stop the others.
        logger.exception("wagtail-offline: rendering %s failed", url)
        raise FetchError(
            _("%(url)s failed to render: %(error)s")
            % {"url": url, "error": repr(error)}
        ) from error
    origin = client.site.root_url
    html = fetched.content.decode("utf-8", "replace")
    found = urls_in_html(html)
    base = base_url(origin + url, found.base)
    local, foreign = same_origin_paths(found.subresources, base, origin)
    linked, _foreign_links = same_origin_paths(found.links, base, origin)
    documents = [path for path in linked if document_id(path) is not None]
    # Files on a media origin are fetched by every reader too: they count.
    media = list(filter(None, map(RemoteMedia().entry_url, foreign)))
    _check_url_count(url, len(set(local + documents + media)))
    warnings = []
    if _is_html(fetched.content_type) and OFFLINE_HEAD_MARKER not in html:
        warnings.append(
            _(
                "%(url)s is rendered by a template without {%% offline_head %%}: readers "
                "who open it first never get the service worker. Add {%% load "
                "wagtail_offline %%}{%% offline_head %%} to the <head> of its template "
                "(or its base template)."
            )
            % {"url": url}
        )
    return Rendered(
        url,
        page_revision(fetched.content, fetched.csrf_secret),
        len(fetched.content),
        _unique(local + documents + foreign),
        warnings,
    )


def _is_html(content_type):
    return (content_type or "text/html").split(";")[0].strip() == "text/html"


def _check_url_count(url, count):
    """A page or stylesheet may not make a build fetch thousands of URLs (nor every reader)."""
    limit = conf.get("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE")
    if limit is not None and count > limit:
        raise FetchError(
            _(
                "%(url)s uses %(count)s URLs of this site, over the limit of %(limit)s "
                "(WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE); it is not saved offline."
            )
            % {"url": url, "count": count, "limit": limit}
        )


def document_id(path):
    """The id of the Wagtail document that ``path`` serves, or None."""
    served = served_path(path)
    marker = _document_serve_segment(get_urlconf() or settings.ROOT_URLCONF)
    if served and marker and marker not in served:
        return None  # Resolving every asset URL of a large site is what a build would wait on.
    try:
        match = resolve(served) if served else None
    except Resolver404:
        return None
    if match is None:
        return None
    if match.url_name != "wagtaildocs_serve":
        return None
    return int(match.args[0])


@functools.lru_cache(maxsize=16)
def _document_serve_segment(urlconf):
    """The segment before the id in Wagtail's document URLs ("/documents/"), or None.

    Whatever prefix a language or mount point adds, a document's URL contains it.
    """
    try:
        url = reverse("wagtaildocs_serve", args=[1, "x"], urlconf=urlconf)
    except NoReverseMatch:
        return None
    head = url[: -len("/1/x")] if url.endswith("/1/x") else ""
    segment = head.rsplit("/", 1)[-1]
    return f"/{segment}/" if segment else None


def never_offline_prefixes(site_prefixes=()):
    """Path prefixes of the admins (and so of previews), the project's and the site's own:
    nothing under them is ever an entry, and the worker never intercepts them."""
    prefixes = []
    for name in ("wagtailadmin_home", "admin:index"):
        try:
            prefixes.append(reverse(name))
        except NoReverseMatch:
            pass
    project = conf.get("WAGTAIL_OFFLINE_BYPASS_PREFIXES")
    if isinstance(
        project, str
    ):  # The E002 check reports it; never one prefix per letter.
        project = [project]
    return _unique(prefixes + list(project) + list(site_prefixes))


def site_bypass_prefixes(site_id):
    """The path prefixes editors listed in the site's offline settings."""
    from .models import OfflineBypassPrefix

    return list(
        OfflineBypassPrefix.objects.filter(settings__site_id=site_id)
        .order_by("sort_order", "pk")
        .values_list("path", flat=True)
    )


def _unique(items):
    return list(dict.fromkeys(items))


def site_relative_url(page, site):
    """The page's path on ``site``, or None when it is served from another site."""
    site_id, _, path = page.get_url_parts() or (None, None, None)
    if site_id != site.pk or path is None:
        return None
    return path


# ---------- Phase 1: rendering the pages that may have changed ----------


def page_paths(page, request, origin, site_prefixes=()):
    """The site-relative paths (with query) ``page`` asks for, and a problem or None.

    ``site_prefixes``: the paths the site's offline settings keep the worker away from.
    """
    paths, elsewhere, refused = [], [], []
    never_offline = never_offline_prefixes(site_prefixes)
    # A page type without the mixin, below a flagged section, has the mixin's URLs.
    get_offline_urls = getattr(page, "get_offline_urls", None) or (
        lambda request: OfflinePageMixin.get_offline_urls(page, request)
    )
    for item in get_offline_urls(request):
        path = canonical_path(item["location"], origin + "/", origin)
        served = path and served_path(path)
        if path is None:
            elsewhere.append(item["location"])
        elif served is None or served.startswith(tuple(never_offline)):
            refused.append(path)  # A page's own hook is no way into the admin.
        else:
            paths.append(path)
    if elsewhere:
        return paths, _("%(urls)s belongs to another site, not %(origin)s.") % {
            "urls": ", ".join(elsewhere),
            "origin": origin,
        }
    if refused:
        return paths, _(
            "%(urls)s is part of the admin, under a path the service worker never "
            "touches (the offline settings or WAGTAIL_OFFLINE_BYPASS_PREFIXES), or "
            "spelled in a way servers read differently; it is never saved offline."
        ) % {"urls": ", ".join(refused)}
    if not paths:
        return paths, _("“%(page)s” has no URL on %(origin)s.") % {
            "page": page,
            "origin": origin,
        }
    return paths, None


def render_page(client, page, paths, problem=None):
    """Unsaved snapshots of every path of ``page``; failures become snapshots with an error."""
    snapshots = []
    if problem:
        snapshots.append(_snapshot(client.site, page, url="", error=problem))
    for path in paths:
        try:
            rendered = render_html(client, path)
        except FetchError as error:
            snapshots.append(_snapshot(client.site, page, url=path, error=str(error)))
            continue
        snapshots.append(
            _snapshot(
                client.site,
                page,
                url=path,
                revision=rendered.revision,
                size=rendered.size,
                asset_urls=rendered.asset_urls,
                warnings=rendered.warnings,
            )
        )
    return snapshots


def _snapshot(site, page, **values):
    return OfflinePageSnapshot(site=site, page_id=page.pk, **values)


def lock_snapshots(site):
    """Take the lock on ``site``'s snapshots until the transaction ends.

    Row locks on the snapshots cannot do it: two builds rendering the same new page
    would both insert it. So builds take turns on the site's row instead (FOR NO KEY
    UPDATE where the database has it, which leaves inserts that refer to the site alone).
    """
    no_key = connection.features.has_select_for_no_key_update
    list(Site.objects.select_for_update(no_key=no_key).filter(pk=site.pk).values("pk"))


def save_snapshots(site, renders):
    """Store each page's new snapshots, unless a render of it that began later stored its own.

    ``renders`` is a list of (page, snapshots, started); one transaction and a few
    queries for them all, as a commit or a query per page would cost more than the writes.
    """
    with transaction.atomic():
        lock_snapshots(site)
        page_ids = [page.pk for page, _snapshots, _started in renders]
        latest = {}
        for page_id, rendered_at in OfflinePageSnapshot.objects.filter(
            site=site, page_id__in=page_ids
        ).values_list("page_id", "rendered_at"):
            latest[page_id] = max(rendered_at, latest.get(page_id, rendered_at))
        kept = [
            (page, snapshots, started)
            for page, snapshots, started in renders
            if not (page.pk in latest and latest[page.pk] > started)
        ]
        OfflinePageSnapshot.objects.filter(
            site=site, page_id__in=[page.pk for page, _snapshots, _started in kept]
        ).delete()
        # rendered_at records when the render began, which is what orders two renders.
        for _page, snapshots, started in kept:
            for snapshot in snapshots:
                snapshot.rendered_at = started
        OfflinePageSnapshot.objects.bulk_create(
            [snapshot for _page, snapshots, _started in kept for snapshot in snapshots]
        )
        if kept:
            OfflineServingState.bump()  # The listing shows the snapshots' URLs.


SNAPSHOT_BATCH = 200
MAX_URL_LENGTH = OfflineManifestEntry._meta.get_field("url").max_length
# Up to this many pages to check are looked up by id; more are picked from every offline page.
CANDIDATES_BY_ID = 500


def pages_to_render(site, client, page_ids, scope=None, seen_until=None):
    """(``StalePage``, paths, problem, url_path) for each offline page to re-render: a
    list, or with ``page_ids`` None (every page) ``EveryOfflinePage``, which reads
    them as it goes.

    Beyond ``page_ids`` (None: all), a page is rendered when it has no snapshot yet
    or its URLs changed; only the pages of ``scope`` (page ids; None: the whole site)
    and those added after page id ``seen_until`` are looked at for that. Only pages whose snapshot was rendered at another place in
    the tree (``url_path``) or with other sites or paths never offline (the paths key)
    are asked for their URLs: the database finds them, as asking every page is what a
    publish on a large site would wait on.
    """
    # One request: Wagtail caches the site's root paths on it.
    request = client.request("/")
    site_prefixes = site_bypass_prefixes(site.pk)
    if page_ids is None:
        return EveryOfflinePage(site, request, site_prefixes)
    paths_key = paths_key_of(site, site_prefixes)
    among = None
    if page_ids is not None and scope is not None:
        added = Page.objects.filter(pk__gt=seen_until or 0).values_list("pk", flat=True)
        added = list(added[: MAX_SCOPE + 1])
        if len(added) <= MAX_SCOPE:  # Else an import: every page is looked at.
            among = set(scope) | set(page_ids) | set(added)
    offline = offline_pages(site, among=among)
    current = OfflinePageSnapshot.objects.filter(
        site=site,
        page_id=OuterRef("pk"),
        paths_key=paths_key,
        url_path=OuterRef("url_path"),
    )
    candidates = offline.filter(Q(pk__in=sorted(page_ids)) | ~Exists(current))
    candidate_ids = set(candidates.order_by().values_list("pk", flat=True))
    stored = {}
    for batch in _batches(sorted(candidate_ids), CANDIDATES_BY_ID):
        for page_id, url in OfflinePageSnapshot.objects.filter(
            site=site, page_id__in=batch
        ).values_list("page_id", "url"):
            stored.setdefault(page_id, set()).add(url)
    stale, same_urls = [], {}
    pages = offline.filter(pk__in=sorted(candidate_ids))
    if len(candidate_ids) > CANDIDATES_BY_ID:
        pages = offline  # One query with no list of ids; the others are skipped.
    # A chunk of specific pages at a time: Django's default chunk is 2,000 of them.
    for page in pages.specific().iterator(chunk_size=CANDIDATES_BY_ID):
        if page.pk not in candidate_ids:
            continue
        paths, problem = page_paths(page, request, site.root_url, site_prefixes)
        wanted = set(paths) | ({""} if problem else set())
        if page.pk in page_ids or stored.get(page.pk) != wanted:
            # Only what rendering needs: holding 10,000 page objects costs tens of MB.
            stale.append(
                (StalePage(page.pk, page.title), paths, problem, page.url_path)
            )
        else:
            same_urls[page.pk] = page.url_path
    _store_paths_keys(site, paths_key, same_urls)
    return stale


class EveryOfflinePage:
    """Every offline page of a site, to render as ``pages_to_render`` gives them: read
    by id a chunk at a time, each chunk in a short query (a read held open would keep
    other processes from writing to SQLite), so that a full build of a large site holds
    no list of its pages. By id, not by path: a page moved (or reordered) while the
    build runs is met once, and a page published meanwhile is met last.
    ``len``: how many there were when it began."""

    def __init__(self, site, request, site_prefixes):
        self.site, self.request, self.site_prefixes = site, request, site_prefixes
        self.total = offline_pages(site).count()

    def __len__(self):
        return self.total

    def __iter__(self):
        after = 0
        while chunk := offline_chunk(self.site, after):
            after = chunk[-1].pk
            for page in chunk:
                paths, problem = page_paths(
                    page, self.request, self.site.root_url, self.site_prefixes
                )
                yield StalePage(page.pk, page.title), paths, problem, page.url_path


def offline_chunk(site, after):
    """The next offline pages of ``site`` by id after id ``after``, specific."""
    ids = offline_pages(site).filter(pk__gt=after).order_by("pk")
    chunk = list(ids.values_list("pk", flat=True)[:CANDIDATES_BY_ID])
    return list(Page.objects.filter(pk__in=chunk).order_by("pk").specific())


class StalePage(NamedTuple):
    """A page to render, as the build and its ``progress`` callback know it."""

    pk: int
    title: str

    def __str__(self):
        return self.title


def paths_key_of(site, site_prefixes):
    """Changes with whatever the site's pages' URLs depend on besides their place in
    the tree (``url_path``): the sites' root paths and the paths never saved offline.

    Equal keys and ``url_path``, equal URLs (a page's own ``get_offline_urls`` changes
    with a publish, which names the page).
    """
    context = json.dumps(
        [
            site.root_url,
            never_offline_prefixes(site_prefixes),
            [list(root) for root in Site.get_site_root_paths()],
        ]
    )
    return revision_of(context.encode())


def _paths_unchanged(site):
    """Whether every snapshot was rendered with the sites and paths of now (the paths
    key): else any page's URL may have changed, wherever a change was made."""
    paths_key = paths_key_of(site, site_bypass_prefixes(site.pk))
    snapshots = OfflinePageSnapshot.objects.filter(site=site)
    # Two ranges of an index, where "not equal" would read every row.
    return not (
        snapshots.filter(paths_key__lt=paths_key).exists()
        or snapshots.filter(paths_key__gt=paths_key).exists()
    )


def _store_paths_keys(site, paths_key, url_paths):
    """Record that the URLs of these pages (page id -> url_path) were found unchanged."""
    snapshots = []
    for batch in _batches(list(url_paths), CANDIDATES_BY_ID):
        for snapshot in OfflinePageSnapshot.objects.filter(
            site=site, page_id__in=batch
        ).only("pk", "page_id"):
            snapshot.paths_key = paths_key
            snapshot.url_path = url_paths[snapshot.page_id]
            snapshots.append(snapshot)
    OfflinePageSnapshot.objects.bulk_update(
        snapshots, ["paths_key", "url_path"], batch_size=500
    )


def _batches(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def forget_pages_no_longer_offline(site, scope=None):
    """Delete the snapshots of the pages of ``scope`` (page ids; None: the whole site)
    that are no longer offline.

    The offline pages are read again under the lock: a build that began earlier must
    not delete the snapshot of a page another build has just rendered for its publish.
    """
    with transaction.atomic():
        lock_snapshots(site)
        snapshots = OfflinePageSnapshot.objects.filter(site=site)
        if scope is not None:
            snapshots = snapshots.filter(page_id__in=sorted(scope))
        offline = offline_pages(site, among=scope)
        deleted, _by_model = snapshots.exclude(
            page_id__in=offline.order_by().values("pk")
        ).delete()
        if deleted:
            OfflineServingState.bump()  # The listing shows the snapshots.


def render_stale_pages(
    site, client, page_ids=None, progress=None, store=True, scope=None, seen_until=None
):
    """Phase 1: render what may have changed (below ``scope``: see ``pages_to_render``).

    Returns ``(snapshots, rendered_ids)``: the new snapshots when not ``store`` (else
    none: the assembly reads them back) and the ids of the pages rendered (None when
    ``page_ids`` is None: every page was, and a large site's ids are not kept).
    """
    with cycle_collection_paused():
        stale = pages_to_render(site, client, page_ids, scope, seen_until)
    if store:
        forget_pages_no_longer_offline(site, scope)
    paths_key = paths_key_of(site, site_bypass_prefixes(site.pk))
    rendered, unsaved, rendered_ids = [], [], set()
    for number, (page, paths, problem, url_path) in enumerate(stale, start=1):
        if progress:  # A page published meanwhile may be met too.
            progress(number, max(number, len(stale)), page)
        started = timezone.now()
        snapshots = render_page(client, page, paths, problem)
        for snapshot in snapshots:
            snapshot.paths_key = paths_key
            snapshot.url_path = url_path
        unsaved.append((page, snapshots, started))
        if page_ids is not None:
            rendered_ids.add(page.pk)
        if not store:  # Else read back by the assembly: memory stays flat here.
            rendered += snapshots
        elif len(unsaved) == SNAPSHOT_BATCH:
            save_snapshots(site, unsaved)
            unsaved = []
    if store and unsaved:
        save_snapshots(site, unsaved)
    return rendered, None if page_ids is None else rendered_ids


# ---------- Phase 2: assembling the manifest from the snapshots ----------


def too_long(url):
    """Whether ``url`` is longer than a stored entry's URL may be (in UTF-8 bytes, which
    a database index counts)."""
    return len(url) > MAX_URL_LENGTH or len(url.encode()) > MAX_URL_LENGTH


@dataclass
class Assembly:
    """One assembly of one site's manifest from its page snapshots."""

    site: Site
    client: AnonymousClient
    include_documents: bool
    entries: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    _assets: dict = field(default_factory=dict)
    _documents: dict = field(default_factory=dict)
    # (page id or None, rendered) of every page-like entry, for the pages' summaries.
    _page_likes: list = field(default_factory=list)
    # What asked for URLs (a page-like entry's URL, the web app manifest, the offline
    # settings) -> [its page id, whether it is critical, the URLs it asked for].
    _users: dict = field(default_factory=dict)
    # The previous manifest's asset entries (URL -> entry), which a partial build reuses
    # for the assets that only pages it did not render use (see ``carry_over``).
    previous_assets: dict = field(default_factory=dict)
    carrying: bool = False
    # Where ``seal`` hands the entries and uses over (a full build); None keeps them.
    spilled: SpilledRows | None = None

    def __post_init__(self):
        self.origin = self.site.root_url
        # Media on a declared media origin: entries by absolute URL, checked by storage name.
        self.remote_media = RemoteMedia()
        self.private_media = PrivateMedia(self.remote_media)
        self.never_offline = never_offline_prefixes(site_bypass_prefixes(self.site.pk))
        self.revisions = AssetRevisions(self.origin, self.remote_media)
        self.key = assembly_key(self.origin, self.never_offline, self.include_documents)
        self.max_asset_size = conf.get("WAGTAIL_OFFLINE_MAX_ASSET_SIZE")

    def report(self, url, message, page_id=None, level=ERROR):
        logger.warning("wagtail-offline (%s): %s", self.site, message)
        self.problems.append(Problem(url, message, page_id, level))

    def add_page_like(self, rendered, kind, critical, page_id=None):
        self.entries[rendered.url] = {
            "url": rendered.url,
            "revision": rendered.revision,
            "size": rendered.size,
            "kind": kind,
            "critical": critical,
        }
        self._page_likes.append((page_id, rendered))
        for warning in rendered.warnings:
            self.report(rendered.url, warning, page_id, WARNING)
        self.add_urls(rendered.url, rendered.asset_urls, critical, page_id)

    def has_entry(self, url):
        return url in self.entries or (
            self.spilled is not None and self.spilled.has_entry(url)
        )

    def seal(self):
        """With ``spilled``: hand the entries and uses made so far over to it, and forget
        what later pages cannot need, so that memory stays flat however many pages
        follow. Stylesheets' judgements, and the URLs that were reported, are kept:
        they are not judged, nor reported, again."""
        if self.spilled is None:
            return
        self.remember_revisions()
        self.spilled.add(self.entries.values(), self._user_needs())
        self.entries, self._users, self._page_likes = {}, {}, []
        self._assets = {
            url: asset for url, asset in self._assets.items() if not asset or asset[2]
        }
        self.revisions.forget()
        self.private_media.forget()

    def _user_needs(self):
        """user -> (page id, critical, URLs): what it asked for, what their stylesheets
        load, and itself when it is an entry."""
        uses = {}
        for user, (page_id, critical, urls) in self._users.items():
            needs = self._closure(urls, user)
            if user in self.entries:
                needs.add(user)
            uses[user] = (page_id, critical, needs)
        return uses

    def uses(self):
        """What each user needs, for storing: user -> (page id, critical, URLs) (see
        ``_user_needs``). An entry nothing asked for (the web app manifest) uses itself."""
        uses = self._user_needs()
        reached = set().union(*(needs for _id, _critical, needs in uses.values()))
        for url, entry in self.entries.items():
            if url not in reached:
                uses[url] = (None, entry["critical"], {url})
        return uses

    def page_summaries(self):
        """Per offline page URL: its bytes, the bytes of the assets only it uses, and the
        total it needs (itself, its assets, what their stylesheets load, its documents)."""
        needs = {
            rendered.url: self._closure(rendered.asset_urls, rendered.url)
            for _, rendered in self._page_likes
        }
        users = Counter(url for urls in needs.values() for url in urls)
        summaries = []
        for page_id, rendered in self._page_likes:
            if page_id is None:
                continue  # The fallback page, the listing, other URLs: not an editor's page.
            stored = [url for url in needs[rendered.url] if url in self.entries]
            summaries.append(
                {
                    "page_id": page_id,
                    "url": rendered.url,
                    "size": rendered.size,
                    "own_size": rendered.size
                    + sum(self.entries[u]["size"] for u in stored if users[u] == 1),
                    "total_size": rendered.size
                    + sum(self.entries[u]["size"] for u in stored),
                    "foreign": sorted(
                        url
                        for url in needs[rendered.url]
                        if not url.startswith("/") and url not in self.entries
                    ),
                    # The entries it needs: a section's size counts each of them once.
                    "needs": sorted(stored),
                }
            )
        return sorted(summaries, key=lambda summary: summary["url"])

    def _closure(self, urls, own_url):
        """Every URL that ``urls`` lead to, themselves or through their stylesheets."""
        seen, pending = set(), list(urls)
        while pending:
            url = self._entry_url(pending.pop())
            if url in seen or url == own_url or too_long(url):
                continue
            seen.add(url)
            asset = self._assets.get(url)
            if asset:
                pending += asset[2]
        return seen

    def add_urls(self, source, urls, critical, page_id=None):
        """Add a page's subresources (and what their stylesheets load) and linked documents.

        ``source`` is what asked for them: its uses are stored (see ``uses``).
        """
        user = self._users.setdefault(source, [page_id, False, []])
        user[1] = user[1] or critical
        user[2] += urls
        if not self.carrying:  # Else most are carried: look up the others one by one.
            self.revisions.prefetch(urls)
        pending = [(url, source) for url in urls]
        while pending:
            url, used_by = pending.pop()
            url = self._entry_url(url)
            if too_long(url):
                self.report(
                    url[:100] + "…",
                    _(
                        "A URL of %(length)s characters (used by %(used_by)s) is too "
                        "long to be saved offline."
                    )
                    % {"length": len(url), "used_by": used_by},
                    page_id,
                )
                continue
            if url in self.entries:
                self.entries[url]["critical"] = (
                    self.entries[url]["critical"] or critical
                )
                continue
            if self.spilled is not None and self.spilled.has_entry(url):
                # Judged for an earlier batch of pages. Storing makes it critical if
                # a critical user needs it.
                continue
            if not url.startswith("/"):
                if self.remote_media.storage_name(url) is None:
                    self.report(url, self._foreign_message(url, used_by), page_id)
                    continue
            elif self._carried(url):
                pass  # Its spelling passed the same rules last time: only privacy may differ.
            elif problem := self._path_problem(url, used_by):
                self.report(url, problem, page_id)
                continue
            elif document_id(url) is not None:
                self.add_document(url, page_id)
                continue
            owner = self.private_media.private_owner(url)
            if owner is not None:
                self.report(
                    url,
                    _(
                        "%(url)s (used by %(used_by)s) shows %(owner)s; it is never "
                        "saved offline."
                    )
                    % {"url": url, "used_by": used_by, "owner": owner},
                    page_id,
                )
                continue
            asset = self.asset(url, page_id)
            if asset is None:
                continue
            revision, size, nested = asset
            self.entries[url] = {
                "url": url,
                "revision": revision,
                "size": size,
                "kind": "asset",
                "critical": critical,
            }
            if not self.carrying:
                self.revisions.prefetch(nested)
            pending += [(nested_url, url) for nested_url in nested]

    def _path_problem(self, url, used_by):
        """Why a path of the site is never an entry (its spelling, the admin), or None."""
        # The rules see the path the server acts on, whatever its spelling.
        served = served_path(url)
        if served is None or canonical_path(url, self.origin + "/") != url:
            return _(
                "%(url)s (used by %(used_by)s) spells its path in a way servers "
                "read differently; it is never saved offline."
            ) % {"url": url, "used_by": used_by}
        if any(served.startswith(prefix) for prefix in self.never_offline):
            return _(
                "%(url)s (used by %(used_by)s) is part of the admin, or under a "
                "path the service worker never touches; it is never saved offline."
            ) % {"url": url, "used_by": used_by}
        return None

    def _entry_url(self, url):
        """A URL on a declared media origin as its entry spells it; any other as is."""
        if url.startswith("/"):
            return url
        return self.remote_media.entry_url(url) or url

    def _foreign_message(self, url, used_by):
        if self.remote_media.entry_url(url) is None:
            return _(
                "%(url)s (used by %(used_by)s) is on another site and will not work "
                "offline."
            ) % {"url": url, "used_by": used_by}
        # Declared, but no file of the media storage: its privacy cannot be told.
        return _(
            "%(url)s (used by %(used_by)s) is on a media origin "
            "(WAGTAIL_OFFLINE_MEDIA_ORIGINS) but is not the public URL of a media file; "
            "it is never saved offline."
        ) % {"url": url, "used_by": used_by}

    def asset(self, url, page_id=None):
        """(revision, size, nested URLs) of an asset, following stylesheets; None if unusable
        (reported for ``page_id``, the page that first needs it).

        The file is read only when it may have changed since a build last read it.
        """
        if url in self._assets:
            return self._assets[url]
        carried = self._carried_asset(url)
        self._assets[url] = None  # Guards against @import cycles.
        known = carried or self.revisions.known(url) or self._read_asset(url, page_id)
        if known is None:
            return None
        if known.size > self.max_asset_size:
            self.report(url, too_large(url, known.size, self.max_asset_size), page_id)
            return None
        nested = []
        if known.stylesheet_urls:  # Most assets are images: nothing to resolve.
            base = self.origin + url if url.startswith("/") else url
            local, foreign = same_origin_paths(known.stylesheet_urls, base, self.origin)
            try:
                _check_url_count(url, len(local))
            except FetchError as error:
                self.report(url, str(error), page_id)
                return None
            nested = local + foreign
        self._assets[url] = (known.revision, known.size, nested)
        return self._assets[url]

    def carry_over(self, previous):
        """From now on, take the assets not judged yet from ``previous`` (a stored
        manifest) when it was assembled by the same rules.

        Called once the fallback, the listing and the pages this build rendered are
        added: every asset they use has been judged afresh (its file's stamp checked, or
        read). The others are used only by pages whose snapshots did not change, and a
        publish cannot have changed them: a full rebuild judges them all again.
        """
        if previous is None or previous.assembly_key != self.key:
            return
        self.previous_assets = {
            entry["url"]: entry
            for entry in OfflineManifestEntry.objects.filter(
                site_id=previous.site_id, kind="asset"
            ).values("url", "revision", "size")
        }
        self.carrying = True

    def _carried(self, url):
        """The previous manifest's entry for an asset this build reuses, or None."""
        if not self.carrying or url in self._assets:
            return None
        entry = self.previous_assets.get(url)
        # A file served by a view is rendered again: only its response tells.
        if entry is None or not self.revisions.is_stored(url):
            return None
        return entry

    def _carried_asset(self, url):
        entry = self._carried(url)
        if entry is None:
            return None
        stylesheet_urls = ()
        if _is_stylesheet(url, None):
            # What it loads is in its stored revision; without one, it is read again.
            stylesheet_urls = self.revisions.stylesheet_urls(url)
            if stylesheet_urls is None:
                return None
        return KnownAsset(entry["revision"], entry["size"], stylesheet_urls)

    def _read_asset(self, url, page_id):
        """What the asset holds now, read and remembered; None (reported) if unreadable."""
        try:
            if url.startswith("/"):
                fetched = read_asset(self.client, url)
            else:
                fetched = read_media(url, self.remote_media.storage_name(url))
        except FetchError as error:
            self.report(url, str(error), page_id)
            return None
        except Exception as error:
            logger.exception("wagtail-offline: fetching %s failed", url)
            self.report(
                url,
                _("%(url)s could not be read: %(error)s")
                % {"url": url, "error": repr(error)},
                page_id,
            )
            return None
        stylesheet_urls = ()
        if _is_stylesheet(url, fetched.content_type):
            stylesheet_urls = tuple(
                urls_in_css(fetched.content.decode("utf-8", "replace"))
            )
        known = KnownAsset(
            revision_of(fetched.content), len(fetched.content), stylesheet_urls
        )
        self.revisions.learn(url, known)
        return known

    def remember_revisions(self):
        """Store the revisions of the files this assembly read, for the next builds."""
        self.revisions.save()

    def add_document(self, url, page_id):
        """A linked document is an entry when the site includes documents and it is public."""
        if not self.include_documents or url in self._documents:
            return
        self._documents[url] = None
        document = get_document_model().objects.filter(pk=document_id(url)).first()
        path_filename = served_path(url).rsplit("/", 1)[-1]
        if document is None or document.filename != path_filename:
            self.report(
                url,
                _("%(url)s links to a document that does not exist.") % {"url": url},
                page_id,
            )
            return
        owner = self.private_media.private_document(document)
        if owner is not None:
            self.report(
                url,
                _("%(url)s is %(owner)s; it is never saved offline.")
                % {"url": url, "owner": owner},
                page_id,
            )
            return
        try:
            revision, size = _document_revision(url, document)
        except FetchError as error:
            self.report(url, str(error), page_id)
            return
        self.entries[url] = {
            "url": url,
            "revision": revision,
            "size": size,
            "kind": "document",
            "critical": False,
        }


def _document_revision(url, document):
    """(revision, size) of a document: Wagtail's stored hash when it has one, else the bytes."""
    limit = conf.get("WAGTAIL_OFFLINE_MAX_ASSET_SIZE")
    if document.file_hash and document.file_size is not None:
        if document.file_size > limit:
            raise FetchError(too_large(url, document.file_size, limit))
        return document.file_hash[:20], document.file_size
    fetched = fetch_file(url, document.file)
    return revision_of(fetched.content), len(fetched.content)


def _is_stylesheet(url, content_type):
    if content_type:
        return content_type.split(";")[0].strip() == "text/css"
    return mimetypes.guess_type(urlsplit(url).path)[0] == "text/css"


class StoredSnapshot(NamedTuple):
    """What assembling reads of an ``OfflinePageSnapshot``: rows, not models, for 10,000 pages."""

    page_id: int
    url: str
    revision: str
    size: int
    asset_urls: list
    warnings: list
    error: str


class Assembled(NamedTuple):
    """A manifest's contents, as ``assemble`` returns them for storing."""

    entries: list
    problems: list
    uses: dict  # see ``Assembly.uses``
    extras: dict
    key: str  # see ``assembly_key``
    listing_renders: dict  # listing URL -> its render and ``listing.render_key``
    assembly: Assembly  # for a preview's page summaries


def assembly_key(origin, never_offline, include_documents):
    """Changes with whatever judging an asset depends on besides its file: a manifest's
    judgements are reused only by an assembly with the same key."""
    limits = [
        conf.get(name)
        for name in (
            "WAGTAIL_OFFLINE_MAX_ASSET_SIZE",
            "WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE",
            "WAGTAIL_OFFLINE_MEDIA_ORIGINS",
        )
    ]
    context = [
        origin,
        never_offline,
        include_documents,
        settings.STATIC_URL,
        settings.MEDIA_URL,
        repr(limits),
    ]
    return revision_of(json.dumps(context, default=str).encode())


def assemble(
    site, client, snapshots, offline_ids, previous=None, fresh_ids=None, spilled=None
):
    """Phase 2: the entries, problems, page summaries and extras of the manifest, from
    the snapshots.

    The fallback pages, the listing and the settings' other URLs are rendered here: the
    listing shows the snapshots. With ``previous`` (the stored manifest), the assets
    that only pages outside ``fresh_ids`` (the pages this build rendered) use keep
    their judgement from it: see ``Assembly.carry_over``.

    ``snapshots``: in URL order, iterated once or twice. With ``spilled``, the entries
    and uses are handed over to it a batch of pages at a time, for
    ``manifest_rows.replace_spilled``, and not returned.
    """
    offline_settings = OfflineSettings.for_site(site)
    assembly = Assembly(
        site, client, offline_settings.include_documents, spilled=spilled
    )
    # The critical set: without it an offline reader would see the browser's error page.
    problem = fallback_problem(site)
    if problem:
        assembly.report(fallback_url(site), problem)
    # First: every page links the web app manifest, which must not be fetched as an asset.
    web_app = app_manifest.build(assembly, offline_settings)
    app_manifest.add_entry(assembly, web_app)
    fallbacks = locale_fallbacks(site, fallback_url(site))
    for url in _unique(fallback["url"] for fallback in fallbacks):
        assembly.add_page_like(render_critical(client, url), "fallback", critical=True)
    listings = locale_listings(site)
    stored_renders = {}
    if previous is not None and previous.assembly_key == assembly.key:
        stored_renders = previous.listing_renders or {}
    listing_renders = {}
    for language_code in [None, *(listing["language"] for listing in listings)]:
        # The key is taken before rendering: a publish landing in between leaves a
        # render newer than its key, which the next build renders again; never the
        # reverse. A build comparing with stored renders refreshed the listed lines.
        key = listing_render_key(site, language_code, stored_lines=bool(stored_renders))
        with listing_sections_read_once():
            parts = _listing_parts(site, language_code, key, stored_renders)
            for number in range(1, parts + 1):
                url = listing_url(language_code, number)
                rendered, listing_renders[url] = render_listing(
                    client, url, key, stored_renders.get(url)
                )
                assembly.add_page_like(rendered, "listing", critical=True)
        listing_renders[listing_url(language_code)]["parts"] = parts
    # Shown after sending a form offline.
    queued = render_critical(client, reverse("wagtail_offline:queued"))
    assembly.add_page_like(queued, "queued", critical=True)

    def offline(fresh):
        """The offline pages' snapshots, in URL order, of pages rendered (or not)."""
        for snapshot in snapshots:
            if snapshot.page_id in offline_ids and (
                fresh_ids is None or (snapshot.page_id in fresh_ids) == fresh
            ):
                yield snapshot

    if previous is not None and fresh_ids is not None:
        fresh_ids = fresh_ids | changed_since(site)
    else:
        fresh_ids = None
    add_snapshots(assembly, offline(fresh=True))
    if fresh_ids is not None:
        unchanged = offline(fresh=False)
        first = next(unchanged, None)
        if first is not None:
            # Every asset of the pages rendered is judged: reuse the others' judgements.
            assembly.carry_over(previous)
            add_snapshots(assembly, chain([first], unchanged))
            assembly.carrying = False
    add_extra_urls(assembly, offline_settings)
    assembly.seal()
    assembly.remember_revisions()
    extras = {"fallbacks": fallbacks, "appManifest": web_app, "listings": listings}
    if assembly.spilled is not None:
        entries = uses = None  # Stored from ``assembly.spilled``.
    else:
        entries = sorted(assembly.entries.values(), key=lambda entry: entry["url"])
        uses = assembly.uses()
    return Assembled(
        entries,
        assembly.problems,
        uses,
        extras,
        assembly.key,
        listing_renders,
        assembly,
    )


def render_critical(client, url):
    """A page-like URL readers need offline, rendered; ``ManifestError`` if it fails."""
    try:
        return render_html(client, url)
    except FetchError as error:
        raise ManifestError(
            _("%(url)s is needed offline but could not be rendered: %(error)s")
            % {"url": url, "error": error}
        ) from error
    finally:
        collect_render_cycles()


def _listing_parts(site, language_code, key, stored_renders):
    """How many parts the listing in ``language_code`` has: as stored, while its key
    is the stored one (a publish reads no other page), else counted afresh."""
    stored = stored_renders.get(listing_url(language_code))
    if stored and stored.get("key") == key:
        return stored.get("parts", 1)
    sections, _until = listing_sections_until(site, language_code)
    return listing_part_count(sections)


def render_listing(client, url, key, stored=None):
    """``(Rendered, what to store of it)`` for the listing (or listing part) at ``url``:
    ``stored`` (what a build stored of it) when its ``key`` (``listing.render_key``)
    is the one stored with it, else rendered now."""
    if stored and stored.get("key") == key:
        rendered = Rendered(
            url,
            stored["revision"],
            stored["size"],
            stored["asset_urls"],
            stored["warnings"],
        )
    else:
        rendered = render_critical(client, url)
    return rendered, {
        "key": key,
        "revision": rendered.revision,
        "size": rendered.size,
        "asset_urls": rendered.asset_urls,
        "warnings": rendered.warnings,
    }


def changed_since(site, scope=None, page_ids=()):
    """Ids of the pages whose snapshots the stored manifest does not ship as they are:
    stored by another build since (whose manifest is not stored yet, or never was), or
    gone (the page left, or failed to render).

    With ``scope`` (page ids), pages gone are looked for only among it and
    ``page_ids``: a publish names the pages it deletes, and what else left is below
    the page it changed.
    """
    # ``__in``: SQLite looks a boolean up in an index for ``IN``, not for a bare column.
    unshipped = set(
        OfflinePageSnapshot.objects.filter(site=site, shipped__in=[False]).values_list(
            "page_id", flat=True
        )
    )
    if scope is not None:
        named = set(page_ids) | set(scope)
        with_snapshot = set()
        for batch in _batches(sorted(named), CANDIDATES_BY_ID):
            with_snapshot.update(
                OfflinePageSnapshot.objects.filter(
                    site=site, page_id__in=batch, error=""
                ).values_list("page_id", flat=True)
            )
        shipped_pages = set()
        for batch in _batches(sorted(named - with_snapshot), CANDIDATES_BY_ID):
            shipped_pages.update(
                OfflineManifestEntry.objects.filter(
                    site=site, kind="page", page_id__in=batch
                ).values_list("page_id", flat=True)
            )
        return unshipped | shipped_pages
    shipped = OfflineManifestEntry.objects.filter(
        site=site, kind="page", url=OuterRef("url"), revision=OuterRef("revision")
    )
    changed = (
        OfflinePageSnapshot.objects.filter(site=site, error="")
        .exclude(Exists(shipped))
        .values_list("page_id", flat=True)
    )
    current = OfflinePageSnapshot.objects.filter(
        site=site, page_id=OuterRef("page_id"), url=OuterRef("url"), error=""
    )
    gone = (
        OfflineManifestEntry.objects.filter(
            site=site, kind="page", page_id__isnull=False
        )
        .exclude(Exists(current))
        .values_list("page_id", flat=True)
    )
    return unshipped | set(changed) | set(gone)


# Pages added to an assembly between two seals (see ``Assembly.seal``).
PAGES_PER_SEAL = 500


def add_snapshots(assembly, snapshots):
    """The pages of ``snapshots`` (in URL order), or the problems that kept them out,
    a batch at a time."""
    for batch in manifest_rows._batches(snapshots, PAGES_PER_SEAL):
        batch.sort(key=lambda s: s.url)
        # Privacy is decided afresh for every URL, whoever uses it.
        assembly.private_media.prefetch(url for s in batch for url in s.asset_urls)
        if not assembly.carrying:  # Else most are carried: looked up one by one.
            assembly.revisions.prefetch(url for s in batch for url in s.asset_urls)
        for snapshot in batch:
            if snapshot.error:
                assembly.problems.append(
                    Problem(snapshot.url, snapshot.error, snapshot.page_id)
                )
            elif not assembly.has_entry(snapshot.url):
                rendered = Rendered(
                    snapshot.url,
                    snapshot.revision,
                    snapshot.size,
                    snapshot.asset_urls,
                    snapshot.warnings or [],
                )
                assembly.add_page_like(rendered, "page", False, snapshot.page_id)
        add_form_submit_urls(assembly, batch)
        assembly.seal()


def add_form_submit_urls(assembly, snapshots):
    """Page entries of form pages that queue submissions offline say where to send them.

    Read now, in one batch: a page's opt-in is not part of its snapshot.
    """
    submit_urls = form_submit_urls(s.page_id for s in snapshots if not s.error)
    for snapshot in snapshots:
        entry = assembly.entries.get(snapshot.url)
        if snapshot.page_id in submit_urls and entry and entry["kind"] == "page":
            entry["formSubmitUrl"] = submit_urls[snapshot.page_id]


def add_extra_urls(assembly, offline_settings):
    """The settings' other URLs: routes are rendered like pages, static and media files read."""
    if offline_settings.pk is None:
        return
    for extra in offline_settings.extra_urls.order_by("sort_order", "pk"):
        path = canonical_path(extra.url, assembly.origin + "/", assembly.origin)
        if path is None:
            assembly.report(
                extra.url,
                _("%(url)s (in the offline settings) is not on this site.")
                % {"url": extra.url},
            )
        elif assembly.has_entry(path):
            continue
        elif (served_path(path) or "/").startswith(tuple(assembly.never_offline)):
            assembly.report(
                path,
                _(
                    "%(url)s (in the offline settings) is part of the admin, or a path "
                    "the worker never touches; it is never saved offline."
                )
                % {"url": path},
            )
        elif is_stored_file(path):
            assembly.add_urls("the offline settings", [path], critical=False)
        elif restricted := private_page_problem(assembly.client, path):
            assembly.report(
                path,
                _("%(problem)s (in the offline settings)") % {"problem": restricted},
            )
        else:
            try:
                rendered = render_html(assembly.client, path)
            except FetchError as error:
                assembly.report(
                    path,
                    _("%(problem)s (in the offline settings)") % {"problem": error},
                )
                continue
            rendered.warnings = []  # Not necessarily a page: a feed needs no worker.
            assembly.add_page_like(rendered, "page", critical=False)


def is_stored_file(path):
    """Whether ``path`` is under STATIC_URL or MEDIA_URL: read from storage, never rendered."""
    served = served_path(path) or ""
    prefixes = [
        urlsplit(prefix or "").path
        for prefix in (settings.STATIC_URL, settings.MEDIA_URL)
    ]
    return any(
        prefix not in ("", "/") and served.startswith(prefix) for prefix in prefixes
    )


def private_page_problem(client, path):
    """Why the Wagtail page serving ``path`` is private, or None: a private page answers 200
    with its password form, which is no copy of the page."""
    try:
        match = resolve(served_path(path) or "")
    except Resolver404:
        return None
    if match.url_name != "wagtail_serve":
        return None
    route = Page.route_for_request(client.request(path), path)
    if route is None:
        return None
    restriction = route[0].get_view_restrictions().select_related("page").first()
    if restriction is None:
        return None
    return _(
        "%(url)s is private (%(restriction)s restriction on “%(page)s”); it is never "
        "saved offline."
    ) % {
        "url": path,
        "restriction": restriction.get_restriction_type_display(),
        "page": restriction.page,
    }


def check_extra_url(site, url, site_prefixes=None):
    """Why ``url`` cannot be one of the site's other offline URLs, or None when it can.

    Run when an editor saves the settings: the URL must answer 200 to an anonymous visitor.
    ``site_prefixes`` are the site's bypass prefixes being saved (default: the stored ones).
    """
    if site_prefixes is None:
        site_prefixes = site_bypass_prefixes(site.pk)
    origin = site.root_url
    path = canonical_path(url, origin + "/", origin)
    if path is None:
        return _("%(url)s is not a URL of %(site)s.") % {"url": url, "site": site}
    served = served_path(path)
    if served is None:
        return _("%(url)s is spelled in a way servers read differently.") % {"url": url}
    if served.startswith(tuple(never_offline_prefixes(site_prefixes))):
        return _(
            "%(url)s is part of the admin, or a path the worker never touches."
        ) % {"url": url}
    client = AnonymousClient(site)
    try:
        if is_stored_file(path):
            fetch_asset(client, path)
        else:
            client.get(path)
            return private_page_problem(client, path)
    except FetchError as error:
        return str(error)
    except Exception as error:  # A view that raises must not break the settings form.
        return _("%(url)s failed to render: %(error)s") % {
            "url": url,
            "error": repr(error),
        }
    return None


def snapshot_state(site):
    """What an assembly read; if it differs at store time, another build stored meanwhile."""
    # Every store of snapshots inserts rows (new ids); forgetting deletes them.
    snapshots = OfflinePageSnapshot.objects.filter(site=site).aggregate(
        count=Count("pk"), last=Max("pk")
    )
    offline_settings = list(
        OfflineSettings.objects.filter(site=site).values_list(
            "fallback_page_id", "include_documents"
        )
    )
    fallback = list(
        Page.objects.filter(pk__in=[row[0] for row in offline_settings]).values_list(
            "last_published_at", "live"
        )
    )
    extra_urls = list(
        OfflineExtraURL.objects.filter(settings__site=site)
        .order_by("sort_order", "pk")
        .values_list("url", flat=True)
    )
    return revision_of(
        repr((snapshots, offline_settings, fallback, extra_urls)).encode()
    )


class StoredSnapshots:
    """A site's snapshots as ``StoredSnapshot``s, in URL order, read from the database
    a chunk at a time each time they are iterated."""

    CHUNK = 500

    def __init__(self, site):
        self.site = site

    def __iter__(self):
        snapshots = OfflinePageSnapshot.objects.filter(site=self.site)
        # Their order first, then a short query per chunk: a read held open across the
        # assembly would keep other processes from writing to a SQLite database.
        ids = list(
            snapshots.order_by(_code_point_order("url"), "pk").values_list(
                "pk", flat=True
            )
        )
        for chunk in _batches(ids, self.CHUNK):
            rows = {
                pk: values
                for pk, *values in snapshots.filter(pk__in=chunk).values_list(
                    "pk", *StoredSnapshot._fields
                )
            }
            # A row deleted since (its page left, or was rendered again) is skipped:
            # storing finds another build stored meanwhile, and assembles again.
            for pk in chunk:
                if pk in rows:
                    yield StoredSnapshot(*rows[pk])


def _code_point_order(field_name):
    """Ordering by ``field_name`` as Python sorts strings (the database's collation
    may not), so that a full build meets the pages in the order a patch does."""
    alias = router.db_for_read(OfflinePageSnapshot)
    if connections[alias].vendor == "postgresql":
        return Collate(field_name, "C")
    return F(field_name)  # SQLite compares text byte by byte: the same order.


def _assemble_stored(site, client, fresh_ids, spilled):  # -> Assembled
    # The offline pages are read afresh: another build may have published one since ours began.
    offline_ids = set(offline_pages(site).values_list("pk", flat=True))
    previous = None
    if fresh_ids is not None:
        previous = OfflineManifest.objects.filter(site=site).first()
    return assemble(
        site,
        client,
        StoredSnapshots(site),
        offline_ids,
        previous,
        fresh_ids,
        spilled,
    )


def assemble_and_store(site, client, fresh_ids=None):
    """Assemble and store, again if another build of this site stored in between.

    ``fresh_ids``: the pages this build rendered, when only their assets need judging
    afresh (see ``assemble``); None judges every asset. The entries and uses are spilled
    to disk as they are made (see ``spilled_rows``).
    """
    for _attempt in range(OPTIMISTIC_ATTEMPTS):
        state = snapshot_state(site)
        with SpilledRows() as spilled:
            assembled = _assemble_stored(site, client, fresh_ids, spilled)
            try:
                with transaction.atomic():
                    # No snapshot lands between the check and the store.
                    lock_snapshots(site)
                    manifest = _lock_manifest(site)
                    if snapshot_state(site) != state:
                        continue  # Another build stored newer snapshots: assemble again.
                    return _store(manifest, assembled)
            except IntegrityError:
                continue  # Another build created the manifest row first.
    # Still racing: assemble once more while holding the lock.
    with SpilledRows() as spilled, transaction.atomic():
        # No snapshot lands between the check and the store.
        lock_snapshots(site)
        manifest = _lock_manifest(site)
        return _store(manifest, _assemble_stored(site, client, fresh_ids, spilled))


def current_assembly_key(site):
    """The key an assembly of ``site`` would have now (see ``assembly_key``)."""
    return assembly_key(
        site.root_url,
        never_offline_prefixes(site_bypass_prefixes(site.pk)),
        OfflineSettings.for_site(site).include_documents,
    )


def _patchable(manifest, site):
    return (
        manifest is not None
        and manifest.part_digests
        and len(manifest.part_digests) == manifest.part_count
        and manifest.assembly_key == current_assembly_key(site)
    )


def patch_and_store(site, client, rendered_ids, scope=None, page_ids=()):
    """Assemble again only what a publish may have changed, and store it as a patch
    of the stored manifest (manifest_rows.patch); None when it cannot be patched
    (none stored yet, or assembled by other rules), for a full assembly instead.

    What is assembled again: the pages rendered, the pages whose snapshots the stored
    manifest does not ship as they are, and what every build renders (the fallback,
    the listing, the queued page, the web app manifest, the settings' other URLs).
    ``scope`` and ``page_ids``: where to look for pages gone (see ``changed_since``).
    """
    for _attempt in range(OPTIMISTIC_ATTEMPTS):
        previous = OfflineManifest.objects.filter(site=site).first()
        if not _patchable(previous, site):
            return None
        state = snapshot_state(site)
        fresh = set(rendered_ids) | changed_since(site, scope, page_ids)
        offline_fresh = set(
            offline_pages(site, among=fresh).values_list("pk", flat=True)
        )
        snapshots = sorted(
            (
                StoredSnapshot(*row)
                for row in OfflinePageSnapshot.objects.filter(
                    site=site, page_id__in=sorted(offline_fresh)
                ).values_list(*StoredSnapshot._fields)
            ),
            key=lambda snapshot: snapshot.url,
        )
        assembled = assemble(site, client, snapshots, offline_fresh, previous)
        with transaction.atomic():
            # No snapshot lands between the check and the store.
            lock_snapshots(site)
            manifest = _lock_manifest(site)
            if snapshot_state(site) != state or manifest.version != previous.version:
                continue  # Another build stored meanwhile: assemble again.
            problems = _unchanged_pages_problems(site, manifest.problems, fresh)
            manifest.problems = problems + [p.as_dict() for p in assembled.problems]
            manifest_rows.patch(
                manifest,
                {entry["url"]: entry for entry in assembled.entries},
                assembled.uses,
                [Q(page_id__isnull=True), Q(page_id__in=sorted(fresh))],
            )
            for batch in _batches(sorted(fresh), CANDIDATES_BY_ID):
                OfflinePageSnapshot.objects.filter(
                    site=site, page_id__in=batch, shipped=False
                ).update(shipped=True)
            return _finish_store(manifest, assembled)
    return None  # Still racing: a full assembly, under the lock.


def _unchanged_pages_problems(site, problems, fresh):
    """The stored problems of pages a patch leaves alone: not those of the pages it
    assembles again, nor of pages no longer offline (their snapshots are gone), nor the
    site's (every build finds them again)."""
    page_ids = {problem.get("page_id") for problem in problems} - {None} - set(fresh)
    kept = set(
        OfflinePageSnapshot.objects.filter(
            site=site, page_id__in=sorted(page_ids)
        ).values_list("page_id", flat=True)
    )
    return [problem for problem in problems if problem.get("page_id") in kept]


def _lock_manifest(site):
    manifest = OfflineManifest.objects.select_for_update().filter(site=site).first()
    return manifest or OfflineManifest(site=site)


def _store(manifest, assembled):
    manifest.problems = [problem.as_dict() for problem in assembled.problems]
    if assembled.assembly.spilled is not None:
        manifest_rows.replace_spilled(manifest, assembled.assembly.spilled)
    else:
        manifest_rows.replace(manifest, assembled.entries, assembled.uses)
    # Under the lock, with the snapshots the assembly read (``snapshot_state``).
    OfflinePageSnapshot.objects.filter(site=manifest.site_id, shipped=False).update(
        shipped=True
    )
    return _finish_store(manifest, assembled)


def _finish_store(manifest, assembled):
    manifest.assembly_key = assembled.key
    manifest.listing_renders = assembled.listing_renders
    manifest.extras = assembled.extras
    manifest.static_fingerprint = static_fingerprint(
        manifest_rows.static_entries(manifest.site_id)
    )
    manifest_rows.finish(manifest)
    manifest.save()
    return manifest


def rebuild_site_manifest(
    site, page_ids=None, progress=None, reassemble=False, scope=None
):
    """Rebuild and store ``site``'s manifest, re-rendering only ``page_ids`` (all when None).

    Pages without a snapshot, or whose URLs changed, are always rendered. With
    ``page_ids``, only what they may have changed is assembled again, unless
    ``reassemble`` (or ``page_ids`` is empty: a change of the settings, of which media
    are private), which judges every page's assets again without rendering them.
    ``scope``: the ids of the pages below which pages may have changed otherwise
    (become offline or not, moved, retitled); None, anywhere in the site (so is a
    scope of more than ``MAX_SCOPE`` pages: a change near the top of the tree).
    Pages past their expiry date are always looked at (nothing may have unpublished
    them yet).
    ``progress``, if given, is called as ``progress(number, total, page)`` before each
    page render. Returns the stored ``OfflineManifest``.
    """
    client = AnonymousClient(site)
    # Read before looking: a page added meanwhile is looked for by the next build.
    newest_page = Page.objects.aggregate(newest=Max("pk"))["newest"] or 0
    seen_until = (
        OfflineManifest.objects.filter(site=site)
        .values_list("pages_seen_until", flat=True)
        .first()
    )
    if (
        not page_ids
        or reassemble
        or seen_until is None  # Built before pages were counted.
        or not _paths_unchanged(site)
    ):
        scope = None
    scope = _pages_below(scope)
    if scope is not None:
        scope |= _expired_with_snapshot(site)
    rendered_ids = render_stale_pages(
        site, client, page_ids, progress, scope=scope, seen_until=seen_until
    )[1]
    refresh_listed_lines(site, scope)
    with cycle_collection_paused():
        manifest = None
        if page_ids and not reassemble:
            manifest = patch_and_store(site, client, rendered_ids, scope, page_ids)
        if manifest is None:
            # A publish cannot have changed the files of pages it did not render: a
            # full rebuild judges them again. (Privacy is judged afresh by every build.)
            manifest = assemble_and_store(site, client, rendered_ids)
    _record_pages_seen(manifest, newest_page)
    return manifest


# Beyond this many pages, or pages apart in this many places of the tree, a scope is
# looked at as the whole site is.
MAX_SCOPE = 2000
MAX_SCOPE_SECTIONS = 50


def _pages_below(page_ids):
    """The ids of the pages at or below the pages ``page_ids``, or None for None or
    too many."""
    if page_ids is None:
        return None
    paths = Page.objects.filter(pk__in=sorted(page_ids)).values_list("path", flat=True)
    # A section's own pages are below it: one condition for them all.
    paths = outermost(paths)
    if len(paths) > MAX_SCOPE_SECTIONS:
        return None
    ids = list(
        Page.objects.filter(below(paths)).values_list("pk", flat=True)[: MAX_SCOPE + 1]
    )
    return None if len(ids) > MAX_SCOPE else set(ids)


def _expired_with_snapshot(site):
    return set(
        OfflinePageSnapshot.objects.filter(
            site=site, page__expire_at__lte=timezone.now()
        ).values_list("page_id", flat=True)
    )


def _record_pages_seen(manifest, newest_page):
    """Raise the stored ``pages_seen_until`` to ``newest_page`` (a build that began
    earlier and stored later must not lower it)."""
    OfflineManifest.objects.filter(site_id=manifest.site_id).filter(
        Q(pages_seen_until__isnull=True) | Q(pages_seen_until__lt=newest_page)
    ).update(pages_seen_until=newest_page)
    manifest.pages_seen_until = max(manifest.pages_seen_until or 0, newest_page)


@dataclass
class Preview:
    """What a full rebuild would ship, and which flagged pages it leaves out and why."""

    manifest: OfflineManifest
    excluded: list


def preview_site_manifest(site, progress=None):
    """Render every offline page and assemble the manifest without storing anything."""
    client = AnonymousClient(site)
    snapshots, _rendered_ids = render_stale_pages(
        site, client, None, progress, store=False
    )
    snapshots.sort(key=lambda snapshot: snapshot.url)
    offline_ids = set(offline_pages(site).values_list("pk", flat=True))
    with cycle_collection_paused():
        assembled = assemble(site, client, snapshots, offline_ids)
    manifest = OfflineManifest(
        site=site,
        entries=assembled.entries,
        pages=assembled.assembly.page_summaries(),
        extras=assembled.extras,
    )
    stored = OfflineManifest.objects.filter(site=site).only("part_count").first()
    manifest.version = manifest_rows.version_of(
        site.pk,
        assembled.entries,
        assembled.uses,
        assembled.extras,
        stored.part_count if stored else 0,
    )
    manifest.problems = [problem.as_dict() for problem in assembled.problems]
    return Preview(manifest, excluded_pages(site))


def fallback_url(site):
    """Where offline readers land when they ask for a page that is not saved."""
    page = OfflineSettings.for_site(site).fallback_page
    if page is not None and is_public_live_page(page):
        url = site_relative_url(page, site)
        if url:
            return url
    return reverse("wagtail_offline:fallback")


def fallback_problem(site):
    """Why the editor's fallback page cannot be used, or None."""
    page = OfflineSettings.for_site(site).fallback_page
    if page is None:
        return None
    if not is_public_live_page(page):
        return _(
            "The offline fallback page “%(page)s” is not published or is private; "
            "readers see the built-in message instead."
        ) % {"page": page}
    if not site_relative_url(page, site):
        return _(
            "The offline fallback page “%(page)s” is not part of %(site)s; readers "
            "see the built-in message instead."
        ) % {"page": page, "site": site}
    return None
