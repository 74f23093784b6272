"""On a site with several locales, an offline reader gets the fallback page of their locale."""

import json

import pytest
from wagtail.models import Locale

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.manifest_rows import manifest_version
from wagtail_offline.models import OfflineSettings


@pytest.fixture
def i18n(settings):
    settings.WAGTAIL_I18N_ENABLED = True
    settings.LANGUAGES = settings.WAGTAIL_CONTENT_LANGUAGES = [
        ("en", "English"),
        ("fr", "French"),
    ]
    settings.ROOT_URLCONF = "tests.urls_i18n"
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.locale.LocaleMiddleware",
    ]
    return Locale.objects.create(language_code="fr")


def translate(page, locale, title, slug=None):
    translation = page.copy_for_translation(locale)
    translation.title = title
    translation.slug = slug or translation.slug
    translation.save_revision().publish()
    return translation


@pytest.fixture
def help_page(site, home, trails):
    """The editors' fallback page, /offline-help/."""
    page = StandardPageFactory(parent=home, title="Offline help", slug="offline-help")
    settings = OfflineSettings.for_site(site)
    settings.fallback_page = page
    settings.save()
    return page


def fallback_entries(manifest):
    return {e["url"] for e in manifest.entries if e["kind"] == "fallback"}


def test_each_locale_gets_the_translation_of_the_fallback_page(
    client, site, home, help_page, i18n
):
    translate(home, i18n, "Accueil")
    translate(help_page, i18n, "Aide hors ligne", slug="hors-ligne")
    manifest = rebuild_site_manifest(site)
    assert manifest.extras["fallbacks"] == [
        {"prefix": "/fr/", "url": "/fr/hors-ligne/"},
        {"prefix": "/", "url": "/offline-help/"},
    ]
    # Both are precached with their assets, like the fallback page always was.
    assert fallback_entries(manifest) == {"/fr/hors-ligne/", "/offline-help/"}
    assert all(
        e["critical"]
        for e in manifest.entries
        if e["url"] in fallback_entries(manifest)
    )
    # The worker reads them from its manifest.
    payload = json.loads(
        client.get(f"/offline/manifest-{manifest.version}.json").content
    )
    assert payload["fallbacks"] == manifest.extras["fallbacks"]


def test_a_locale_without_a_public_translation_gets_the_default_fallback(
    site, home, help_page, i18n
):
    translate(home, i18n, "Accueil")
    manifest = rebuild_site_manifest(site)
    assert manifest.extras["fallbacks"] == [
        {"prefix": "/fr/", "url": "/offline-help/"},
        {"prefix": "/", "url": "/offline-help/"},
    ]
    # A translation that is not published is no fallback either.
    draft = help_page.copy_for_translation(i18n)
    draft.save_revision()
    manifest = rebuild_site_manifest(site)
    assert manifest.extras["fallbacks"][0] == {
        "prefix": "/fr/",
        "url": "/offline-help/",
    }
    assert fallback_entries(manifest) == {"/offline-help/"}


def test_a_new_locale_is_a_new_version(site, home, trails, i18n):
    before = rebuild_site_manifest(site)
    translate(home, i18n, "Accueil")  # No offline page, no fallback page of its own.
    after = rebuild_site_manifest(site)
    assert after.extras["fallbacks"] == [
        {"prefix": "/fr/", "url": "/offline/unavailable/"},
        {"prefix": "/", "url": "/offline/unavailable/"},
    ]
    assert after.version != before.version


def test_the_extras_alone_change_the_version(site, trails):
    # A fallback moved to another locale's prefix, every entry the same: readers must
    # still get the new mapping.
    parts = rebuild_site_manifest(site).part_digests
    one = {"fallbacks": [{"prefix": "/", "url": "/offline/unavailable/"}]}
    other = {"fallbacks": [{"prefix": "/fr/", "url": "/offline/unavailable/"}]}
    assert manifest_version(parts, one) != manifest_version(parts, other)
    assert manifest_version(parts, one) == manifest_version(parts, dict(one))


def test_a_site_with_one_locale_has_one_fallback(site, trails):
    manifest = rebuild_site_manifest(site)
    assert manifest.extras["fallbacks"] == [
        {"prefix": "/", "url": "/offline/unavailable/"}
    ]


def test_the_listing_marks_each_sections_language(client, site, home, trails, i18n):
    StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    translate(home, i18n, "Accueil")
    french_trails = translate(trails, i18n, "Sentiers", slug="sentiers")
    translate(trails.get_children().get().specific, i18n, "Crête", slug="crete")
    assert french_trails.offline_available  # copied with the page
    rebuild_site_manifest(site)
    html = client.get("/offline/").content.decode()
    english = html.index('<section class="wagtail-offline__section" lang="en">')
    french = html.index('<section class="wagtail-offline__section" lang="fr">')
    assert english < html.index('href="/trails/ridge/"') < french
    assert french < html.index('href="/fr/sentiers/crete/"')


def test_each_language_has_its_listing_in_its_own_words_precached(
    client, site, home, trails, i18n
):
    ridge = StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    translate(home, i18n, "Accueil")
    translate(trails, i18n, "Sentiers", slug="sentiers")
    translate(ridge, i18n, "Crête", slug="crete")
    manifest = rebuild_site_manifest(site)
    assert manifest.extras["listings"] == [
        {"language": "en", "url": "/offline/en/"},
        {"language": "fr", "url": "/offline/fr/"},
    ]
    listings = {e["url"] for e in manifest.entries if e["kind"] == "listing"}
    assert listings == {"/offline/", "/offline/en/", "/offline/fr/"}
    assert all(e["critical"] for e in manifest.entries if e["url"] in listings)

    french = client.get("/offline/fr/").content.decode()
    assert '<html lang="fr">' in french
    assert "Disponible hors ligne" in french  # The listing's own words, in French.
    assert ">Sentiers</a>" in french and ">Crête</a>" in french
    assert ">Trails</a>" not in french and ">Ridge walk</a>" not in french
    assert 'href="/fr/"' in french  # Back to the French home page.
    assert 'href="/fr/sentiers/crete/"' in french

    english = client.get("/offline/en/").content.decode()
    assert ">Ridge walk</a>" in english and ">Crête</a>" not in english
    # The whole listing links each language's, named in its own language.
    whole = client.get("/offline/").content.decode()
    assert 'href="/offline/fr/" hreflang="fr" lang="fr">français</a>' in whole
    assert ">Ridge walk</a>" in whole and ">Crête</a>" in whole


def test_a_language_the_site_does_not_have_is_not_found(client, site, trails, i18n):
    rebuild_site_manifest(site)
    assert client.get("/offline/de/").status_code == 404
    assert client.get("/offline/fr/").status_code == 404  # No French home page yet.


def test_a_site_in_one_language_has_one_listing(client, site, trails):
    manifest = rebuild_site_manifest(site)
    assert manifest.extras["listings"] == []
    assert client.get("/offline/en/").status_code == 404
    assert "hreflang" not in client.get("/offline/").content.decode()


def test_languages_never_get_each_others_cached_listing(
    client, site, home, trails, i18n
):
    ridge = StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    translate(home, i18n, "Accueil")
    translate(trails, i18n, "Sentiers", slug="sentiers")
    translate(ridge, i18n, "Crête", slug="crete")
    rebuild_site_manifest(site)
    for _ in range(2):  # The second round is served from the cache.
        french = client.get("/offline/fr/").content.decode()
        english = client.get("/offline/en/").content.decode()
        assert ">Crête</a>" in french and ">Ridge walk</a>" not in french
        assert ">Ridge walk</a>" in english and ">Crête</a>" not in english


def test_readers_languages_never_get_each_others_cached_listing(
    client, settings, site, trails, i18n
):
    # Without i18n_patterns, /offline/ speaks the reader's Accept-Language.
    settings.ROOT_URLCONF = "tests.urls"
    StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    rebuild_site_manifest(site)
    for _ in range(2):  # The second round is served from the cache.
        in_french = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        in_english = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Disponible hors ligne" in in_french and "Ridge walk" in in_french
        assert "Disponible hors ligne" not in in_english
        assert "Available offline" in in_english and "Ridge walk" in in_english
