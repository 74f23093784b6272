"""Ways a database meets the plugin's migrations, each run in a process of its own.

``python -m tests.migration_scenarios NAME OUTPUT`` with ``WAGTAIL_OFFLINE_TEST_DB`` pointing
at an empty SQLite file. Every ``migrate`` runs with its system checks, as a user runs it
(``call_command`` skips them unless told otherwise). Writes one JSON object of findings to
OUTPUT; ``tests/test_migrations.py`` asserts on it.
"""

import io
import json
import sys

import django


def migrate(*args):
    out, err = io.StringIO(), io.StringIO()
    from django.core.management import call_command

    call_command(
        "migrate", *args, interactive=False, skip_checks=False, stdout=out, stderr=err
    )
    return out.getvalue() + err.getvalue()


def check_database():
    out, err = io.StringIO(), io.StringIO()
    from django.core.management import call_command

    call_command("check", databases=["default"], stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def migrate_everything_but_the_plugin():
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    apps = sorted(MigrationLoader(connection).migrated_apps - {"wagtail_offline"})
    return "".join(migrate(label) for label in apps)


def build_site():
    """A home page, a flagged section with an illustrated page: what a real site has."""
    from wagtail.models import Locale, Page, Site
    from wagtail_factories import ImageFactory

    from tests.testapp.models import StandardPage

    Locale.objects.get_or_create(language_code="en")
    # Wagtail's own migrations made a root, a welcome page and a default site: keep them
    # (deleting cascades to the plugin's tables, which a site without them cannot do).
    home = Page.get_first_root_node().add_child(
        instance=StandardPage(title="Trail guide", slug="guide")
    )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home},
    )
    trails = home.add_child(instance=StandardPage(title="Trails", slug="trails"))
    ridge = trails.add_child(
        instance=StandardPage(title="Ridge walk", slug="ridge", image=ImageFactory())
    )
    return home, trails, ridge


def flag_and_publish(page):
    """An editor's publish: every signal handler of the plugin runs."""
    page.offline_available = True
    page.offline_include_subpages = True
    page.save_revision().publish()


def visit(path):
    from django.test import Client

    response = Client().get(path, HTTP_HOST="localhost")
    return response.status_code, response.content.decode()


def reader_view():
    page_status, page_html = visit("/trails/ridge/")
    worker_status, worker = visit("/sw.js")
    return {
        "page_status": page_status,
        "registers_worker": "wagtail_offline/register.js" in page_html,
        "worker_status": worker_status,
        "worker_has_manifest": '"manifestUrl": "/offline/manifest-' in worker,
    }


def rebuild():
    from wagtail.models import Site

    from wagtail_offline.manifest import rebuild_site_manifest

    manifest = rebuild_site_manifest(Site.objects.get(is_default_site=True))
    return [entry["url"] for entry in manifest.entries if entry["kind"] == "page"]


def empty_database():
    """``migrate`` on an empty database, then the database checks on the result."""
    return {"migrate": migrate(), "check_after": check_database()}


def plugin_removed_with_zero():
    """``migrate wagtail_offline zero`` on a working site, which goes on being edited and read."""
    migrate()
    _, trails, _ = build_site()
    flag_and_publish(trails)
    before = reader_view()
    zero = migrate("wagtail_offline", "zero")
    check = check_database()
    flag_and_publish(trails)  # Signal handlers with the tables gone.
    without_tables = reader_view()
    again = migrate()
    return {
        "before": before,
        "zero": zero,
        "check_without_tables": check,
        "without_tables": without_tables,
        "migrate_again": again,
        "offline_pages_after": rebuild(),
    }


def plugin_added_to_existing_site():
    """A site with pages and images adds the plugin: code first, ``migrate`` later."""
    earlier = migrate_everything_but_the_plugin()
    _, trails, _ = build_site()
    flag_and_publish(trails)  # Published before the plugin's tables exist.
    check = check_database()
    without_tables = reader_view()
    migrated = migrate()
    offline_pages = rebuild()
    return {
        "earlier_migrations": earlier,
        "check_without_tables": check,
        "without_tables": without_tables,
        "migrate": migrated,
        "offline_pages_after": offline_pages,
        "after": reader_view(),
    }


def manifest_stored_before_rows():
    """A manifest stored whole (before 0012) becomes rows; its parts stay served."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from wagtail.models import Site

    from wagtail_offline.manifest import rebuild_site_manifest
    from wagtail_offline.models import OfflineManifest, OfflineManifestPart

    migrate()
    _, trails, ridge = build_site()
    flag_and_publish(trails)
    site = Site.objects.get(is_default_site=True)
    built = rebuild_site_manifest(site)
    entries, pages, payload = built.entries, built.pages, built.payload
    migrate("wagtail_offline", "0011_manifest_listing_renders")
    # As 0011 stored it: the entries and summaries in the row, parts by last use.
    old = MigrationLoader(connection).project_state(
        ("wagtail_offline", "0011_manifest_listing_renders")
    )
    old.apps.get_model("wagtail_offline", "OfflineManifest").objects.filter(
        site_id=site.pk
    ).update(entries=entries, pages=pages, payload=payload)
    OfflineManifestPart.objects.update(used_at=built.built_at)
    migrated = migrate()
    manifest = OfflineManifest.objects.get(site=site)
    findings = {
        "migrate": migrated,
        "entries_kept": manifest.entries == entries,
        "pages_kept": manifest.pages == pages,
        "parts_current": not OfflineManifestPart.objects.filter(
            used_at__isnull=False
        ).exists(),
        "reader": reader_view(),
        "parts_recorded_before": manifest.part_digests,
    }
    ridge.title = "Ridge walk, revised"
    ridge.save_revision().publish()  # The first build after: a whole one.
    manifest = OfflineManifest.objects.get(site=site)
    findings["parts_recorded_after"] = len(manifest.part_digests) == manifest.part_count
    findings["offline_pages_after"] = sorted(
        entry["url"] for entry in manifest.entries if entry["kind"] == "page"
    )
    return findings


SCENARIOS = {
    "manifest_stored_before_rows": manifest_stored_before_rows,
    "empty_database": empty_database,
    "plugin_removed_with_zero": plugin_removed_with_zero,
    "plugin_added_to_existing_site": plugin_added_to_existing_site,
}

if __name__ == "__main__":
    django.setup()
    name, output = sys.argv[1:3]
    with open(output, "w") as file:
        json.dump(SCENARIOS[name](), file)
