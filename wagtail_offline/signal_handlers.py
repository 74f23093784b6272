"""Turning editors' actions into manifest rebuilds. Handlers only schedule work."""

import functools

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import (
    CollectionViewRestriction,
    Locale,
    Page,
    PageViewRestriction,
    ReferenceIndex,
    Site,
    get_page_models,
)
from wagtail.signals import page_published, page_unpublished, post_page_move

from . import reader_pages
from .models import OfflineReaderPage, OfflineServingState, OfflineSettings
from .rendering import is_rendering
from .schema import tables_ready
from .selection import page_is_in_site
from .tasks import schedule_rebuild


def once_migrated(handler):
    """Handlers stay idle until the plugin's tables exist: a site may publish before migrating."""

    @functools.wraps(handler)
    def guarded(*args, **kwargs):
        if tables_ready():
            handler(*args, **kwargs)

    return guarded


def sites_containing(page):
    """Ids of the sites whose tree (or a translation of it) holds ``page``."""
    return [
        site.pk
        for site in Site.objects.select_related("root_page")
        if page_is_in_site(page, site)
    ]


def sites_containing_pages(page_ids):
    pages = Page.objects.filter(pk__in=page_ids).only("path")
    return {site_id for page in pages for site_id in sites_containing(page)}


def affected_page_ids(page):
    """The page, the ancestors that may list it, and the pages that refer to it."""
    ids = {page.pk}
    ids.update(Page.objects.ancestor_of(page).values_list("pk", flat=True))
    ids.update(referring_page_ids(page))
    return ids


def referring_page_ids(instance):
    """Pages whose content links to or embeds ``instance`` (Wagtail's reference index)."""
    page_type = ContentType.objects.get_for_model(Page)
    references = ReferenceIndex.get_references_to(instance).filter(
        base_content_type=page_type
    )
    return {int(pk) for pk in references.values_list("object_id", flat=True).distinct()}


@once_migrated
def page_changed(instance, **kwargs):
    """Published (a copy too), unpublished: the page and the pages that show it."""
    # The listing shows titles and live pages: it is served afresh from now on.
    OfflineServingState.bump()
    schedule_rebuild(
        sites_containing(instance),
        affected_page_ids(instance),
        scope=[instance.pk],
    )


# Fields of a page the listing shows or decides by; a draft's save touches none of them.
LISTED_FIELDS = {
    "title",
    "seo_title",
    "search_description",
    "live",
    "expire_at",
    "path",
    "depth",
    "url_path",
    "slug",
    "locale",
    "locale_id",
}


@once_migrated
def page_saved(instance, update_fields=None, **kwargs):
    """A page saved outside publishing (an expiry set in code, an import): the listing
    is served afresh, as after a publish."""
    if isinstance(instance, Page) and (
        update_fields is None or not LISTED_FIELDS.isdisjoint(update_fields)
    ):
        OfflineServingState.bump()


@once_migrated
def page_moved(
    instance,
    url_path_before,
    url_path_after,
    parent_page_before,
    parent_page_after,
    **kwargs,
):
    OfflineServingState.bump()
    # Every page below the moved one has a new URL.
    ids = set(
        Page.objects.descendant_of(instance, inclusive=True).values_list(
            "pk", flat=True
        )
    )
    ids |= affected_page_ids(parent_page_before) | affected_page_ids(parent_page_after)
    site_ids = set(sites_containing(parent_page_before)) | set(
        sites_containing(instance)
    )
    schedule_rebuild(site_ids, ids, scope=[instance.pk])


@once_migrated
def page_deleting(instance, **kwargs):
    # Before the delete: afterwards its ancestors and referrers can no longer be found.
    if not isinstance(instance, Page):
        return
    # In the delete's transaction (Django's deletions run in one): seen with it.
    OfflineServingState.bump()
    if instance.live:
        # Its subpages go with it: named, so that the manifest drops their entries.
        below = Page.objects.descendant_of(instance).values_list("pk", flat=True)
        schedule_rebuild(
            sites_containing(instance),
            affected_page_ids(instance) | set(below),
            scope=[instance.pk],
        )


@once_migrated
def view_restriction_changed(instance, **kwargs):
    # Private pages leave the listing at once, whatever the task backend.
    OfflineServingState.bump()
    page = instance.page
    schedule_rebuild(sites_containing(page), affected_page_ids(page), scope=[page.pk])


@once_migrated
def collection_restriction_changed(instance, **kwargs):
    # Which media are private is decided when the manifest is assembled: no page to re-render.
    schedule_rebuild(list(Site.objects.values_list("pk", flat=True)), [])


@once_migrated
def media_changed(instance, **kwargs):
    """An image or document was saved (moved collection, new file, new title): re-render its pages.

    A private one is looked for in every page's assets too, not only in the pages the
    reference index names: a build that patches the manifest judges only what it renders.
    """
    page_ids = referring_page_ids(instance)
    if page_ids:
        # Their content changed, not which pages are offline nor their URLs.
        schedule_rebuild(sites_containing_pages(page_ids), page_ids, scope=[])
    collection = getattr(instance, "collection", None)
    if collection is not None and collection.get_view_restrictions().exists():
        schedule_rebuild(list(Site.objects.values_list("pk", flat=True)), [])


@once_migrated
def rendition_created(instance, created=False, **kwargs):
    # Our own renders create renditions too; those are already in what they render.
    if created and not is_rendering():
        media_changed(instance.image)


@once_migrated
def offline_settings_changed(instance, created=False, **kwargs):
    # Settings are created with their defaults on first read (even during a render): nothing changed.
    if created:
        return
    # The fallback pages are rendered by every build, and the listing's key holds the settings.
    schedule_rebuild([instance.site_id], [])


@once_migrated
def locale_changed(**kwargs):
    # The listing's sections say their language.
    OfflineServingState.bump()


@once_migrated
def site_changed(**kwargs):
    # Which site a host name and port resolve to is cached per serving generation.
    OfflineServingState.bump()


# ---------- Pages readers keep themselves (see reader_pages.py) ----------


@once_migrated
def reader_page_published(instance, **kwargs):
    """A page readers keep is rendered again; its old URL, after a slug change, is dropped."""
    kept = OfflineReaderPage.objects.filter(page_id=instance.pk)
    renders = list(kept.values_list("site_id", "url"))
    # Asked for now: readers' requests meanwhile do not ask again.
    kept.update(requested_at=timezone.now())
    for site_id, url in renders:
        reader_pages.schedule_render(site_id, url)


@once_migrated
def reader_page_withdrawn(instance, **kwargs):
    """Unpublished (expired too): readers may no longer keep it."""
    OfflineReaderPage.objects.filter(page_id=instance.pk).delete()


@once_migrated
def reader_pages_restricted(instance, **kwargs):
    """A view restriction on a page makes it and every page below it private."""
    OfflineReaderPage.objects.filter(page__path__startswith=instance.page.path).delete()


@once_migrated
def reader_pages_moved(instance, **kwargs):
    """A move changes the URLs of the page and of every page below it: renders of the old ones go."""
    OfflineReaderPage.objects.filter(page__path__startswith=instance.path).delete()


@once_migrated
def reader_pages_media_changed(instance, **kwargs):
    """An image or document was saved: the renders of pages that show it are out of date."""
    page_ids = referring_page_ids(instance)
    if page_ids:
        reader_pages.mark_out_of_date(
            OfflineReaderPage.objects.filter(page_id__in=page_ids)
        )


@once_migrated
def reader_pages_collections_restricted(instance, **kwargs):
    """Which images and documents are private changed: every render is out of date."""
    reader_pages.mark_out_of_date(OfflineReaderPage.objects.all())


def register_signal_handlers():
    page_published.connect(page_changed, dispatch_uid="wagtail_offline_published")
    page_unpublished.connect(page_changed, dispatch_uid="wagtail_offline_unpublished")
    post_page_move.connect(page_moved, dispatch_uid="wagtail_offline_moved")
    # Per page model: a receiver for every sender would cost every save in the
    # project a call, and every bulk delete Django's fast path (it would load each
    # row to send it the signal).
    for model in get_page_models():
        label = model._meta.label_lower
        post_save.connect(
            page_saved, sender=model, dispatch_uid=f"wagtail_offline_saved_{label}"
        )
        pre_delete.connect(
            page_deleting, sender=model, dispatch_uid=f"wagtail_offline_deleted_{label}"
        )
    for signal in (post_save, post_delete):
        name = "saved" if signal is post_save else "deleted"
        signal.connect(
            view_restriction_changed,
            sender=PageViewRestriction,
            dispatch_uid=f"wagtail_offline_restriction_{name}",
        )
        signal.connect(
            collection_restriction_changed,
            sender=CollectionViewRestriction,
            dispatch_uid=f"wagtail_offline_collection_restriction_{name}",
        )
    image_model = get_image_model()
    post_save.connect(
        media_changed, sender=image_model, dispatch_uid="wagtail_offline_image"
    )
    post_save.connect(
        media_changed,
        sender=get_document_model(),
        dispatch_uid="wagtail_offline_document",
    )
    post_save.connect(
        rendition_created,
        sender=image_model.get_rendition_model(),
        dispatch_uid="wagtail_offline_rendition",
    )
    for signal in (post_save, post_delete):
        signal.connect(site_changed, sender=Site, dispatch_uid="wagtail_offline_site")
    for signal in (post_save, post_delete):
        signal.connect(
            locale_changed, sender=Locale, dispatch_uid="wagtail_offline_locale"
        )
    post_save.connect(
        offline_settings_changed,
        sender=OfflineSettings,
        dispatch_uid="wagtail_offline_settings",
    )
    register_reader_page_handlers()


def register_reader_page_handlers():
    # Deleting a page deletes its renders with it (the foreign key cascades).
    page_published.connect(
        reader_page_published, dispatch_uid="wagtail_offline_reader_published"
    )
    page_unpublished.connect(
        reader_page_withdrawn, dispatch_uid="wagtail_offline_reader_unpublished"
    )
    post_save.connect(
        reader_pages_restricted,
        sender=PageViewRestriction,
        dispatch_uid="wagtail_offline_reader_restricted",
    )
    post_page_move.connect(
        reader_pages_moved, dispatch_uid="wagtail_offline_reader_moved"
    )
    for signal in (post_save, post_delete):
        name = "saved" if signal is post_save else "deleted"
        signal.connect(
            reader_pages_collections_restricted,
            sender=CollectionViewRestriction,
            dispatch_uid=f"wagtail_offline_reader_collection_restriction_{name}",
        )
    for model in (get_image_model(), get_document_model()):
        post_save.connect(
            reader_pages_media_changed,
            sender=model,
            dispatch_uid=f"wagtail_offline_reader_{model._meta.label_lower}",
        )
