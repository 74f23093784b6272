"""Pages readers keep themselves: the server's word at /offline/pages/, rendered in the
background with the editors' rules, kept current by publishing, gone when private."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Site
from wagtail_factories import ImageFactory

from tests.factories import (
    FormFieldFactory,
    FormPageFactory,
    PlainPageFactory,
    StandardPageFactory,
    restrict_with_password,
)
from tests.test_privacy import private_collection, public_collection
from tests.test_views import worker_config
from wagtail_offline import reader_pages
from wagtail_offline.manifest import page_revision, rebuild_site_manifest
from wagtail_offline.models import (
    OfflineBypassPrefix,
    OfflineReaderPage,
    OfflineSettings,
)
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


def ask(client, *urls, **headers):
    """The server's answers, by URL."""
    query = urlencode([("url", url) for url in urls])
    response = client.get(f"/offline/pages/?{query}", **headers)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return {answer["url"]: answer for answer in response.json()["pages"]}


@pytest.fixture
def ask_and_render(client, django_capture_on_commit_callbacks):
    """Ask until the renders enqueued by the first answer are done (the immediate backend)."""

    def ask_twice(*urls):
        with django_capture_on_commit_callbacks(execute=True):
            first = ask(client, *urls)
        return first, ask(client, *urls)

    return ask_twice


@pytest.fixture
def enqueued(monkeypatch):
    """The renders asked for, not run."""
    calls = []
    monkeypatch.setattr(
        reader_pages, "schedule_render", lambda site_id, url: calls.append(url)
    )
    return calls


@pytest.fixture
def ridge(home):
    return StandardPageFactory(
        parent=home,
        title="Ridge walk",
        slug="ridge",
        seo_title="The ridge",
        search_description="Windy.",
    )


def set_settings(site, **values):
    offline_settings = OfflineSettings.for_site(site)
    for name, value in values.items():
        setattr(offline_settings, name, value)
    offline_settings.save()


# ---------- States ----------


def test_a_public_page_is_pending_then_ready_with_the_page_first_then_its_assets(
    site, ridge, ask_and_render
):
    first, second = ask_and_render("/ridge/")
    assert first["/ridge/"] == {"url": "/ridge/", "state": "pending"}
    answer = second["/ridge/"]
    assert answer["state"] == "ready"
    assert answer["title"] == "The ridge" and answer["summary"] == "Windy."
    assert answer["formSubmitUrl"] is None
    entries = answer["entries"]
    assert entries[0]["url"] == "/ridge/" and entries[0]["kind"] == "page"
    assert answer["revision"] == entries[0]["revision"]
    assets = {entry["url"] for entry in entries[1:]}
    assert {
        "/static/testapp/css/site.css",
        "/static/testapp/js/site.js",
        "/static/testapp/icon.svg",
    } <= assets
    assert all(set(entry) == {"url", "revision", "size", "kind"} for entry in entries)
    assert all(entry["kind"] == "asset" for entry in entries[1:])
    stored = OfflineReaderPage.objects.get(site=site, url="/ridge/")
    assert stored.page_id == ridge.pk and stored.error == ""
    assert stored.source == reader_pages.render_source(ridge)
    assert stored.size == sum(entry["size"] for entry in entries)


def test_the_render_is_made_once_while_pending_and_asked_again_when_lost(
    site, ridge, client, enqueued
):
    assert ask(client, "/ridge/")["/ridge/"]["state"] == "pending"
    assert ask(client, "/ridge/", "/ridge/")["/ridge/"]["state"] == "pending"
    assert enqueued == ["/ridge/"]
    OfflineReaderPage.objects.update(requested_at=timezone.now() - timedelta(hours=1))
    assert ask(client, "/ridge/")["/ridge/"]["state"] == "pending"
    assert enqueued == ["/ridge/", "/ridge/"]


def test_a_page_in_the_editors_manifest_is_the_sites(
    site, home, ridge, client, enqueued
):
    StandardPageFactory(parent=home, slug="safety", offline_available=True)
    rebuild_site_manifest(site)
    answers = ask(client, "/safety/", "/ridge/")
    assert answers["/safety/"] == {"url": "/safety/", "state": "site"}
    assert answers["/ridge/"]["state"] == "pending"
    assert enqueued == ["/ridge/"]


def test_a_page_without_the_mixin_can_be_kept(site, home, ask_and_render):
    PlainPageFactory(parent=home, slug="map")
    assert ask_and_render("/map/")[1]["/map/"]["state"] == "ready"


def test_a_render_that_fails_is_failed_without_the_editors_details(
    site, ridge, ask_and_render, monkeypatch
):
    def broken(self, request, *args, **kwargs):
        raise ValueError("database password is hunter2")

    monkeypatch.setattr(type(ridge), "serve", broken)
    answer = ask_and_render("/ridge/")[1]["/ridge/"]
    assert answer["state"] == "failed"
    assert answer["message"] and "hunter2" not in json.dumps(answer)
    assert "hunter2" in OfflineReaderPage.objects.get(url="/ridge/").error


def test_a_form_page_that_queues_submissions_carries_its_submission_url(
    site, home, ask_and_render
):
    form = FormPageFactory(parent=home, slug="report")
    FormFieldFactory(page=form)
    answer = ask_and_render("/report/")[1]["/report/"]
    assert answer["state"] == "ready"
    assert answer["formSubmitUrl"] == f"/offline/forms/{form.pk}/"


def test_answers_keep_the_order_asked_and_say_each_url_once(
    site, ridge, client, enqueued
):
    response = client.get("/offline/pages/?url=/nowhere/&url=/ridge/&url=/nowhere/")
    assert [answer["url"] for answer in response.json()["pages"]] == [
        "/nowhere/",
        "/ridge/",
    ]


def test_no_urls_is_no_answers(site, client):
    assert client.get("/offline/pages/").json() == {"pages": []}


# ---------- Privacy ----------


def gone(client, url):
    return ask(client, url)[url] == {"url": url, "state": "gone"}


def test_pages_readers_may_not_keep_are_gone_and_never_rendered(
    site, home, root_page, client, enqueued
):
    walks = StandardPageFactory(parent=home, slug="walks")
    restrict_with_password(StandardPageFactory(parent=home, slug="rangers"))
    StandardPageFactory(parent=walks, slug="locked")
    restrict_with_password(walks.get_children().get())
    below_restricted = StandardPageFactory(
        parent=Page.objects.get(slug="rangers"), slug="rota"
    )
    StandardPageFactory(parent=home, slug="draft", live=False)
    expired = StandardPageFactory(parent=home, slug="expired")
    Page.objects.filter(pk=expired.pk).update(
        expire_at=timezone.now() - timedelta(minutes=1)
    )
    other_home = StandardPageFactory(parent=root_page, slug="other-home")
    StandardPageFactory(parent=other_home, slug="elsewhere")
    Site.objects.create(hostname="other.example", port=80, root_page=other_home)
    for url in (
        "/rangers/",
        "/walks/locked/",
        f"/rangers/{below_restricted.slug}/",
        "/draft/",
        "/expired/",
        "/elsewhere/",
        "/other-home/elsewhere/",
        "/nowhere/",
        "/admin/",
        f"/admin/pages/{walks.pk}/edit/preview/",
        "/django-admin/",
        "/offline/",
        "/sw.js",
        "/static/testapp/css/site.css",
    ):
        assert gone(client, url), url
    assert enqueued == [] and not OfflineReaderPage.objects.exists()


def test_a_page_under_the_sites_bypassed_paths_is_gone(site, home, client, enqueued):
    StandardPageFactory(parent=home, slug="shop")
    OfflineBypassPrefix.objects.create(
        settings=OfflineSettings.for_site(site), path="/shop/"
    )
    assert gone(client, "/shop/") and enqueued == []


def test_a_stored_render_of_a_page_made_private_is_gone_at_once(
    site, ridge, ask_and_render, client
):
    assert ask_and_render("/ridge/")[1]["/ridge/"]["state"] == "ready"
    # Even with the signal handlers unable to act (a restriction added behind their back):
    PageViewRestriction.objects.bulk_create(
        [PageViewRestriction(page=ridge, restriction_type="password", password="x")]
    )
    assert gone(client, "/ridge/")


def test_each_site_answers_for_its_own_pages(site, root_page, home, client, enqueued):
    other_home = StandardPageFactory(parent=root_page, slug="other-home")
    StandardPageFactory(parent=other_home, slug="hut")
    StandardPageFactory(parent=home, slug="ridge")
    Site.objects.create(hostname="other.example", port=80, root_page=other_home)
    answers = ask(client, "/hut/", "/ridge/", HTTP_HOST="other.example")
    assert answers["/hut/"]["state"] == "pending"
    assert answers["/ridge/"]["state"] == "gone"
    assert enqueued == ["/hut/"]
    assert OfflineReaderPage.objects.get().site.hostname == "other.example"


def test_the_stored_render_is_anonymous_even_when_an_editor_asks(
    site, ridge, client, django_user_model, django_capture_on_commit_callbacks
):
    editor = django_user_model.objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(editor)
    assert "wagtail-userbar" in client.get("/ridge/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "/ridge/")
    answer = ask(client, "/ridge/")["/ridge/"]
    fetched = AnonymousClient(site).get("/ridge/")
    assert b"userbar" not in fetched.content and b"Hello editor" not in fetched.content
    assert answer["revision"] == page_revision(fetched.content, fetched.csrf_secret)
    assert not any("wagtailadmin" in entry["url"] for entry in answer["entries"])


def test_private_images_are_left_out_as_in_the_editors_manifest(
    site, home, ask_and_render
):
    secret = ImageFactory(title="Hidden cave", collection=private_collection())
    shown = ImageFactory(title="Ridge view", collection=public_collection())
    StandardPageFactory(parent=home, slug="cave", image=secret)
    StandardPageFactory(parent=home, slug="view", image=shown)
    answers = ask_and_render("/cave/", "/view/")[1]
    cave = {entry["url"] for entry in answers["/cave/"]["entries"]}
    view = {entry["url"] for entry in answers["/view/"]["entries"]}
    shown_renditions = {rendition.url for rendition in shown.renditions.all()}
    secret_renditions = {rendition.url for rendition in secret.renditions.all()}
    assert secret_renditions and not secret_renditions & cave
    assert shown_renditions and shown_renditions <= view


# ---------- The site's switches ----------


@pytest.mark.parametrize(
    "values",
    [
        {"enabled": False},
        {"reader_saving": False, "recent_pages": 0},
    ],
)
def test_every_url_is_gone_when_the_site_keeps_no_reader_pages(
    site, ridge, client, enqueued, values
):
    set_settings(site, **values)
    assert gone(client, "/ridge/") and enqueued == []


def test_every_url_is_gone_when_the_global_switch_is_off(
    site, ridge, client, enqueued, settings
):
    settings.WAGTAIL_OFFLINE_ENABLED = False
    assert gone(client, "/ridge/") and enqueued == []


def test_recent_pages_alone_keep_the_endpoint_answering(site, ridge, client, enqueued):
    set_settings(site, reader_saving=False, recent_pages=5)
    assert ask(client, "/ridge/")["/ridge/"]["state"] == "pending"


# ---------- Signals ----------


@pytest.fixture
def kept(site, ridge, ask_and_render):
    """/ridge/ rendered for readers."""
    assert ask_and_render("/ridge/")[1]["/ridge/"]["state"] == "ready"
    return OfflineReaderPage.objects.get(url="/ridge/")


def test_publishing_renders_a_kept_page_again(
    site, ridge, kept, client, django_capture_on_commit_callbacks
):
    before = ask(client, "/ridge/")["/ridge/"]["revision"]
    ridge.body = "<p>The path moved after the storm.</p>"
    with django_capture_on_commit_callbacks(execute=True):
        ridge.save_revision().publish()
    ridge.refresh_from_db()
    stored = OfflineReaderPage.objects.get(url="/ridge/")
    assert stored.source == reader_pages.render_source(ridge) != kept.source
    answer = ask(client, "/ridge/")["/ridge/"]
    assert answer["state"] == "ready" and answer["revision"] != before


def test_a_publish_is_pending_until_the_new_render_is_stored(
    site, ridge, kept, client, enqueued
):
    ridge.save_revision().publish()  # Its render is not stored yet.
    assert ask(client, "/ridge/")["/ridge/"]["state"] == "pending"
    assert enqueued == ["/ridge/"]


def test_a_slug_change_drops_the_render_of_the_old_url(
    site, ridge, kept, client, django_capture_on_commit_callbacks
):
    ridge.slug = "ridge-walk"
    with django_capture_on_commit_callbacks(execute=True):
        ridge.save_revision().publish()
    assert not OfflineReaderPage.objects.filter(url="/ridge/").exists()
    assert gone(client, "/ridge/")


def test_unpublishing_deletes_the_render(site, ridge, kept):
    ridge.unpublish()
    assert not OfflineReaderPage.objects.exists()


def test_expiry_deletes_the_render(site, ridge, kept):
    from django.core.management import call_command

    Page.objects.filter(pk=ridge.pk).update(
        expire_at=timezone.now() - timedelta(minutes=1)
    )
    call_command("publish_scheduled")
    assert not OfflineReaderPage.objects.exists()


def test_a_restriction_on_the_page_or_an_ancestor_deletes_the_renders(
    site, home, ridge, kept, ask_and_render
):
    section = StandardPageFactory(parent=home, slug="section")
    StandardPageFactory(parent=section, slug="hut")
    assert ask_and_render("/section/hut/")[1]["/section/hut/"]["state"] == "ready"
    restrict_with_password(section)
    assert list(OfflineReaderPage.objects.values_list("url", flat=True)) == ["/ridge/"]
    restrict_with_password(ridge)
    assert not OfflineReaderPage.objects.exists()


def test_deleting_the_page_deletes_the_render(site, ridge, kept):
    ridge.delete()
    assert not OfflineReaderPage.objects.exists()


def test_moving_the_page_deletes_the_render_of_its_old_url(site, home, ridge, kept):
    section = StandardPageFactory(parent=home, slug="section")
    ridge.move(section, pos="last-child")
    assert not OfflineReaderPage.objects.exists()


def test_a_private_collection_puts_every_render_out_of_date(
    site, ridge, kept, client, enqueued
):
    private_collection()
    assert ask(client, "/ridge/")["/ridge/"]["state"] == "pending"
    assert enqueued == ["/ridge/"]


def test_a_changed_image_puts_the_renders_of_its_pages_out_of_date(
    site, home, ridge, kept, client, monkeypatch, ask_and_render
):
    photo = ImageFactory(title="Ridge view", collection=public_collection())
    StandardPageFactory(parent=home, slug="view", image=photo)
    assert ask_and_render("/view/")[1]["/view/"]["state"] == "ready"
    enqueued = []
    monkeypatch.setattr(
        reader_pages, "schedule_render", lambda site_id, url: enqueued.append(url)
    )
    photo.title = "The ridge at dawn"
    photo.save()
    answers = ask(client, "/view/", "/ridge/")
    assert answers["/view/"]["state"] == "pending"
    assert answers["/ridge/"]["state"] == "ready"
    assert enqueued == ["/view/"]


# ---------- Cost ----------


def queries_to_ask(client, urls):
    with CaptureQueriesContext(connection) as queries:
        ask(client, *urls)
    return len(queries)


@pytest.fixture
def walks(site, home, client):
    urls = [
        f"/{StandardPageFactory(parent=home, slug=f'walk-{i}').slug}/"
        for i in range(21)
    ]
    ask(client, "/nowhere/")  # Wagtail's cached site root paths, read once per process.
    return urls


def test_asking_for_renders_costs_the_same_queries_for_one_url_or_twenty(
    walks, client, enqueued
):
    one, twenty = queries_to_ask(client, walks[:1]), queries_to_ask(client, walks[1:])
    assert len(enqueued) == 21
    assert one == twenty <= 10


def test_answering_ready_pages_costs_the_same_queries_for_one_url_or_twenty(
    walks, client, ask_and_render
):
    assert {a["state"] for a in ask_and_render(*walks)[1].values()} == {"ready"}
    one, twenty = queries_to_ask(client, walks[:1]), queries_to_ask(client, walks[1:])
    assert one == twenty <= 10


# ---------- Hostile input ----------

HOSTILE_QUERIES = [
    "url=",
    "url=ridge/",
    "url=//evil.example/",
    "url=http://localhost/ridge/",
    "url=https://evil.example/ridge/",
    "url=javascript:alert(1)",
    "url=/ridge/../ridge/",
    "url=/ridge/%252e%252e/",
    "url=/ridge/./",
    "url=/ridge//",
    "url=/x%252F..%252Fridge/",
    "url=/ridge/?x=1",
    "url=/ridge/%3Fx=1",
    "url=/ridge/%23top",
    "url=%5Cridge%5C",
    "url=%20/ridge/",
    "url=/ridge/%09",
    "url=/%00/",
    "url=/%ff/",
    "url=/%C3%A9/",
    "url=/<script>/",
    "url=/" + "a" * 2048,
    "&".join(["url=/ridge/"] * 51),
    "url=/ridge/&url=mailto:x@example.com",
    "&".join(f"url=/p{n}/" for n in range(2000)),
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_are_refused_with_a_short_message_never_echoed(
    site, ridge, client, enqueued, query
):
    response = client.get(f"/offline/pages/?{query}")
    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"
    assert b"<script>" not in response.content and b"evil" not in response.content
    assert len(response.content) < 300
    assert enqueued == [] and not OfflineReaderPage.objects.exists()


def test_a_port_that_is_no_port_is_refused(site, ridge, client, settings):
    settings.USE_X_FORWARDED_PORT = True
    response = client.get("/offline/pages/?url=/ridge/", HTTP_X_FORWARDED_PORT="8o")
    assert response.status_code == 400


def test_only_get_is_answered(site, ridge, client):
    assert client.post("/offline/pages/?url=/ridge/").status_code == 405


def test_a_path_that_merely_looks_odd_is_answered(site, ridge, client, enqueued):
    # Percent-encoded as browsers send it: a valid path, just no page.
    assert gone(client, "/%C3%A9t%C3%A9/")


# ---------- Translations ----------


def test_a_translated_page_is_kept_at_its_own_url(
    site, home, ridge, settings, ask_and_render
):
    from wagtail.models import Locale

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
    french = Locale.objects.create(language_code="fr")
    for page in (home, ridge):
        translation = page.copy_for_translation(french)
        translation.title = translation.seo_title = f"{page.title} (fr)"
        translation.save_revision().publish()
    answers = ask_and_render("/fr/ridge/", "/ridge/", "/fr/nowhere/")[1]
    assert answers["/fr/ridge/"]["state"] == answers["/ridge/"]["state"] == "ready"
    assert answers["/fr/ridge/"]["title"] == "Ridge walk (fr)"
    assert answers["/ridge/"]["title"] == "The ridge"
    assert answers["/fr/ridge/"]["revision"] != answers["/ridge/"]["revision"]
    assert answers["/fr/nowhere/"]["state"] == "gone"


# ---------- The worker's configuration ----------


def test_the_worker_learns_where_to_ask_and_what_the_site_allows(site, client):
    config = worker_config(client.get("/sw.js"))
    assert config["readerPagesUrl"] == "/offline/pages/"
    assert config["csrfTokenUrl"] == "/offline/csrf-token/"
    assert config["readerSaving"] is True
    assert config["recentPages"] == {"count": 0, "maxAgeDays": 14}
    set_settings(site, reader_saving=False, recent_pages=30, recent_pages_days=7)
    config = worker_config(client.get("/sw.js"))
    assert config["readerSaving"] is False
    assert config["recentPages"] == {"count": 30, "maxAgeDays": 7}
    set_settings(site, enabled=False)
    config = worker_config(client.get("/sw.js"))
    assert config["readerSaving"] is False and config["recentPages"]["count"] == 0
