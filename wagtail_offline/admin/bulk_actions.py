"""The page explorer: an offline indicator on each page, and bulk actions to make pages
available offline or remove them, as Wagtail's own publish and unpublish bulk actions."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.views.pages.bulk_actions.page_bulk_action import PageBulkAction
from wagtail.admin.widgets.button import BaseButton
from wagtail.log_actions import log
from wagtail.models import Site

from .. import status
from ..models import OfflinePageMixin
from ..panels import report_url
from ..schema import tables_ready
from ..selection import site_root_paths
from ..tasks import schedule_rebuild

MAKE_AVAILABLE = "wagtail_offline.make_available"
REMOVE = "wagtail_offline.remove"


# The explorer's indicator.


class OfflineIndicator(BaseButton):
    """A status tag beside the page's title: offline, or meant to be and failed."""

    template_name = "wagtail_offline/admin/explorer_indicator.html"
    allow_in_dropdown = False

    LABELS = {
        status.OFFLINE: (_("Offline"), _("Readers can read this page offline")),
        status.FAILED: (
            _("Offline failed"),
            _("This page could not be saved offline: see the offline pages report"),
        ),
    }

    def __init__(self, state, url=None, priority=0):
        label, self.title = self.LABELS[state]
        super().__init__(label=label, url=url, priority=priority)
        self.state = state

    def get_context_data(self, parent_context):
        return {**super().get_context_data(parent_context), "state": self.state}


class _Listing:
    """What one listing needs to show its indicators, read once for all its rows."""

    def __init__(self, page_ids):
        self.states = status.states_by_page_id(page_ids)
        self.root_paths = Site.get_site_root_paths() if self.states else []

    @classmethod
    def of(cls, page, context):
        # Kept on the table being rendered: one look-up per listing, not one per row.
        table = context.get("table") if context else None
        rows = getattr(table, "data", None)
        if rows is None:
            return cls([page.pk])
        listing = getattr(table, "_wagtail_offline_listing", None)
        if listing is None:
            listing = table._wagtail_offline_listing = cls([row.pk for row in rows])
        return listing

    def report_url(self, page, state):
        for root in self.root_paths:
            if page.url_path.startswith(root.root_path):
                return report_url(Site(pk=root.site_id), state)
        return report_url(None, state)


@hooks.register("construct_page_listing_buttons")
def add_offline_indicator(buttons, page, user, context=None):
    if not tables_ready():
        return
    listing = _Listing.of(page, context)
    state = listing.states.get(page.pk)
    if state is not None:
        url = listing.report_url(page, state) or None
        buttons.insert(0, OfflineIndicator(state, url=url))


# The bulk actions.


def supports_offline(page):
    return issubclass(page.specific_class or type(page), OfflinePageMixin)


class OfflineBulkAction(PageBulkAction):
    """Set a page's offline flags on the live page and on its draft and scheduled
    revisions, without publishing anything; then rebuild each site once."""

    template_name = "wagtail_offline/admin/bulk_offline.html"
    # The flags each action sets; ``log_action`` is recorded in the page's history.
    flags = {}
    log_action = ""

    def check_perm(self, page):
        return page.permissions_for_user(self.request.user).can_edit()

    def get_actionable_objects(self):
        objects, extra = super().get_actionable_objects()
        return [page for page in objects if supports_offline(page)], {
            **extra,
            "items_without_offline": [
                page for page in objects if not supports_offline(page)
            ],
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["items_without_offline"] = [
            {"item": page.specific_deferred}
            for page in context["items_without_offline"]
        ]
        context["action_title"] = self.display_name
        return context

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        ids = [page.pk for page in objects]
        pages = list(cls.get_default_model().objects.filter(pk__in=ids).specific())
        changed = [page for page in pages if cls.set_flags(page, user)]
        # One transaction: tasks.schedule_rebuild coalesces these into one rebuild per site.
        for site_id, page_ids in _pages_by_site(changed).items():
            schedule_rebuild([site_id], page_ids, user)
        return len(pages), 0

    @classmethod
    def set_flags(cls, page, user):
        """Set ``flags`` on ``page`` and the revisions a later publish would bring back:
        the latest one and any scheduled one. True when anything changed (then logged)."""
        changed = False
        if any(getattr(page, name) != value for name, value in cls.flags.items()):
            type(page)._default_manager.filter(pk=page.pk).update(**cls.flags)
            changed = True
        revisions = page.revisions.filter(
            Q(pk=page.latest_revision_id) | Q(approved_go_live_at__isnull=False)
        )
        for revision in revisions:
            if any(
                revision.content.get(name) != value for name, value in cls.flags.items()
            ):
                revision.content.update(cls.flags)
                revision.save(update_fields=["content"])
                changed = True
        if changed:
            log(instance=page, action=cls.log_action, user=user, data=dict(cls.flags))
        return changed


def _pages_by_site(pages):
    """{site id: ids of those of ``pages`` in its tree}: each site's roots read once."""
    by_site = {}
    for site in Site.objects.select_related("root_page"):
        paths = site_root_paths(site)
        ids = [p.pk for p in pages if any(p.path.startswith(path) for path in paths)]
        if ids:
            by_site[site.pk] = ids
    return by_site


@hooks.register("register_bulk_action")
class MakeAvailableOfflineBulkAction(OfflineBulkAction):
    display_name = _("Make available offline")
    action_type = "make_available_offline"
    aria_label = _("Make selected pages available offline")
    action_priority = 60
    flags = {"offline_available": True}
    log_action = MAKE_AVAILABLE

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)d page is now available offline",
            "%(count)d pages are now available offline",
            num_parent_objects,
        ) % {"count": num_parent_objects}


@hooks.register("register_bulk_action")
class RemoveFromOfflineBulkAction(OfflineBulkAction):
    display_name = _("Remove from offline")
    action_type = "remove_from_offline"
    aria_label = _("Remove selected pages from offline")
    action_priority = 61
    flags = {"offline_available": False, "offline_include_subpages": False}
    log_action = REMOVE

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)d page is no longer available offline",
            "%(count)d pages are no longer available offline",
            num_parent_objects,
        ) % {"count": num_parent_objects}


@hooks.register("register_log_actions")
def register_offline_log_actions(actions):
    actions.register_action(
        MAKE_AVAILABLE, _("Make available offline"), _("Made available offline")
    )
    actions.register_action(REMOVE, _("Remove from offline"), _("Removed from offline"))
