"""System checks: each misconfiguration a developer can make is named, with what to do."""

import json
from io import StringIO

import pytest
from django.core.checks import ERROR, WARNING, run_checks
from django.core.management import CommandError, call_command
from django.template import engines

from tests.factories import StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineManifest

pytestmark = pytest.mark.django_db


def offline_checks():
    return [e for e in run_checks() if e.id.startswith("wagtail_offline.")]


def only(check_id):
    [message] = [e for e in offline_checks() if e.id == check_id]
    return message


def rebuild():
    call_command("rebuild_offline_manifest", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize("urlconf", ["tests.urls", "tests.urls_i18n"])
def test_the_test_project_passes_every_check(settings, urlconf):
    settings.ROOT_URLCONF = urlconf
    assert offline_checks() == []


def test_urls_after_wagtails_catch_all_are_an_error_that_says_to_move_them(
    client, site, settings
):
    settings.ROOT_URLCONF = "tests.urls_after_wagtail"
    assert client.get("/offline/").status_code == 404  # What nothing explained.

    error = only("wagtail_offline.E001")
    assert error.level == ERROR
    assert "/offline/ by wagtail_serve" in error.msg
    assert (
        "/sw.js" not in error.msg
    )  # Wagtail's pattern only catches paths ending in /.
    assert 'before path("", include(wagtail_urls))' in error.hint


def test_urls_that_are_not_installed_are_a_warning(settings):
    settings.ROOT_URLCONF = "tests.urls_without_offline"
    warning = only("wagtail_offline.W002")
    assert warning.level == WARNING
    assert 'include("wagtail_offline.urls")' in warning.hint


def test_urls_under_a_subpath_are_a_warning(settings):
    settings.ROOT_URLCONF = "tests.urls_under_subpath"
    warning = only("wagtail_offline.W003")
    assert "/reading/sw.js" in warning.msg


@pytest.mark.parametrize(
    "prefixes", [["/api/"], ("/api/", "/shop/basket/"), []], ids=repr
)
def test_bypass_prefixes_as_a_list_of_paths_pass(settings, prefixes):
    settings.WAGTAIL_OFFLINE_BYPASS_PREFIXES = prefixes
    assert offline_checks() == []


@pytest.mark.parametrize(
    "prefixes, named",
    [
        (["/api/", "shop/"], "'shop/'"),
        (["/api/", 7], "7"),
        (None, "None"),
        ({"/api/": True}, "{'/api/': True}"),
    ],
    ids=repr,
)
def test_bypass_prefixes_that_are_not_a_list_of_paths_are_an_error(
    settings, prefixes, named
):
    settings.WAGTAIL_OFFLINE_BYPASS_PREFIXES = prefixes
    error = only("wagtail_offline.E002")
    assert error.level == ERROR and named in error.msg
    assert '"/api/"' in error.hint


def test_a_string_of_bypass_prefixes_is_an_error_though_it_is_read_as_one_prefix(
    client, site, settings
):
    settings.WAGTAIL_OFFLINE_BYPASS_PREFIXES = "/api/"
    error = only("wagtail_offline.E002")
    assert "reads it as that one prefix" in error.msg
    assert error.hint == "Write a list: WAGTAIL_OFFLINE_BYPASS_PREFIXES = ['/api/']."
    # What the message says is what the worker gets: the prefix, never its letters.
    body = client.get("/sw.js").content.decode()
    config = json.loads(body.split("self.WAGTAIL_OFFLINE_CONFIG = ")[1].split(";\n")[0])
    assert "/api/" in config["bypassPrefixes"] and "/" not in config["bypassPrefixes"]


@pytest.mark.parametrize(
    "name, value, check_id",
    [
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", 0, "E003"),
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", -1, "E003"),
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", "10MB", "E003"),
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", 1.5e6, "E003"),
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", None, "E003"),
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", True, "E003"),
        ("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE", 0, "E004"),
        ("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE", "500", "E004"),
        ("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE", 2.5, "E004"),
        ("WAGTAIL_OFFLINE_REPORTS_PER_MINUTE", -1, "E005"),
        ("WAGTAIL_OFFLINE_REPORTS_PER_MINUTE", "10", "E005"),
        ("WAGTAIL_OFFLINE_CACHE", "offline", "E006"),
        ("WAGTAIL_OFFLINE_CACHE", None, "E006"),
        ("WAGTAIL_OFFLINE_ENABLED", "False", "E007"),
        ("WAGTAIL_OFFLINE_ENABLED", 0, "E007"),
        ("WAGTAIL_OFFLINE_NETWORK_TIMEOUT", 0, "W004"),
        ("WAGTAIL_OFFLINE_NETWORK_TIMEOUT", "3", "W004"),
        ("WAGTAIL_OFFLINE_NETWORK_TIMEOUT", True, "W004"),
        ("WAGTAIL_OFFLINE_MEDIA_ORIGINS", "https://media.example.com", "E008"),
        ("WAGTAIL_OFFLINE_MEDIA_ORIGINS", None, "E008"),
    ],
    ids=repr,
)
def test_a_setting_the_plugin_cannot_use_is_named_with_its_value(
    settings, name, value, check_id
):
    setattr(settings, name, value)
    [message] = offline_checks()
    assert message.id == f"wagtail_offline.{check_id}"
    assert message.level == (WARNING if check_id.startswith("W") else ERROR)
    assert name in message.msg and repr(value) in message.msg
    assert message.hint


@pytest.mark.parametrize(
    "name, value",
    [
        ("WAGTAIL_OFFLINE_MAX_ASSET_SIZE", 1),
        ("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE", None),
        ("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE", 1),
        ("WAGTAIL_OFFLINE_REPORTS_PER_MINUTE", 0),
        ("WAGTAIL_OFFLINE_REPORTS_PER_MINUTE", None),
        ("WAGTAIL_OFFLINE_ENABLED", False),
        ("WAGTAIL_OFFLINE_NETWORK_TIMEOUT", 0.5),
        ("WAGTAIL_OFFLINE_MEDIA_ORIGINS", ["https://media.example.com"]),
        ("WAGTAIL_OFFLINE_MEDIA_ORIGINS", ("http://127.0.0.1:9000/",)),
    ],
    ids=repr,
)
def test_every_documented_value_of_a_setting_passes(settings, name, value):
    setattr(settings, name, value)
    assert offline_checks() == []


def test_media_origins_that_are_not_origins_are_each_named_with_why(settings):
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = [
        "https://media.example.com",
        "https://cdn.example.com/media/",
        "media.example.com",
        "ftp://files.example.com",
    ]
    error = only("wagtail_offline.E008")
    assert "'https://cdn.example.com/media/' (it has a path" in error.msg
    assert "'media.example.com' (it is not an http or https URL" in error.msg
    assert "'ftp://files.example.com'" in error.msg
    assert "'https://media.example.com'" not in error.msg
    assert "without a path" in error.hint


def test_a_cache_alias_that_is_in_caches_passes(settings):
    settings.CACHES = {
        **settings.CACHES,
        "offline": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.WAGTAIL_OFFLINE_CACHE = "offline"
    assert offline_checks() == []


def test_the_command_stops_with_the_checks_words_when_the_urls_are_not_installed(
    site, trails, settings
):
    settings.ROOT_URLCONF = "tests.urls_without_offline"
    with pytest.raises(CommandError) as raised:
        rebuild()
    message = str(raised.value)
    assert "The offline URLs are not installed" in message
    assert 'include("wagtail_offline.urls")' in message and "W002" in message
    assert "NoReverseMatch" not in message
    assert not OfflineManifest.objects.exists()


def test_the_command_stops_when_the_urls_come_after_wagtails(site, trails, settings):
    settings.ROOT_URLCONF = "tests.urls_after_wagtail"
    with pytest.raises(CommandError, match=r"(?s)/offline/ by wagtail_serve.*E001"):
        rebuild()
    assert not OfflineManifest.objects.exists()


def test_the_command_stops_instead_of_crashing_on_an_asset_size_that_is_not_a_number(
    site, trails, settings
):
    settings.WAGTAIL_OFFLINE_MAX_ASSET_SIZE = "10MB"
    with pytest.raises(CommandError, match="WAGTAIL_OFFLINE_MAX_ASSET_SIZE.*'10MB'"):
        rebuild()
    assert not OfflineManifest.objects.exists()


def test_a_page_whose_template_lacks_offline_head_ships_with_a_warning(
    site, trails, monkeypatch
):
    old = StandardPageFactory(parent=trails, title="Old layout", slug="old-layout")
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    without_tag = engines["django"].from_string(
        "<!DOCTYPE html><html><head><title>{{ page.title }}</title></head>"
        "<body><h1>{{ page.title }}</h1></body></html>"
    )
    original = StandardPage.get_template

    def get_template(self, request, *args, **kwargs):
        if self.pk == old.pk:
            return without_tag
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "get_template", get_template)
    manifest = rebuild_site_manifest(site)

    pages = {e["url"] for e in manifest.entries if e["kind"] == "page"}
    assert {"/trails/", "/trails/old-layout/", "/trails/ridge/"} <= pages
    [problem] = manifest.problems
    assert problem["level"] == "warning"
    assert problem["page_id"] == old.pk and problem["url"] == "/trails/old-layout/"
    assert "{% offline_head %}" in problem["message"]
    assert OfflineManifest.objects.get(site=site).problems == [problem]
