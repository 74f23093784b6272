"""What the admin reads: page summaries in the manifest, rebuild requests and page states."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.factories import PlainPageFactory, StandardPageFactory
from tests.test_manifest import serve_html
from wagtail_offline import status
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineRebuild, OfflineSettings
from wagtail_offline.tasks import schedule_rebuild

QUEUED = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def static_files(settings, tmp_path):
    """A stylesheet loading a font, a shared script and one photo per page."""
    settings.STATIC_ROOT = str(tmp_path)
    files = {
        "site.css": b"body { font-family: Trail } @font-face { src: url(trail.woff2) }",
        "trail.woff2": b"F" * 3000,
        "map.js": b"M" * 500,
        "ridge.jpg": b"R" * 7000,
        "valley.jpg": b"V" * 11000,
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return {f"/static/{name}": len(content) for name, content in files.items()}


def page_html(photo):
    return (
        '<link rel="stylesheet" href="/static/site.css">'
        '<script src="/static/map.js"></script>'
        f'<img src="/static/{photo}"><script src="https://cdn.example/x.js"></script>'
    )


@pytest.fixture
def two_walks(site, trails, monkeypatch):
    ridge = StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    valley = StandardPageFactory(parent=trails, title="Valley", slug="valley")
    bodies = {
        trails.pk: page_html("ridge.jpg").replace("ridge.jpg", "map.js"),
        ridge.pk: page_html("ridge.jpg"),
        valley.pk: page_html("valley.jpg"),
    }
    for page_id, html in bodies.items():
        serve_html(monkeypatch, html, only=page_id)
    return {"trails": trails, "ridge": ridge, "valley": valley, "bodies": bodies}


def summary_of(manifest, url):
    return next(s for s in manifest.pages if s["url"] == url)


def test_each_page_summary_counts_its_own_assets_and_all_it_needs(
    site, two_walks, static_files
):
    manifest = rebuild_site_manifest(site)
    ridge = summary_of(manifest, "/trails/ridge/")
    html = len(two_walks["bodies"][two_walks["ridge"].pk].encode())
    shared = (
        static_files["/static/site.css"]
        + static_files["/static/trail.woff2"]  # Loaded by the stylesheet.
        + static_files["/static/map.js"]
    )
    assert ridge["size"] == html
    # The ridge photo is the ridge's alone; the stylesheet, font and script are shared.
    assert ridge["own_size"] == html + static_files["/static/ridge.jpg"]
    assert ridge["total_size"] == html + static_files["/static/ridge.jpg"] + shared
    assert ridge["foreign"] == ["https://cdn.example/x.js"]
    assert "/static/trail.woff2" in ridge["needs"]
    assert ridge["page_id"] == two_walks["ridge"].pk


def test_a_section_counts_each_page_and_asset_once(site, two_walks, static_files):
    rebuild_site_manifest(site)
    site_status = status.site_status(site)
    pages, size = site_status.section_summary(two_walks["trails"])
    bodies = sum(len(html.encode()) for html in two_walks["bodies"].values())
    assert pages == 3
    # Every static file once: the font, stylesheet and script are used by all three.
    assert size == bodies + sum(static_files.values())
    # And the site's total adds the fallback page and the listing to that.
    assert site_status.total_size > size


def test_page_states_say_offline_failed_excluded_waiting_and_not_offline(
    site, trails, home, monkeypatch
):
    ok = StandardPageFactory(parent=trails, title="Ok", slug="ok")
    broken = StandardPageFactory(parent=trails, title="Broken", slug="broken")
    draft = StandardPageFactory(parent=trails, title="Draft", slug="draft", live=False)
    elsewhere = PlainPageFactory(parent=home, title="Elsewhere", slug="elsewhere")

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("the template is broken")

    from tests.testapp.models import StandardPage

    original = StandardPage.serve
    monkeypatch.setattr(
        StandardPage,
        "serve",
        lambda self, *a, **k: (
            explode(self, *a, **k) if self.pk == broken.pk else original(self, *a, **k)
        ),
    )
    rebuild_site_manifest(site)
    late = StandardPageFactory(parent=trails, title="Late", slug="late")
    site_status = status.site_status(site)
    states = site_status.page_statuses([ok, broken, draft, elsewhere, late])

    assert states[ok.pk].state == status.OFFLINE
    assert states[ok.pk].total_size >= states[ok.pk].own_size >= states[ok.pk].size > 0
    assert states[ok.pk].rendered_at is not None
    assert states[broken.pk].state == status.FAILED
    assert "the template is broken" in states[broken.pk].reason
    assert states[draft.pk].state == status.EXCLUDED
    assert states[draft.pk].reason == "draft: never published"
    assert states[elsewhere.pk].state == status.NOT_OFFLINE
    assert states[late.pk].state == status.WAITING
    assert status.states_by_page_id([ok.pk, broken.pk, draft.pk]) == {
        ok.pk: status.OFFLINE,
        broken.pk: status.FAILED,
    }
    assert {p.pk for p in site_status.candidate_pages()} >= {
        trails.pk,
        ok.pk,
        broken.pk,
        draft.pk,
        late.pk,
    }


@override_settings(TASKS=QUEUED)
def test_a_rebuild_is_pending_until_its_task_runs(
    site, trails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        schedule_rebuild([site.pk], [trails.pk])
    site_status = status.site_status(site)
    assert site_status.pending
    assert site_status.is_pending_for(trails.pk)
    assert not site_status.is_pending_for(trails.pk + 1000)
    assert site_status.pending_since <= timezone.now()


def test_a_finished_rebuild_is_kept_as_the_last_one_and_older_ones_go(
    site, trails, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            schedule_rebuild([site.pk], None)
    rebuilds = list(OfflineRebuild.objects.filter(site=site))
    assert len(rebuilds) == 1
    assert rebuilds[0].finished_at is not None and rebuilds[0].error == ""
    site_status = status.site_status(site)
    assert not site_status.pending and site_status.last_rebuild == rebuilds[0]


def test_a_build_that_fails_is_recorded_and_heads_the_sites_problems(
    site, trails, monkeypatch, django_capture_on_commit_callbacks
):
    from wagtail_offline import manifest as manifest_module
    from wagtail_offline.rendering import FetchError

    original = manifest_module.render_html

    def listing_fails(client, url):
        if url == "/offline/":
            raise FetchError("/offline/ answered with status 500.")
        return original(client, url)

    monkeypatch.setattr(manifest_module, "render_html", listing_fails)
    with django_capture_on_commit_callbacks(execute=True):
        schedule_rebuild([site.pk], None)
    rebuild = OfflineRebuild.objects.get(site=site)
    assert rebuild.finished_at is not None
    assert "/offline/ is needed offline but could not be rendered" in rebuild.error
    site_status = status.site_status(site)
    assert site_status.site_problems[0]["message"] == rebuild.error
    assert site_status.problem_count >= 1


def test_the_budget_is_the_sites_setting_in_megabytes(site, trails):
    rebuild_site_manifest(site)
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.storage_budget = 1
    offline_settings.save()
    site_status = status.site_status(site)
    assert site_status.budget == 1_000_000
    assert site_status.budget_fraction == site_status.total_size / 1_000_000
    assert site_status.over_budget == (site_status.total_size > 1_000_000)


@override_settings(TASKS=QUEUED)
def test_only_the_rebuild_that_asked_finishes(
    site, trails, django_capture_on_commit_callbacks
):
    from wagtail_offline.tasks import rebuild_offline_manifest_task

    with django_capture_on_commit_callbacks(execute=True):
        schedule_rebuild([site.pk], [trails.pk])
        schedule_rebuild([site.pk], None)  # Same transaction: one request.
    first = OfflineRebuild.objects.get(site=site)
    assert first.page_ids is None
    with django_capture_on_commit_callbacks(execute=True):
        schedule_rebuild([site.pk], [trails.pk])
    second = OfflineRebuild.objects.exclude(pk=first.pk).get()
    rebuild_offline_manifest_task.call(site.pk, None, first.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.finished_at is not None
    assert second.finished_at is None  # Still pending: its task has not run.


def test_a_section_counts_only_the_pages_the_last_build_saved(
    site, two_walks, static_files, monkeypatch
):
    from tests.testapp.models import StandardPage

    valley = two_walks["valley"]
    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == valley.pk:
            raise RuntimeError("broken on purpose")
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)
    rebuild_site_manifest(site)
    pages, size = status.site_status(site).section_summary(two_walks["trails"])
    assert pages == 2
    assert size == sum(
        len(two_walks["bodies"][page.pk].encode())
        for page in (two_walks["trails"], two_walks["ridge"])
    ) + sum(static_files[url] for url in static_files if url != "/static/valley.jpg")


def test_exclusion_reasons_cost_the_same_queries_for_one_private_page_as_for_ten(
    site, trails
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import restrict_with_password

    def count_for(pages):
        site_status = status.site_status(site)
        with CaptureQueriesContext(connection) as queries:
            states = site_status.page_statuses(pages)
        assert {s.state for s in states.values()} == {status.EXCLUDED}
        return len(queries)

    private = []
    for number in range(10):
        page = StandardPageFactory(parent=trails, title=f"P{number}", slug=f"p{number}")
        restrict_with_password(page)
        private.append(page)
    count_for(private)  # Warms what Django caches once per process (content types).
    assert count_for(private) == count_for(private[:1])
    reasons = status.site_status(site).page_statuses(private)
    assert {s.reason for s in reasons.values()} == {"private: password restriction"}


def test_a_rebuild_lost_for_over_an_hour_is_no_longer_shown_as_pending(
    site, trails, monkeypatch
):
    rebuild = OfflineRebuild.objects.create(site=site, page_ids=None)
    assert status.site_status(site).is_pending_for(trails.pk)
    OfflineRebuild.objects.filter(pk=rebuild.pk).update(
        requested_at=timezone.now() - status.PENDING_AT_MOST - timedelta(minutes=1)
    )
    assert not status.site_status(site).pending


def test_pages_that_were_saved_with_subpages_but_not_the_page_are_cleared_on_migrate(
    site, trails
):
    from importlib import import_module

    from django.apps import apps

    from tests.testapp.models import StandardPage

    migration = import_module("wagtail_offline.migrations.0005_subpages_need_the_page")
    page = StandardPageFactory(parent=trails, title="Half", slug="half")
    StandardPage.objects.filter(pk=page.pk).update(offline_include_subpages=True)
    migration.clear_subpages_without_the_page(apps, None)
    page.refresh_from_db()
    assert not page.offline_include_subpages
    trails.refresh_from_db()
    assert trails.offline_include_subpages  # Both ticked: left alone.
    page.save_revision().publish()  # Publishable again.
