"""Private by construction: nothing a reader could not see anonymously is ever an entry."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.utils import timezone
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction
from wagtail_factories import DocumentFactory, ImageFactory

from tests.factories import StandardPageFactory, restrict_with_password
from tests.testapp.models import StandardPage
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings
from wagtail_offline.rendering import AnonymousClient

pytestmark = pytest.mark.django_db


def urls(manifest, kind=None):
    return {entry["url"] for entry in manifest.entries if kind in (None, entry["kind"])}


def messages(manifest):
    return " ".join(problem["message"] for problem in manifest.problems)


def private_collection():
    """'Maps', private through a login restriction on its parent 'Rangers'."""
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    rangers = root.add_child(name="Rangers")
    CollectionViewRestriction.objects.create(
        collection=rangers, restriction_type=CollectionViewRestriction.LOGIN
    )
    return rangers.add_child(name="Maps")


def public_collection():
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    return root.add_child(name="Walkers")


def document_link(document):
    return f'<p><a linktype="document" id="{document.pk}">{document.title}</a></p>'


def test_unpublished_pages_of_every_kind_are_never_entries(site, trails):
    now = timezone.now()
    StandardPageFactory(parent=trails, slug="draft", live=False)
    scheduled = StandardPageFactory(parent=trails, slug="scheduled", live=False)
    scheduled.go_live_at = now + timedelta(days=2)
    scheduled.save_revision().publish()
    StandardPageFactory(
        parent=trails, slug="expired", expire_at=now - timedelta(hours=1)
    )
    StandardPageFactory(
        parent=trails, slug="expired-and-processed", live=False, expired=True
    )
    unpublished = StandardPageFactory(parent=trails, slug="unpublished")
    unpublished.unpublish()
    StandardPageFactory(parent=trails, slug="open", expire_at=now + timedelta(days=1))

    scheduled.refresh_from_db()
    assert not scheduled.live  # Wagtail keeps a page scheduled until it goes live.
    assert urls(rebuild_site_manifest(site), "page") == {"/trails/", "/trails/open/"}


def test_view_restrictions_on_a_page_or_an_ancestor_keep_it_out(site, trails):
    password = StandardPageFactory(parent=trails, slug="password")
    restrict_with_password(password)
    rangers = StandardPageFactory(parent=trails, slug="rangers")
    StandardPageFactory(parent=rangers, slug="below-login")
    PageViewRestriction.objects.create(
        page=rangers, restriction_type=PageViewRestriction.LOGIN
    )
    staff = StandardPageFactory(parent=trails, slug="staff")
    StandardPageFactory(parent=staff, slug="below-groups")
    restriction = PageViewRestriction.objects.create(
        page=staff, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Rangers"))
    StandardPageFactory(parent=trails, slug="public")

    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "page") == {"/trails/", "/trails/public/"}
    assert not any(
        slug in url
        for url in urls(manifest)
        for slug in ("password", "rangers", "staff", "below")
    )


def test_a_flagged_page_below_a_restricted_section_stays_out(site, home):
    members = StandardPageFactory(parent=home, slug="members")
    restrict_with_password(members)
    StandardPageFactory(parent=members, slug="guide", offline_available=True)
    assert urls(rebuild_site_manifest(site), "page") == set()


def test_images_from_a_private_collection_are_left_out_and_reported(site, trails):
    secret = ImageFactory(title="Hidden cave", collection=private_collection())
    shown = ImageFactory(title="Ridge view", collection=public_collection())
    StandardPageFactory(parent=trails, slug="cave", image=secret)
    StandardPageFactory(parent=trails, slug="ridge", image=shown)

    manifest = rebuild_site_manifest(site)
    media = {url for url in urls(manifest, "asset") if url.startswith("/media/")}
    shown_renditions = {rendition.url for rendition in shown.renditions.all()}
    secret_renditions = {rendition.url for rendition in secret.renditions.all()}
    assert media == shown_renditions and len(shown_renditions) == 2
    assert len(secret_renditions) == 2 and not secret_renditions & urls(manifest)
    # The page itself is public and still ships, without the picture.
    assert "/trails/cave/" in urls(manifest, "page")
    assert "“Hidden cave” from the private collection “Maps”" in messages(manifest)


def test_the_original_image_file_of_a_private_image_is_left_out_too(
    site, trails, monkeypatch
):
    secret = ImageFactory(title="Hidden cave", collection=private_collection())
    serve_html(monkeypatch, f'<img src="{secret.file.url}">')
    manifest = rebuild_site_manifest(site)
    assert secret.file.url not in urls(manifest)
    assert "Hidden cave" in messages(manifest)


def test_documents_are_entries_only_when_the_site_includes_them_and_never_private(
    site, trails
):
    public = DocumentFactory(title="Trail map", collection=public_collection())
    secret = DocumentFactory(title="Ranger rota", collection=private_collection())
    StandardPageFactory(
        parent=trails, slug="maps", body=document_link(public) + document_link(secret)
    )
    assert urls(rebuild_site_manifest(site), "document") == set()

    offline_settings = OfflineSettings.for_site(site)
    offline_settings.include_documents = True
    offline_settings.save()
    manifest = rebuild_site_manifest(site)
    assert urls(manifest, "document") == {public.url}
    [entry] = [e for e in manifest.entries if e["kind"] == "document"]
    assert entry["size"] == public.file.size and entry["revision"]
    assert secret.url not in urls(manifest)
    assert "“Ranger rota” in the private collection “Maps”" in messages(manifest)


def serve_html(monkeypatch, body):
    """Every StandardPage answers this body inside a minimal page."""
    html = (
        f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"
    )
    monkeypatch.setattr(
        StandardPage, "serve", lambda self, request, *a, **k: HttpResponse(html)
    )


def test_admin_and_preview_urls_are_never_entries(site, trails, monkeypatch):
    serve_html(
        monkeypatch,
        f'<link rel="stylesheet" href="/admin/pages/{trails.pk}/edit/preview/">'
        f'<img src="/admin/pages/{trails.pk}/view_draft/">'
        '<script src="/django-admin/jsi18n/"></script>',
    )
    manifest = rebuild_site_manifest(site)
    assert not any(
        url.startswith(("/admin/", "/django-admin/")) for url in urls(manifest)
    )
    assert "is part of the admin, or under a path the service worker never touches" in (
        messages(manifest)
    )


def test_renders_are_anonymous_even_for_an_editor_in_the_admin(
    site,
    trails,
    client,
    django_user_model,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    ridge = StandardPageFactory(parent=trails, slug="ridge", title="Ridge")
    rebuild_site_manifest(site)
    editor = django_user_model.objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(editor)
    # Logged in, the editor sees the greeting and the userbar on the site itself…
    own_view = client.get("/trails/").content.decode()
    assert "Hello editor" in own_view and "wagtail-userbar" in own_view

    rendered = []
    original_get = AnonymousClient.get

    def recording_get(self, url):
        fetched = original_get(self, url)
        rendered.append(fetched.content.decode())
        return fetched

    monkeypatch.setattr(AnonymousClient, "get", recording_get)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/pages/{ridge.pk}/unpublish/", {})
    assert response.status_code == 302
    # …but what the editor's action rendered for readers holds neither.
    assert rendered and any("<h1>Trails</h1>" in html for html in rendered)
    assert not any("Hello editor" in html or "userbar" in html for html in rendered)
