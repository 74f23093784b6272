"""``manage.py rebuild_offline_manifest``: progress, sizes, a dry run, the deploy step."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from wagtail.models import Site

from tests.factories import StandardPageFactory, restrict_with_password
from tests.testapp.models import StandardPage
from wagtail_offline.models import OfflineManifest, OfflinePageSnapshot

pytestmark = pytest.mark.django_db

STATIC_SOURCES = [
    Path(__file__).parent / "testapp" / "static",
    Path(__file__).parent.parent / "wagtail_offline" / "static",
]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("rebuild_offline_manifest", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def trails(home):
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    return trails


def test_a_rebuild_shows_progress_and_what_the_site_ships(site, trails):
    output = run()
    assert "page 1/2: Trails" in output and "page 2/2: Ridge" in output
    assert "2 pages (" in output and "assets (" in output and "KiB in all" in output
    manifest = OfflineManifest.objects.get(site=site)
    assert f"version {manifest.version}" in output


def test_a_dry_run_shows_what_would_ship_and_what_is_left_out_and_stores_nothing(
    site, trails, monkeypatch
):
    StandardPageFactory(parent=trails, title="Half written", slug="draft", live=False)
    restrict_with_password(
        StandardPageFactory(parent=trails, title="Ranger notes", slug="notes")
    )
    broken = StandardPageFactory(parent=trails, title="Broken", slug="broken")
    original_serve = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == broken.pk:
            raise RuntimeError("template exploded")
        if self.slug == "ridge":
            html = '<html><head><script src="https://cdn.example/map.js"></script></head></html>'
            return HttpResponse(html)
        return original_serve(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)
    output = run("--dry-run")

    would_ship, left_out = output.split("leaves out:")
    assert "page      /trails/ " in would_ship and "/trails/ridge/" in would_ship
    assert "fallback  /offline/unavailable/" in would_ship
    assert "“Half written”: draft: never published" in left_out
    assert "“Ranger notes”: private: password restriction" in left_out
    assert "template exploded" in left_out
    assert (
        "https://cdn.example/map.js (used by /trails/ridge/) is on another site"
        in left_out
    )
    assert "Dry run: nothing was stored." in output
    assert not OfflineManifest.objects.exists()
    assert not OfflinePageSnapshot.objects.exists()


def test_sites_can_be_chosen_and_an_unknown_one_is_an_error(site, trails, root_page):
    other_home = StandardPageFactory(
        parent=root_page, slug="other", offline_available=True
    )
    other = Site.objects.create(hostname="other.example", root_page=other_home)
    assert "Trails [default]: 2 pages" in run("--site", "localhost")
    assert not OfflineManifest.objects.filter(site=other).exists()
    assert "1 page (" in run("--site", str(other.pk))
    with pytest.raises(CommandError, match="No site matches nowhere.example"):
        run("--site", "nowhere.example")


@pytest.fixture
def collected_static(settings, tmp_path):
    """Static files 'collected' into a folder that a test can change, as a deploy does."""
    for source in STATIC_SOURCES:
        shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    settings.STATIC_ROOT = str(tmp_path)
    return tmp_path


def test_after_a_deploy_only_sites_whose_static_files_changed_are_rebuilt(
    site, trails, collected_static
):
    assert "2 pages" in run("--if-static-changed")  # never built: built now
    manifest = OfflineManifest.objects.get(site=site)
    assert manifest.static_fingerprint

    assert "static files unchanged, nothing to do" in run("--if-static-changed")

    stylesheet = collected_static / "testapp" / "css" / "site.css"
    stylesheet.write_text(stylesheet.read_text() + "\np { margin: 0 }\n")
    assert "2 pages" in run("--if-static-changed")
    rebuilt = OfflineManifest.objects.get(site=site)
    assert rebuilt.static_fingerprint != manifest.static_fingerprint
    assert rebuilt.version != manifest.version  # the stylesheet's revision changed


def test_a_database_check_warns_when_static_files_changed_since_the_build(
    site, trails, collected_static
):
    from django.core.checks import run_checks

    run()
    assert not [
        e for e in run_checks(databases=["default"]) if e.id == "wagtail_offline.W005"
    ]
    (collected_static / "testapp" / "js" / "site.js").write_text("// a new release\n")
    [warning] = [
        e for e in run_checks(databases=["default"]) if e.id == "wagtail_offline.W005"
    ]
    assert "Trails" in warning.msg and "--if-static-changed" in warning.hint
    # Not a check of every `manage.py check` run, nor of any request: only with a database.
    assert not [e for e in run_checks() if e.id == "wagtail_offline.W005"]
