"""The page explorer: an offline indicator on each page, and bulk actions to make pages
available offline or remove them, as Wagtail's own publish and unpublish bulk actions."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.views.pages.bulk_actions.page_bulk_action import PageBulkAction
from wagtail.admin.widgets.button import BaseButton
from wagtail.log_actions import log
from wagtail.models import Site

from .. import status
from ..models import OfflinePageMixin
from ..panels import report_url
from ..schema import tables_ready
from ..selection import offline_page_models, site_root_paths
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
    """Set a page's offline flags on the live page and on its draft, without
    publishing anything; then rebuild each site once.

    A user who may edit a page but not publish it changes its draft only: the
    flags reach readers when the page is next published."""

    template_name = "wagtail_offline/admin/bulk_offline.html"
    # The flags each action sets; ``log_action`` is recorded in the page's history.
    flags = {}
    log_action = ""

    def check_perm(self, page):
        return page.permissions_for_user(self.request.user).can_edit()

    def get_actionable_objects(self):
        objects, extra = super().get_actionable_objects()
        user = self.request.user
        locked = [p for p in objects if p.permissions_for_user(user).page_locked()]
        objects = [p for p in objects if p not in locked]
        aside = self.set_aside(objects)
        return [p for p in objects if supports_offline(p) and p not in aside], {
            **extra,
            "items_locked": locked,
            "items_without_offline": [p for p in objects if not supports_offline(p)],
            "items_in_offline_section": [p for p in objects if p in aside],
        }

    def set_aside(self, pages):
        """Pages this action would change without effect on what readers get."""
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for key in (
            "items_locked",
            "items_without_offline",
            "items_in_offline_section",
        ):
            context[key] = [
                {"item": page.specific_deferred, "can_edit": True}
                for page in context[key]
            ]
        context["action_title"] = self.display_name
        return context

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        ids = [page.pk for page in objects]
        pages = list(cls.get_default_model().objects.filter(pk__in=ids).specific())
        live_changed = [
            page
            for page in pages
            if cls.set_flags(page, user, live=can_publish(page, user))
        ]
        # One transaction: tasks.schedule_rebuild coalesces these into one rebuild per site.
        for site_id, page_ids in _pages_by_site(live_changed).items():
            schedule_rebuild([site_id], page_ids, user)
        return len(pages), 0

    @classmethod
    def set_flags(cls, page, user, live=True):
        """Set ``flags`` on the latest revision of ``page`` (what a later publish brings
        back) and, if ``live``, on its live row (what readers get). Anything changed is
        logged; True when the live row changed. Pages scheduled for publishing are
        locked, so no scheduled revision is left to change."""
        live_changed = live and cls.differs(page.__dict__)
        if live_changed:
            type(page)._default_manager.filter(pk=page.pk).update(**cls.flags)
        revision = page.get_latest_revision()
        if revision is None or (not live and not page.has_unpublished_changes):
            # The live row is the draft: a new draft revision carries the change.
            draft_changed = not live and cls.differs(page.__dict__)
            if draft_changed:
                for name, value in cls.flags.items():
                    setattr(page, name, value)
                page.save_revision(user=user, clean=False)
        else:
            draft_changed = cls.differs(revision.content)
            if draft_changed:
                revision.content.update(cls.flags)
                revision.save(update_fields=["content"])
        if live_changed or draft_changed:
            log(instance=page, action=cls.log_action, user=user, data=dict(cls.flags))
        return live_changed

    @classmethod
    def differs(cls, values):
        return any(values.get(name) != value for name, value in cls.flags.items())

    def get_success_message(self, num_parent_objects, num_child_objects):
        # One message per outcome, each a sentence of its own, in Wagtail's message list.
        user = self.request.user
        drafts = [p for p in self.actionable_objects if not can_publish(p, user)]
        not_live = [
            p for p in self.actionable_objects if p not in drafts and not p.live
        ]
        now = len(self.actionable_objects) - len(drafts) - len(not_live)
        for message, count in (
            (self.now_message, now),
            (self.not_live_message, len(not_live)),
            (self.draft_message, len(drafts)),
        ):
            if count:
                messages.success(self.request, message(count) % {"count": count})
        return None

    def now_message(self, count):
        raise NotImplementedError

    def not_live_message(self, count):
        return self.now_message(count)

    def draft_message(self, count):
        raise NotImplementedError


def in_offline_section(pages, removed=()):
    """Those of ``pages`` below a live page flagged with its subpages (but for the
    sections whose path is in ``removed``): one query per page model, over the
    pages' ancestor paths."""
    ancestors = {
        page.path[:end]
        for page in pages
        for end in range(page.steplen, len(page.path), page.steplen)
    }
    if not ancestors:
        return []
    sections = []
    for model in offline_page_models():
        sections += (
            model.objects.live()
            .filter(
                path__in=ancestors,
                offline_available=True,
                offline_include_subpages=True,
            )
            .exclude(path__in=removed)
            .values_list("path", flat=True)
        )
    return [
        page
        for page in pages
        if any(page.path.startswith(path) and page.path != path for path in sections)
    ]


def can_publish(page, user):
    return page.permissions_for_user(user).can_publish()


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

    def now_message(self, count):
        return ngettext(
            "%(count)d page is now available offline",
            "%(count)d pages are now available offline",
            count,
        )

    def not_live_message(self, count):
        return ngettext(
            "%(count)d page is not live: it is available offline from its next publish",
            "%(count)d pages are not live: they are available offline from their next publish",
            count,
        )

    def draft_message(self, count):
        return ngettext(
            "%(count)d page will be available offline once published",
            "%(count)d pages will be available offline once published",
            count,
        )


@hooks.register("register_bulk_action")
class RemoveFromOfflineBulkAction(OfflineBulkAction):
    display_name = _("Remove from offline")
    action_type = "remove_from_offline"
    aria_label = _("Remove selected pages from offline")
    action_priority = 61
    flags = {"offline_available": False, "offline_include_subpages": False}
    log_action = REMOVE

    def set_aside(self, pages):
        """Pages in a live section flagged with its subpages: they stay offline,
        unless this action removes the section too."""
        user = self.request.user
        removed = {p.path for p in pages if can_publish(p, user)}
        return in_offline_section(pages, removed)

    def now_message(self, count):
        return ngettext(
            "%(count)d page is no longer available offline",
            "%(count)d pages are no longer available offline",
            count,
        )

    def draft_message(self, count):
        return ngettext(
            "%(count)d page will be removed from offline once published",
            "%(count)d pages will be removed from offline once published",
            count,
        )


@hooks.register("register_log_actions")
def register_offline_log_actions(actions):
    actions.register_action(
        MAKE_AVAILABLE, _("Make available offline"), _("Made available offline")
    )
    actions.register_action(REMOVE, _("Remove from offline"), _("Removed from offline"))
