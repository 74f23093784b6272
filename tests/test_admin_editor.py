"""The page editor: where the page stands offline, the warning after a publish, and validation."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from tests.factories import StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflinePageSnapshot, OfflineRebuild
from wagtail_offline.sizes import format_size
from wagtail_offline.status import site_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(django_user_model):
    user = django_user_model.objects.create_superuser(
        "editor", "editor@example.com", "pw"
    )
    # The rebuild renders a failing page in-process during the publish: Django's test
    # client would re-raise that page's error as the admin request's own.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def edit_url(page):
    return f"/admin/pages/{page.pk}/edit/"


def offline_status(client, page):
    """The text of the status panel on the page's promote tab, whitespace collapsed."""
    html = client.get(edit_url(page)).content.decode()
    promote = html[html.index('id="tab-promote"') :]
    start = promote.index("data-offline-status")
    block = promote[start : promote.index("</div>\n", promote.index("</p>", start))]
    return " ".join(re.sub(r"<[^>]+>", " ", block.split(">", 1)[1]).split())


def size_of(value):
    """``format_size`` as the panel's text reads once whitespace is collapsed."""
    return format_size(value).replace("\xa0", " ")


def break_page(monkeypatch, page, message="template exploded"):
    original = StandardPage.serve

    def serve(self, request, *args, **kwargs):
        if self.pk == page.pk:
            raise RuntimeError(message)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(StandardPage, "serve", serve)


def test_an_offline_page_shows_its_size_and_when_it_was_saved(
    editor_client, site, trails
):
    rebuild_site_manifest(site)
    OfflinePageSnapshot.objects.filter(page=trails).update(
        rendered_at=timezone.now() - timedelta(minutes=3, seconds=5)
    )
    size = size_of(site_status(site).page_status(trails).total_size)
    text = offline_status(editor_client, trails)
    assert f"Available offline · {size} · updated 3 minutes ago" in text


def test_a_page_that_failed_to_render_says_why(
    editor_client, site, trails, monkeypatch
):
    broken = StandardPageFactory(parent=trails, title="Broken", slug="broken")
    break_page(monkeypatch, broken)
    rebuild_site_manifest(site)
    text = offline_status(editor_client, broken)
    assert text.startswith("Not offline:")
    assert "template exploded" in text


def test_a_draft_in_a_flagged_section_says_it_is_excluded_and_why(
    editor_client, site, trails
):
    draft = StandardPageFactory(parent=trails, title="Draft", slug="draft", live=False)
    rebuild_site_manifest(site)
    assert "Not offline: draft: never published" in offline_status(editor_client, draft)


def test_a_page_that_is_not_flagged_says_so_plainly(editor_client, site, home):
    page = StandardPageFactory(parent=home, title="About", slug="about")
    assert offline_status(editor_client, page).startswith(
        "Not offline: neither this page nor a section above it is marked"
    )


def test_a_flagged_page_not_built_yet_is_offline_from_the_next_update(
    editor_client, site, trails
):
    assert "Offline from the next update" in offline_status(editor_client, trails)


def test_a_pending_rebuild_of_the_page_shows_it_is_being_updated(
    editor_client, site, trails
):
    rebuild_site_manifest(site)
    OfflineRebuild.objects.create(site=site, page_ids=[trails.pk])
    assert "Being updated…" in offline_status(editor_client, trails)
    assert "Available offline" not in offline_status(editor_client, trails)


def test_a_pending_rebuild_of_other_pages_leaves_the_status_alone(
    editor_client, site, home, trails
):
    rebuild_site_manifest(site)
    OfflineRebuild.objects.create(site=site, page_ids=[home.pk])
    assert "Available offline" in offline_status(editor_client, trails)


def test_a_section_flagged_with_its_subpages_says_what_it_brings(
    editor_client, site, trails
):
    StandardPageFactory(parent=trails, title="Ridge", slug="ridge")
    StandardPageFactory(parent=trails, title="Lake", slug="lake")
    rebuild_site_manifest(site)
    pages, size = site_status(site).section_summary(trails)
    assert pages == 3
    text = offline_status(editor_client, trails)
    assert f"This section: 3 pages, {size_of(size)}" in text


def test_a_page_flagged_without_its_subpages_shows_no_section(
    editor_client, site, home
):
    page = StandardPageFactory(
        parent=home, title="About", slug="about", offline_available=True
    )
    rebuild_site_manifest(site)
    text = offline_status(editor_client, page)
    assert "Available offline" in text and "This section" not in text


def test_the_status_links_to_the_sites_offline_pages_report(
    editor_client, site, trails
):
    html = editor_client.get(edit_url(trails)).content.decode()
    assert f'href="/admin/reports/offline-pages/?site={site.pk}"' in html


def test_the_create_view_shows_a_hint_and_still_creates_the_page(
    editor_client, site, home
):
    url = f"/admin/pages/add/testapp/standardpage/{home.pk}/"
    html = editor_client.get(url).content.decode()
    assert "Where this page stands offline shows here once it is saved." in html
    response = editor_client.post(
        url,
        {"title": "New", "slug": "new", "body": "", "offline_available": "on"},
    )
    assert response.status_code == 302
    assert StandardPage.objects.get(slug="new").offline_available


def test_the_status_panel_adds_no_form_field(editor_client, site, trails):
    response = editor_client.get(edit_url(trails))
    fields = set(response.context["form"].fields)
    assert {"offline_available", "offline_include_subpages"} <= fields
    assert not {name for name in fields if "status" in name}


def test_comparing_revisions_shows_the_offline_options_changes(
    editor_client, site, home
):
    page = StandardPageFactory(parent=home, title="About", slug="about")
    page.save_revision()
    page.offline_available = True
    page.save_revision()
    url = f"/admin/pages/{page.pk}/revisions/compare/earliest...latest/"
    response = editor_client.get(url)
    assert response.status_code == 200
    assert "Available offline" in response.content.decode()


def test_reading_the_status_never_renders_a_page(
    editor_client, site, trails, monkeypatch
):
    rebuild_site_manifest(site)

    def serve(self, request, *args, **kwargs):
        raise AssertionError("the editor rendered a page")

    monkeypatch.setattr(StandardPage, "serve", serve)
    assert "Available offline" in offline_status(editor_client, trails)


# After a publish: the rebuild runs when the publish commits, so these tests commit.


def publish(client, page, **fields):
    data = {
        "title": page.title,
        "slug": page.slug,
        "body": page.body,
        "offline_available": "on" if page.offline_available else "",
        "offline_include_subpages": "on" if page.offline_include_subpages else "",
        "action-publish": "action-publish",
        **fields,
    }
    data = {key: value for key, value in data.items() if value != ""}
    return client.post(edit_url(page), data, follow=True)


def messages_of(response):
    """(level, text) of each message shown, as the editor reads it."""
    return [
        (
            m.level_tag,
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m.message)).split()),
        )
        for m in response.context["messages"]
    ]


@pytest.mark.django_db(transaction=True)
def test_publishing_a_flagged_page_that_fails_warns_with_the_reason(
    editor_client, site, trails, monkeypatch
):
    broken = StandardPageFactory(parent=trails, title="Broken", slug="broken")
    break_page(monkeypatch, broken)
    response = publish(editor_client, broken, title="Broken again")
    assert response.status_code == 200
    found = messages_of(response)
    assert any(
        level == "success"
        and text.startswith("Page 'Broken again' has been published.")
        for level, text in found
    )
    [warning] = [text for level, text in found if level == "warning"]
    assert warning.startswith("“Broken again” is not available offline:")
    assert "template exploded" in warning and "Offline pages report" in warning


@pytest.mark.django_db(transaction=True)
def test_publishing_a_flagged_page_that_works_gives_no_warning(
    editor_client, site, trails
):
    response = publish(editor_client, trails, title="Trails again")
    assert [level for level, _ in messages_of(response)] == ["success"]
    assert site_status(site).page_status(trails).state == "offline"


@pytest.mark.django_db(transaction=True)
def test_a_queued_rebuild_says_nothing_after_the_publish(
    editor_client, site, trails, monkeypatch, settings
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    break_page(monkeypatch, trails)
    response = publish(editor_client, trails, title="Trails again")
    assert [level for level, _ in messages_of(response)] == ["success"]
    assert site_status(site).page_status(trails).pending


# Validation: "subpages" without "available offline" is refused.


def test_subpages_without_available_offline_is_refused_on_the_field(
    editor_client, site, home
):
    page = StandardPageFactory(parent=home, title="About", slug="about")
    revisions = page.revisions.count()
    response = editor_client.post(
        edit_url(page),
        {
            "title": "About",
            "slug": "about",
            "offline_include_subpages": "on",
            "action-publish": "action-publish",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["offline_include_subpages"] == [
        "Subpages can only be made available offline with the page itself: tick "
        "“Available offline” too, or untick this."
    ]
    assert "Subpages can only be made available offline" in response.content.decode()
    page.refresh_from_db()
    assert not page.offline_include_subpages and not page.has_unpublished_changes
    assert page.revisions.count() == revisions


def test_subpages_without_available_offline_is_refused_as_a_draft_too(
    editor_client, site, home
):
    page = StandardPageFactory(parent=home, title="About", slug="about")
    response = editor_client.post(
        edit_url(page),
        {"title": "About", "slug": "about", "offline_include_subpages": "on"},
    )
    assert response.status_code == 200
    assert "offline_include_subpages" in response.context["form"].errors
    assert page.revisions.count() == 0


def test_a_page_stored_with_subpages_but_not_available_still_opens(
    editor_client, site, home
):
    page = StandardPageFactory(parent=home, title="Old", slug="old")
    StandardPage.objects.filter(pk=page.pk).update(offline_include_subpages=True)
    response = editor_client.get(edit_url(page))
    assert response.status_code == 200
    assert response.context["form"].initial["offline_include_subpages"] is True
    assert Page.objects.get(pk=page.pk).specific.offline_include_subpages
