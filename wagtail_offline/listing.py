"""What the offline listing shows, and what its render depends on.

The listing view (``views.listing``) renders it for readers; a build (``manifest``)
renders it to precache it, and on a publish renders it again only when
``render_key`` says that what it shows has changed.
"""

import contextlib
import hashlib
import json
import math
import threading
from typing import NamedTuple

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Count, Exists, OuterRef, Subquery, Sum, TextField, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import translation
from wagtail.models import Page, Site

from . import __version__, conf
from .app_manifest import site_display_name
from .assets import static_fingerprint
from .fallbacks import locale_roots
from .models import OfflinePageSnapshot, OfflineSettings
from .selection import below, not_expired, site_root_paths


class ListedPage(NamedTuple):
    pk: int
    title: str
    seo_title: str
    search_description: str
    path: str
    depth: int
    expire_at: object


class ListedItem(NamedTuple):
    """A line of the listing. (A tuple: a 10,000-page listing holds 10,000 of them.)"""

    url: str
    title: str
    summary: str


def listed_pages_until(site, roots=None):
    """``(sections, until)``: the offline pages of ``site`` in sections, one per top-level
    page (and home page), and when the listing changes without any editor's action, the
    earliest expiry of a listed page (None: never).

    ``roots``: the paths of the home pages whose pages are listed (every locale's if None).
    A section is ``{"title", "lang", "page", "pages"}``: ``page`` is the item of its top
    page (None when only pages below it are offline) and ``pages`` the items below it,
    so that the top page's title is said once. An item is a ``ListedItem``.
    """
    # A page's first URL in the database's order (its shortest, of a page and its
    # subpaths).
    listed_url = (
        OfflinePageSnapshot.objects.filter(site=site, error="", page_id=OuterRef("pk"))
        .order_by("url")
        .values("url")[:1]
    )
    # The rules are applied again now: a page made private or unpublished since the
    # last build leaves the listing at once, whatever the task backend.
    # Rows, read a chunk at a time and not kept: a listing of 10,000 pages would
    # otherwise build 10,000 models, or hold their rows beside its items.
    # The site's root and its translations.
    roots = tuple(roots or site_root_paths(site))
    rows = (
        Page.objects.live()
        .public()
        .filter(not_expired(), below(roots, "path"))
        .annotate(listed_url=Subquery(listed_url))
        .filter(listed_url__isnull=False)
        .order_by("path")
        .values_list(*ListedPage._fields, "listed_url")
    )
    root = site.root_page
    section_length = (root.depth + 1) * Page.steplen

    def section_path(page):
        return page.path[:section_length] if page.depth > root.depth else page.path

    until, by_path = None, {}
    for *fields, url in rows.iterator(chunk_size=2000):
        page = ListedPage(*fields)
        if page.expire_at and (until is None or page.expire_at < until):
            until = page.expire_at
        path = section_path(page)
        # In path order: a section's pages come together, after its own page.
        section = by_path.setdefault(path, {"page": None, "pages": []})
        item = ListedItem(url, page.seo_title or page.title, page.search_description)
        if page.path == path:
            section["page"] = item
        else:
            section["pages"].append(item)
    tops = {
        top.path: top
        for top in Page.objects.filter(path__in=list(by_path))
        .select_related("locale")
        .only("title", "path", "locale__language_code")
    }
    sections = []
    for path, section in by_path.items():
        top = tops.get(path)
        sections.append(
            {
                "title": top.title if top else site_display_name(site),
                "lang": top.locale.language_code if top else None,
                **section,
            }
        )
    return sections, until


# A listing of more lines (listed pages) than this is split into parts, at
# ``/offline/2/``, ``/offline/3/``…: in one document, the listing of a 10,000-page site
# would be megabytes for every reader's phone, and for the build that renders it.
LINES_PER_PART = 1000


def part_count(sections):
    """How many parts the listing of ``sections`` is split into (at least one)."""
    lines = sum(bool(section["page"]) + len(section["pages"]) for section in sections)
    return max(1, math.ceil(lines / LINES_PER_PART))


def listing_part(sections, number):
    """The sections of part ``number`` (from 1) of a listing. A section split between
    two parts goes on under its title in the next (``"continued"``)."""
    start, end = (number - 1) * LINES_PER_PART, number * LINES_PER_PART
    shown, line = [], 0
    for section in sections:
        top = [section["page"]] if section["page"] else []
        items = top + section["pages"]
        first, line = line, line + len(items)
        if line <= start or first >= end:
            continue
        items = items[max(start - first, 0) : end - first]
        with_top = bool(top) and first >= start
        shown.append(
            {
                **section,
                "page": items[0] if with_top else None,
                "pages": items[1:] if with_top else items,
                "continued": first < start,
            }
        )
    return shown


def sections_until(site, language_code=None, root_paths=None):
    """``listed_pages_until`` for the listing in ``language_code`` (None: all of them).

    Read once while ``read_once`` is open (a build rendering a listing's parts)."""
    memo = getattr(_read_once, "sections", None)
    key = (site.pk, language_code, None if root_paths is None else tuple(root_paths))
    if memo is not None and key in memo:
        return memo[key]
    root_paths = site_root_paths(site) if root_paths is None else root_paths
    if language_code is None:
        result = listed_pages_until(site, roots=root_paths)
    else:
        root = locale_roots(site, root_paths)[language_code]
        result = listed_pages_until(site, roots=[root.path])
    if memo is not None:
        memo[key] = result
    return result


_read_once = threading.local()


@contextlib.contextmanager
def read_once():
    """While open, in this thread, ``sections_until`` reads each listing's sections
    once: a build counts a listing's parts, then renders each part through the view
    (in this thread), which would read every listed page for each part."""
    if getattr(_read_once, "sections", None) is not None:
        yield  # Already open: the outer block keeps what is read.
        return
    _read_once.sections = {}
    try:
        yield
    finally:
        del _read_once.sections


def look(site):
    """What the listing and the built-in fallback need to wear the site's look.

    ``base_template`` is ``WAGTAIL_OFFLINE_BASE_TEMPLATE`` (see docs/readers.md).
    """
    from .manifest import site_relative_url  # manifest.py imports this module.

    values = {"base_template": conf.get("WAGTAIL_OFFLINE_BASE_TEMPLATE"), "site": site}
    if site is not None:
        root = site.root_page
        values["site_name"] = site_display_name(site, root)
        values["home_url"] = site_relative_url(root, site) or "/"
    return values


def listing_url(language_code=None, number=1):
    """The URL of part ``number`` of the listing in ``language_code`` (None: all)."""
    if language_code is None:
        if number == 1:
            return reverse("wagtail_offline:listing")
        return reverse("wagtail_offline:listing_part", args=[number])
    if number == 1:
        return reverse("wagtail_offline:listing_in_language", args=[language_code])
    return reverse(
        "wagtail_offline:listing_in_language_part", args=[language_code, number]
    )


def context(site, language_code, sections, language_codes, part=1, parts=1):
    """What the listing's templates receive besides the request: part ``part`` of
    ``parts``, whose ``sections`` are given."""
    from .manifest import site_relative_url

    values = {
        **look(site),
        "sections": sections,
        "part": part,
        "parts": [
            {"number": number, "url": listing_url(language_code, number)}
            for number in range(1, parts + 1)
        ]
        if parts > 1
        else [],
        "languages": [
            {
                "code": code,
                "name": language_name(code),
                "url": reverse("wagtail_offline:listing_in_language", args=[code]),
            }
            for code in language_codes
        ],
    }
    if language_code is not None:
        root = locale_roots(site)[language_code]
        values["language_code"] = language_code
        values["home_url"] = site_relative_url(root, site) or values.get("home_url")
    return values


def language_name(code):
    try:
        return translation.get_language_info(code)["name_local"]
    except KeyError:
        return code


def render_key(site, language_code=None, stored_lines=False):
    """Changes with whatever the listing in ``language_code`` shows: the listed pages
    (what their items say, their URLs, where they are in the tree), the sections'
    top pages, the rest of its templates' context (the languages, the site's name and
    home), the base template, this release of the plugin, the names of hashed static
    files (a deploy renames the stylesheets it links), and the site's offline settings
    and the project's ``WAGTAIL_OFFLINE_*`` settings, which the tags of its base
    template print (the theme colour, whether the worker is on).

    Taken from what the listing is made of, not from the listing: a line per listed
    page, added up as hashes (see ``refresh_listed_lines``). With ``stored_lines`` the
    hashes a build stored on the snapshots are added up by the database, so that a
    publish on a site of 10,000 pages reads no page it did not change.

    What the templates read beyond their context (a menu in the site's base template)
    is not in it: a publish trusts it as it trusts the pages it does not render again,
    and a full rebuild renders the listing whatever its key.
    """
    from .manifest import revision_of

    root_paths = site_root_paths(site)
    roots = root_paths
    if language_code is not None:
        roots = [locale_roots(site, root_paths)[language_code].path]
    values = context(site, language_code, [], sorted(locale_roots(site, root_paths)))
    listed = Page.objects.live().public().filter(not_expired())
    shown_site = values.pop("site")
    snapshots = OfflinePageSnapshot.objects.filter(site=site)
    if language_code is not None:
        snapshots = snapshots.filter(below(roots, "page__path"))
    lines = _stored_lines(snapshots) if stored_lines else _lines(snapshots, listed)
    inputs = [
        __version__,
        LINES_PER_PART,
        # With ManifestStaticFilesStorage, its manifest's hash; else nothing: static
        # files keep their names, and a build judges their bytes afresh.
        static_fingerprint(()),
        settings.LANGUAGE_CODE,
        [
            shown_site.pk,
            shown_site.hostname,
            shown_site.port,
            shown_site.site_name,
            shown_site.root_page_id,
            shown_site.is_default_site,
        ],
        [list(root) for root in Site.get_site_root_paths()],
        OfflineSettings.objects.filter(site=site).values().first(),
        {name: conf.get(name) for name in sorted(conf.DEFAULTS)},
        values,
        _section_tops(site, roots, listed),
        lines,
    ]
    return revision_of(json.dumps(inputs, sort_keys=True, default=str).encode())


# Enough bits that a changed line changes the sum, few enough that a site's sum fits
# a 64-bit integer (SQLite's SUM fails on overflow) up to millions of lines.
LINE_HASH_BITS = 40


def listed_line_hash(line):
    return int.from_bytes(hashlib.sha256(line.encode()).digest(), "big") >> (
        256 - LINE_HASH_BITS
    )


def _lines(snapshots, listed):
    """[count, sum of hashes] of the lines of the listed, error-free ``snapshots``."""
    hashes = [listed_line_hash(line) for _pk, line in _listed_lines(snapshots, listed)]
    return [len(hashes), sum(hashes)]


def _stored_lines(snapshots):
    totals = snapshots.filter(listed_line__isnull=False).aggregate(
        count=Count("pk"), total=Sum("listed_line")
    )
    return [totals["count"], int(totals["total"] or 0)]


def refresh_listed_lines(site, scope=None):
    """Store the hash of the line the listing shows for each snapshot of the pages of
    ``scope`` (page ids; None: all of the site's) and for each snapshot that has none
    yet (rendered since), or no hash when it is not listed."""
    from .manifest import lock_snapshots

    with transaction.atomic():
        # In turn with other builds: an older read never overwrites a newer hash.
        lock_snapshots(site)
        _refresh_listed_lines(site, scope)


def _refresh_listed_lines(site, scope):
    snapshots = OfflinePageSnapshot.objects.filter(site=site)
    groups = [snapshots.filter(listed_line__isnull=True)]
    if scope is None:
        groups = [snapshots]
    elif scope:
        groups.append(snapshots.filter(page_id__in=sorted(scope)))
    changed = {}
    for group in groups:
        rows = list(group.values_list("pk", "page_id", "listed_line"))
        listed = Page.objects.live().public().filter(not_expired())
        if scope is not None:  # Those pages only: the database need not judge them all.
            listed = listed.filter(
                pk__in=sorted({page_id for _pk, page_id, _l in rows})
            )
        fresh = {
            pk: listed_line_hash(line) for pk, line in _listed_lines(group, listed)
        }
        for pk, _page_id, stored in rows:
            if fresh.get(pk) != stored:
                changed[pk] = fresh.get(pk)
    _store_listed_lines(changed)


def _store_listed_lines(lines):
    """Snapshot pk -> line hash (or None), one statement run for each: a full build's
    10,000 took 2 s with ``bulk_update`` and its ``CASE`` per row."""
    if not lines:
        return
    connection = connections[router.db_for_write(OfflinePageSnapshot)]
    table = connection.ops.quote_name(OfflinePageSnapshot._meta.db_table)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET listed_line = %s WHERE id = %s",
            [(line, pk) for pk, line in lines.items()],
        )


def _listed_lines(snapshots, listed):
    """(snapshot pk, line) for the error-free ``snapshots`` of listed pages (as
    ``listed_pages_until`` picks them): the page, its URL, what its item says, its
    place in the tree, its expiry."""
    return (
        snapshots.filter(error="", page__in=listed)
        .annotate(
            line=Concat(
                *_separated(
                    Cast("page_id", TextField()),
                    "url",
                    "page__title",
                    "page__seo_title",
                    "page__search_description",
                    "page__path",
                    Cast("page__depth", TextField()),
                    Cast("page__expire_at", TextField()),
                ),
                output_field=TextField(),
            )
        )
        .values_list("pk", "line")
    )


def _separated(*fields):
    separated = []
    for field in fields:
        separated += [field, Value("\t")]
    return separated[:-1]


def _section_tops(site, roots, listed):
    """The pages that head a section: just below a root, with a listed page in them."""
    depth = site.root_page.depth
    in_them = OfflinePageSnapshot.objects.filter(
        site=site, error="", page__in=listed, page__path__startswith=OuterRef("path")
    )
    return [
        list(row)
        for row in Page.objects.filter(
            below(roots),
            Exists(in_them),
            depth=depth + 1,
        )
        .order_by("path")
        .values_list("path", "title", "locale__language_code")
    ]
