"""Revisions change exactly when bytes do; a publish re-renders only the pages it affects;
two rebuilds at once lose no update."""

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory

from tests.factories import FormFieldFactory, FormPageFactory, StandardPageFactory
from wagtail_offline import manifest as manifest_module
from wagtail_offline.manifest import page_revision, rebuild_site_manifest
from wagtail_offline.models import OfflineManifest
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


def revisions(site):
    manifest = OfflineManifest.objects.get(site=site)
    return {entry["url"]: entry["revision"] for entry in manifest.entries}


def changed(before, after):
    return {
        url for url in before.keys() | after.keys() if before.get(url) != after.get(url)
    }


@pytest.fixture
def walks(trails):
    return [
        StandardPageFactory(parent=trails, title=f"Walk {n}", slug=f"walk-{n}")
        for n in range(20)
    ]


@pytest.fixture
def renders(monkeypatch):
    """The URLs rendered through the anonymous client, in order."""
    rendered = []
    original_get = AnonymousClient.get

    def counting_get(self, url):
        rendered.append(url)
        return original_get(self, url)

    monkeypatch.setattr(AnonymousClient, "get", counting_get)
    return rendered


def test_a_form_keeps_its_revision_although_its_csrf_token_changes(site, home):
    form = FormPageFactory(parent=home, slug="contact", offline_available=True)
    FormFieldFactory(page=form)
    first = rebuild_site_manifest(site)
    # Two renders really differ: each masks the CSRF token afresh…
    client = AnonymousClient(site)
    one, two = client.get("/contact/"), client.get("/contact/")
    assert b"csrfmiddlewaretoken" in one.content and one.content != two.content
    assert page_revision(one.content, one.csrf_secret) == page_revision(
        two.content, two.csrf_secret
    )
    # …and rebuilding keeps the page's revision and the manifest's version.
    second = rebuild_site_manifest(site)
    assert (
        revisions(site)["/contact/"]
        == {e["url"]: e["revision"] for e in first.entries}["/contact/"]
    )
    assert second.version == first.version


def test_only_this_renders_csrf_tokens_are_masked_not_other_long_tokens():
    request = RequestFactory().get("/")
    one, two = get_token(request), get_token(request)  # two maskings of one secret
    secret = request.META["CSRF_COOKIE"]
    assert one != two and len(one) == 64
    page = b'<input name="csrfmiddlewaretoken" value="%s"><img src="/%s.png">'
    content_hash = b"0123456789abcdef" * 4  # 64 characters too, but not a token
    assert page_revision(page % (one.encode(), content_hash), secret) == page_revision(
        page % (two.encode(), content_hash), secret
    )
    assert page_revision(page % (one.encode(), content_hash), secret) != page_revision(
        page % (one.encode(), content_hash[::-1]), secret
    )


def test_rebuilding_unchanged_pages_changes_no_revision(site, walks):
    rebuild_site_manifest(site)
    before = revisions(site)
    rebuild_site_manifest(site)
    assert revisions(site) == before


def test_a_publish_changes_that_page_and_the_pages_that_show_it_nothing_else(
    site, trails, walks, home, django_capture_on_commit_callbacks
):
    walk = walks[5]
    guide = StandardPageFactory(
        parent=home,
        slug="guide",
        offline_available=True,
        body=f'<p>Start with <a linktype="page" id="{walk.pk}">the fifth walk</a>.</p>',
    )
    rebuild_site_manifest(site)
    before = revisions(site)

    with django_capture_on_commit_callbacks(execute=True):
        walk.title = "Walk five, renamed"
        walk.save_revision().publish()
    # The page, the section listing its children, and the offline listing show the title.
    assert changed(before, revisions(site)) == {
        "/trails/walk-5/",
        "/trails/",
        "/offline/",
    }

    before = revisions(site)
    with django_capture_on_commit_callbacks(execute=True):
        walk.slug = "fifth"
        walk.save_revision().publish()
    # A new URL: the guide that links to it changes too (found by the reference index).
    assert changed(before, revisions(site)) == {
        "/trails/walk-5/",
        "/trails/fifth/",
        "/trails/",
        "/offline/",
        guide.url,
    }


def test_a_publish_re_renders_only_the_affected_pages(
    site, trails, walks, home, renders, django_capture_on_commit_callbacks
):
    walk = walks[7]
    StandardPageFactory(
        parent=home,
        slug="guide",
        offline_available=True,
        body=f'<p><a linktype="page" id="{walk.pk}">Walk 7</a></p>',
    )
    rebuild_site_manifest(site)
    assert len([url for url in renders if url.startswith("/trails/walk-")]) == 20
    renders.clear()

    with django_capture_on_commit_callbacks(execute=True):
        walk.body = "<p>Now with a viewpoint.</p>"
        walk.save_revision().publish()
    assert sorted(renders) == sorted(
        [
            "/trails/walk-7/",  # the page
            "/trails/",  # its parent lists it
            "/guide/",  # it links to it
            "/offline/unavailable/",  # the fallback and the queued page: always,
            "/offline/queued/",  # they are small
            # Not the listing: no title, summary or URL changed (test_listing_renders).
        ]
    )


def test_a_rebuild_during_another_ones_assembly_loses_no_update(
    site, trails, walks, monkeypatch
):
    rebuild_site_manifest(site)
    walk = walks[3]
    original_assemble = manifest_module.assemble
    first_assembly, stored_by_other = [], []

    def assemble_while_another_build_runs(*args, **kwargs):
        result = original_assemble(*args, **kwargs)
        if not first_assembly:
            # A full assembly spills its entries to disk (spilled_rows).
            spilled = result.assembly.spilled.entries_with_users()
            first_assembly.append({e["url"]: e["revision"] for e, *_ in spilled})
            # Meanwhile an editor publishes, and that publish's own rebuild completes.
            walk.title = "Walk three, renamed"
            walk.save_revision().publish()
            rebuild_site_manifest(site, page_ids={walk.pk})
            stored_by_other.append(revisions(site)["/trails/walk-3/"])
        return result

    monkeypatch.setattr(manifest_module, "assemble", assemble_while_another_build_runs)
    final = rebuild_site_manifest(site, page_ids=set())

    [new_revision] = stored_by_other
    assert first_assembly[0]["/trails/walk-3/"] != new_revision  # assembled too early
    assert revisions(site)["/trails/walk-3/"] == new_revision  # …so assembled again
    assert final.version == OfflineManifest.objects.get(site=site).version


def test_an_older_render_never_replaces_a_newer_one(site, trails, walks, monkeypatch):
    """A render that began before a publish finishes after the publish's own rebuild."""
    rebuild_site_manifest(site)
    walk = walks[2]
    original_render_page = manifest_module.render_page
    published = []

    def render_page_then_publish(client, page, paths, problem=None):
        snapshots = original_render_page(client, page, paths, problem)
        if page.pk == walk.pk and not published:
            published.append(page.pk)
            walk.title = "Walk two, renamed"
            walk.save_revision().publish()
            rebuild_site_manifest(site, page_ids={walk.pk})  # began later, stores first
        return snapshots

    monkeypatch.setattr(manifest_module, "render_page", render_page_then_publish)
    rebuild_site_manifest(site, page_ids={walk.pk})

    current = AnonymousClient(site).get("/trails/walk-2/")
    assert b"Walk two, renamed" in current.content
    assert revisions(site)["/trails/walk-2/"] == page_revision(
        current.content, current.csrf_secret
    )


@pytest.fixture
def url_checks(monkeypatch):
    """The ids of the pages a build asks for their URLs."""
    asked = []
    original_page_paths = manifest_module.page_paths

    def counting_page_paths(page, *args, **kwargs):
        asked.append(page.pk)
        return original_page_paths(page, *args, **kwargs)

    monkeypatch.setattr(manifest_module, "page_paths", counting_page_paths)
    return asked


def test_a_publish_asks_only_the_pages_it_affects_for_their_urls(
    site, trails, walks, url_checks, django_capture_on_commit_callbacks
):
    rebuild_site_manifest(site)
    url_checks.clear()
    walk = walks[4]
    with django_capture_on_commit_callbacks(execute=True):
        walk.title = "Walk four, renamed"
        walk.save_revision().publish()
    # The page and the ancestors that list it; not the 19 other walks.
    assert walk.pk in url_checks and trails.pk in url_checks
    assert not set(url_checks) & {other.pk for other in walks if other != walk}


def test_a_section_slug_change_re_renders_every_page_below_it(
    site, trails, walks, renders, django_capture_on_commit_callbacks
):
    rebuild_site_manifest(site)
    renders.clear()
    with django_capture_on_commit_callbacks(execute=True):
        trails.slug = "paths"
        trails.save_revision().publish()
    # The publish names the section and its ancestors; the walks' url_paths moved with it.
    assert {f"/paths/walk-{n}/" for n in range(20)} <= set(renders)
    assert {f"/paths/walk-{n}/" for n in range(20)} <= set(revisions(site))
    assert not {url for url in revisions(site) if url.startswith("/trails/")}


def test_snapshots_stored_without_a_paths_key_are_checked_once_not_re_rendered(
    site, trails, walks, renders, url_checks
):
    from wagtail_offline.models import OfflinePageSnapshot

    rebuild_site_manifest(site)
    OfflinePageSnapshot.objects.update(paths_key="")  # as stored before the key existed
    renders.clear(), url_checks.clear()
    rebuild_site_manifest(site, page_ids=set())
    assert set(url_checks) >= {walk.pk for walk in walks}
    assert not [url for url in renders if url.startswith("/trails/walk-")]
    assert "" not in set(
        OfflinePageSnapshot.objects.values_list("paths_key", flat=True)
    )
    url_checks.clear()
    rebuild_site_manifest(site, page_ids=set())
    assert url_checks == []
