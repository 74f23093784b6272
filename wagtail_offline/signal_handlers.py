"""Turning editors' actions into manifest rebuilds. Handlers only schedule work."""

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save
from wagtail.models import Page, PageViewRestriction, ReferenceIndex, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from .models import OfflineSettings
from .tasks import schedule_rebuild


def sites_containing(page):
    return [
        site.pk
        for site in Site.objects.select_related("root_page")
        if page.path.startswith(site.root_page.path)
    ]


def affected_page_ids(page):
    """The page, the ancestors that may list it, and the pages that refer to it."""
    ids = {page.pk}
    ids.update(Page.objects.ancestor_of(page).values_list("pk", flat=True))
    ids.update(referring_page_ids(page))
    return ids


def referring_page_ids(page):
    """Pages whose content links to or embeds ``page`` (Wagtail's reference index)."""
    page_type = ContentType.objects.get_for_model(Page)
    references = ReferenceIndex.get_references_to(page).filter(
        base_content_type=page_type
    )
    return [int(pk) for pk in references.values_list("object_id", flat=True).distinct()]


def page_changed(instance, **kwargs):
    schedule_rebuild(sites_containing(instance), affected_page_ids(instance))


def page_moved(
    instance,
    url_path_before,
    url_path_after,
    parent_page_before,
    parent_page_after,
    **kwargs,
):
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
    schedule_rebuild(site_ids, ids)


def page_deleted(instance, **kwargs):
    if isinstance(instance, Page) and instance.live:
        schedule_rebuild(sites_containing(instance), [])


def view_restriction_changed(instance, **kwargs):
    page = instance.page
    schedule_rebuild(sites_containing(page), affected_page_ids(page))


def offline_settings_changed(instance, created=False, **kwargs):
    # Settings are created with their defaults on first read (even during a render): nothing changed.
    if created:
        return
    # Only the fallback page and the listing depend on the settings; they are always re-rendered.
    schedule_rebuild([instance.site_id], [])


def register_signal_handlers():
    page_published.connect(page_changed, dispatch_uid="wagtail_offline_published")
    page_unpublished.connect(page_changed, dispatch_uid="wagtail_offline_unpublished")
    post_page_move.connect(page_moved, dispatch_uid="wagtail_offline_moved")
    post_delete.connect(page_deleted, dispatch_uid="wagtail_offline_deleted")
    for signal in (post_save, post_delete):
        signal.connect(
            view_restriction_changed,
            sender=PageViewRestriction,
            dispatch_uid=f"wagtail_offline_restriction_{signal is post_save}",
        )
    post_save.connect(
        offline_settings_changed,
        sender=OfflineSettings,
        dispatch_uid="wagtail_offline_settings",
    )
