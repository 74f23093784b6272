"""The database the benchmarks run on: migrated once, then a fresh site per benchmark.

Thousands of pages are inserted in bulk with correct treebeard paths: ``add_child``
would take minutes for 10,000 pages.
"""

import shutil
import sqlite3
import uuid
from contextlib import closing

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone
from wagtail.models import Locale, Page, Site

from tests.testapp.models import StandardPage
from wagtail_offline.selection import flagged_pages, offline_pages

BODY = "".join(
    f"<p>Paragraph {n} of a trail description: distances, gradients, water and "
    "shelter, the kind of text a walker wants to read without a signal.</p>"
    for n in range(6)
)


def _db_path():
    return settings.DATABASES["default"]["NAME"]


def _clean_copy():
    return _db_path() + ".migrated"


def migrate():
    """Create the schema once and keep a copy to start every benchmark from."""
    call_command("migrate", verbosity=0, interactive=False)
    _checkpoint_and_close()
    shutil.copyfile(_db_path(), _clean_copy())


def reset_database():
    """Back to the freshly migrated database.

    Written through SQLite's backup API, not by copying the file over: a connection a
    server's thread left open sees an ordinary write, where a file replaced under it (its
    journal deleted) corrupted the database ("database disk image is malformed").
    """
    connections.close_all()
    with (
        closing(sqlite3.connect(_clean_copy())) as clean,
        closing(sqlite3.connect(_db_path(), timeout=30)) as live,
    ):
        clean.backup(live)
    cache.clear()  # Wagtail caches site root paths.
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


def _checkpoint_and_close():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connections.close_all()


def build_site(flagged, sections=10):
    """A site on localhost whose home, sections and leaf pages (``flagged`` in all) are offline.

    Returns (site, home, section pages, leaf pages).
    """
    Locale.objects.get_or_create(language_code="en")
    Site.objects.all().delete()
    root = Page.get_first_root_node()
    for child in root.get_children():
        child.delete()
    home = root.add_child(
        instance=StandardPage(
            title="Home", slug="home", body=BODY, offline_available=True
        )
    )
    site = Site.objects.create(
        hostname="localhost",
        port=80,
        root_page=home,
        is_default_site=True,
        site_name="Trails",
    )
    sections = min(sections, max(flagged - 1, 0))
    section_pages = [
        home.add_child(
            instance=StandardPage(
                title=f"Section {n}",
                slug=f"section-{n}",
                body=BODY,
                offline_available=True,
            )
        )
        for n in range(sections)
    ]
    leaves = flagged - 1 - sections
    leaf_pages = []
    for index, section in enumerate(section_pages):
        count = leaves // sections + (index < leaves % sections)
        leaf_pages += bulk_children(section, count, offline_available=True)
    cache.clear()
    return site, home, section_pages, leaf_pages


def bulk_children(parent, count, **fields):
    """``count`` live StandardPages under ``parent`` (which has none yet), inserted in bulk."""
    content_type = ContentType.objects.get_for_model(StandardPage)
    now = timezone.now()
    depth = parent.depth + 1
    pages = []
    for position in range(1, count + 1):
        slug = f"{parent.slug}-page-{position}"
        title = f"{parent.title}, page {position}"
        pages.append(
            Page(
                title=title,
                draft_title=title,
                slug=slug,
                path=Page._get_path(parent.path, depth, position),
                depth=depth,
                numchild=0,
                url_path=f"{parent.url_path}{slug}/",
                content_type=content_type,
                live=True,
                has_unpublished_changes=False,
                first_published_at=now,
                last_published_at=now,
                locale_id=parent.locale_id,
                translation_key=uuid.uuid4(),
            )
        )
    with transaction.atomic():
        Page.objects.bulk_create(pages, batch_size=500)
        _insert_specific_rows(pages, {"body": BODY, **fields})
        Page.objects.filter(pk=parent.pk).update(numchild=count)
    return pages


def _insert_specific_rows(pages, values):
    """The StandardPage rows of multi-table inheritance, which bulk_create refuses."""
    meta = StandardPage._meta
    fields = meta.local_concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    rows = []
    for page in pages:
        row = []
        for field in fields:
            if field.primary_key:
                value = page.pk
            else:
                value = values.get(field.name, field.get_default())
            row.append(field.get_db_prep_save(value, connection))
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "
            f"VALUES ({placeholders})",
            rows,
        )


def make_selectable(site, home, sections):
    """Flag the sections with their subpages when SQLite refuses the per-page selection.

    Returns a note for the report, or None when the pages could stay flagged one by one.
    """
    count = len(flagged_pages(site))
    try:
        offline_pages(site).count()
        return None
    except OperationalError as error:
        message = f"{type(error).__name__}: {error}"
    StandardPage.objects.filter(depth=home.depth + 2).update(offline_available=False)
    StandardPage.objects.filter(pk__in=[section.pk for section in sections]).update(
        offline_include_subpages=True
    )
    after = offline_pages(site).count()
    return (
        f"PLUGIN PROBLEM: with {count} pages flagged one by one, "
        f"wagtail_offline.selection.offline_pages() fails on SQLite ({message}). "
        f"Measured instead with the home page and {len(sections)} sections flagged, "
        f"the sections 'with subpages': the same {after} pages are offline."
    )
