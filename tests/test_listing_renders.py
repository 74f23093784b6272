"""A publish renders the listing again only when what it shows has changed (its key);
a full rebuild always renders it."""

import pytest
from wagtail.models import PageViewRestriction

from tests.factories import StandardPageFactory
from tests.test_locales import i18n, translate  # noqa: F401 (a fixture)
from wagtail_offline import listing
from wagtail_offline import manifest as manifest_module
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflineSettings
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def walks(site, trails):
    walks = [
        StandardPageFactory(parent=trails, title=f"Walk {n}", slug=f"walk-{n}")
        for n in range(4)
    ]
    rebuild_site_manifest(site)
    return walks


@pytest.fixture
def renders(monkeypatch):
    """The URLs rendered through the anonymous client, in order."""
    rendered = []
    original_get = AnonymousClient.get

    def counting_get(self, url, headers=None):
        rendered.append(url)
        return original_get(self, url, headers)

    monkeypatch.setattr(AnonymousClient, "get", counting_get)
    return rendered


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Publish ``page`` with ``changes``, running the rebuild it schedules."""

    def publish(page, **changes):
        with django_capture_on_commit_callbacks(execute=True):
            for name, value in changes.items():
                setattr(page, name, value)
            page.save_revision().publish()

    return publish


def stored(site, url="/offline/"):
    manifest = OfflineManifest.objects.get(site=site)
    entry = next(entry for entry in manifest.entries if entry["url"] == url)
    return entry, manifest.listing_renders[url]


def test_a_publish_that_changes_nothing_listed_does_not_render_the_listing(
    client, site, walks, renders, publish
):
    entry, render = stored(site)
    publish(walks[2], body="<p>The ford is closed after the storm.</p>")
    assert "/trails/walk-2/" in renders
    assert "/offline/" not in renders
    # The listing ships as it was, with its assets judged afresh as every build does.
    assert stored(site) == (entry, render)
    assert ">Walk 2</a>" in client.get("/offline/").content.decode()


def test_a_new_title_renders_the_listing_again(client, site, walks, renders, publish):
    entry, render = stored(site)
    publish(walks[2], title="Walk two, by the ford")
    assert "/offline/" in renders
    new_entry, new_render = stored(site)
    assert new_render["key"] != render["key"]
    assert new_entry["revision"] != entry["revision"]
    assert ">Walk two, by the ford</a>" in client.get("/offline/").content.decode()


def test_a_full_rebuild_renders_the_listing_whatever_its_key(site, walks, renders):
    _entry, render = stored(site)
    rebuild_site_manifest(site)
    assert "/offline/" in renders
    assert stored(site)[1]["key"] == render["key"]


def _new_summary(site, page, **_fixtures):
    page.search_description = "Steep in places."
    page.save_revision().publish()


def _unpublished(site, page, **_fixtures):
    page.unpublish()


def _private(site, page, **_fixtures):
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.LOGIN
    )


def _site_name(site, page, **_fixtures):
    site.site_name = "Fell Trails"
    site.save()


def _base_template(site, page, settings, **_fixtures):
    settings.WAGTAIL_OFFLINE_BASE_TEMPLATE = "testapp/base.html"


def _plugin_upgrade(site, page, monkeypatch, **_fixtures):
    monkeypatch.setattr(listing, "__version__", "99.0")


def _offline_settings(site, page, **_fixtures):
    """The base template's tags print them (the theme colour, whether the worker is on)."""
    offline_settings = OfflineSettings.for_site(site)
    offline_settings.theme_color = "#225522"
    offline_settings.save()


def _switched_off(site, page, settings, **_fixtures):
    settings.WAGTAIL_OFFLINE_ENABLED = False


def _section_title(site, page, **_fixtures):
    section = page.get_parent().specific
    section.title = "All the trails"
    section.save_revision().publish()


def _moved(site, page, **_fixtures):
    page.move(site.root_page, pos="last-child")


def _static_deploy(site, page, tmp_path, **_fixtures):
    """A deploy renames hashed static files: the listing links them by name."""
    staticfiles = tmp_path / "staticfiles.json"
    staticfiles.write_text('{"paths": {"site.css": "site.2.css"}, "version": "1.1"}')


# Changes that show in the listing a build renders (a plugin upgrade and a static deploy
# change the key alone: their effect is in templates and files this test does not change).
SHOWN_CHANGES = [
    _new_summary,
    _unpublished,
    _private,
    _site_name,
    _base_template,
    _offline_settings,
    _switched_off,
    _section_title,
    _moved,
]


@pytest.mark.parametrize(
    "change",
    [
        _new_summary,
        _unpublished,
        _private,
        _site_name,
        _base_template,
        _plugin_upgrade,
        _offline_settings,
        _switched_off,
        _section_title,
        _static_deploy,
    ],
)
def test_whatever_the_listing_shows_changes_its_key(
    site, walks, change, settings, monkeypatch, tmp_path
):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    (tmp_path / "staticfiles.json").write_text(
        '{"paths": {"site.css": "site.1.css"}, "version": "1.1"}'
    )
    before = listing.render_key(site)
    change(
        site, walks[1], settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path
    )
    assert listing.render_key(site) != before


def test_a_body_or_a_page_not_listed_leaves_the_key_alone(site, home, walks):
    before = listing.render_key(site)
    walks[1].body = "<p>New words.</p>"
    walks[1].save_revision().publish()
    StandardPageFactory(parent=home, title="Not offline", slug="elsewhere")
    assert listing.render_key(site) == before


def test_a_title_published_during_the_listings_render_is_rendered_by_the_next_build(
    site, walks, renders, publish, monkeypatch
):
    """The key is taken before the render: a render newer than its key is never reused.

    The rename lands in the database during the listing's render; the build its
    publish asks for (for that page, below it) renders the listing again.
    """
    original = manifest_module.render_critical

    def render_after_a_rename(client, url):
        if url == "/offline/":
            type(walks[3]).objects.filter(pk=walks[3].pk).update(title="Walk three")
        return original(client, url)

    monkeypatch.setattr(manifest_module, "render_critical", render_after_a_rename)
    publish(walks[0], title="Walk zero")
    monkeypatch.setattr(manifest_module, "render_critical", original)
    renders.clear()
    publish(walks[1], body="<p>Only the body.</p>")
    assert (
        "/offline/" not in renders
    )  # Below another page: trusted, as it was rendered.
    rebuild_site_manifest(site, {walks[3].pk}, scope=[walks[3].pk])
    assert "/offline/" in renders


def test_each_language_listing_is_rendered_again_only_when_its_pages_change(
    site,
    home,
    trails,
    i18n,  # noqa: F811 (the fixture imported above)
    renders,
    publish,
):
    ridge = StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    translate(home, i18n, "Accueil")
    translate(trails, i18n, "Sentiers", slug="sentiers")
    crete = translate(ridge, i18n, "Crête", slug="crete")
    rebuild_site_manifest(site)
    renders.clear()
    publish(crete, title="La crête")
    listings = {url for url in renders if url.startswith("/offline/")}
    # The whole listing and the French one show the title; the English one does not.
    assert {"/offline/", "/offline/fr/"} <= listings
    assert "/offline/en/" not in listings


def test_a_settings_save_renders_the_listing_again(
    site, walks, renders, django_capture_on_commit_callbacks
):
    entry, _render = stored(site)
    offline_settings = OfflineSettings.for_site(site)
    with django_capture_on_commit_callbacks(execute=True):
        offline_settings.theme_color = "#225522"
        offline_settings.save()  # Schedules a build that renders no page.
    assert "/offline/" in renders
    # The base template's {% offline_head %} prints the colour: the listing changed.
    assert stored(site)[0]["revision"] != entry["revision"]


def test_a_build_renders_the_listing_from_the_database_not_from_a_cached_copy(
    client, site, walks, renders
):
    """A change that bumped nothing (a queryset update) must not leave a copy cached for
    readers in the render a build stores next to a fresh key."""
    assert ">Walk 1</a>" in client.get("/offline/").content.decode()  # now cached
    type(walks[1]).objects.filter(pk=walks[1].pk).update(title="Walk one")
    rendered = {}
    original_get = AnonymousClient.get

    def keeping_get(self, url, headers=None):
        rendered[url] = original_get(self, url, headers)
        return rendered[url]

    AnonymousClient.get = keeping_get
    try:
        rebuild_site_manifest(site, page_ids=set())  # as a settings save does
    finally:
        AnonymousClient.get = original_get
    assert ">Walk one</a>" in rendered["/offline/"].content.decode()
    assert stored(site)[1]["key"] == listing.render_key(site)


@pytest.mark.parametrize("change", SHOWN_CHANGES)
def test_whenever_the_rendered_listing_changes_its_key_does(
    site, walks, change, settings, monkeypatch, tmp_path
):
    """The bytes a build would precache change, and so does the key."""

    def rendered():
        return AnonymousClient(site).get("/offline/").content

    settings.STATIC_ROOT = str(tmp_path)
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    key, html = listing.render_key(site), rendered()
    change(
        site, walks[1], settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path
    )
    assert rendered() != html
    assert listing.render_key(site) != key
