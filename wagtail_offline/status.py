"""Where a site and its pages stand offline, for the admin: read from stored data only.

Every admin screen (the report, the page editor's panel, the explorer, the dashboard)
asks this module. It reads the stored manifest, the page snapshots and the pending
rebuilds; it never renders a page.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.permissions import page_permission_policy

from . import manifest_store
from .models import (
    OfflineManifest,
    OfflinePageSnapshot,
    OfflineRebuild,
    OfflineSettings,
)
from .selection import (
    _flag_conditions,
    exclusion_reason,
    in_site,
    offline_pages,
    page_is_in_site,
)

# A rebuild still unfinished after this long was lost (no task worker, a crash): the
# admin stops saying "Being updated…" and shows the last build's state again.
PENDING_AT_MOST = timedelta(hours=1)

# A page's state offline.
OFFLINE = "offline"  # Readers' browsers hold it.
FAILED = "failed"  # Meant to be offline, but it could not be saved (see ``reason``).
EXCLUDED = "excluded"  # Flagged, or in a flagged section, but not public and live.
WAITING = "waiting"  # Offline from the next build on: not rendered yet.
NOT_OFFLINE = "not_offline"  # Neither flagged nor in a flagged section.

STATES = (OFFLINE, FAILED, EXCLUDED, WAITING)


@dataclass
class PageStatus:
    """One page of one site: its state, why, and what it weighs on readers' devices."""

    page_id: int
    state: str
    reason: str = ""
    # Bytes of the page's own HTML, of it with the assets no other page uses, of all it needs.
    size: int = 0
    own_size: int = 0
    total_size: int = 0
    # Cross-origin subresources that will not work offline.
    foreign: list = field(default_factory=list)
    # Warnings about a page that ships (a template without {% offline_head %}).
    warnings: list = field(default_factory=list)
    urls: list = field(default_factory=list)
    rendered_at: datetime | None = None
    # A rebuild that covers this page has been asked for and has not finished.
    pending: bool = False

    @property
    def is_offline(self):
        return self.state == OFFLINE


@dataclass
class SiteStatus:
    """One site's offline state as the admin shows it."""

    site: Site
    settings: OfflineSettings
    manifest: OfflineManifest | None
    pending_rebuilds: list
    last_rebuild: OfflineRebuild | None

    @property
    def enabled(self):
        from .views import is_active

        return is_active(self.settings)

    @property
    def total_size(self):
        """Bytes readers' browsers download for this site: every entry once."""
        return manifest_store.total_size(self.manifest) if self.manifest else 0

    @property
    def budget(self):
        return self.settings.storage_budget_bytes

    @property
    def budget_fraction(self):
        return self.total_size / self.budget if self.budget else 0

    @property
    def over_budget(self):
        return self.total_size > self.budget

    @property
    def page_count(self):
        """Offline pages (each counted once, whatever its number of URLs)."""
        if not self.manifest:
            return 0
        return len(manifest_store.shipped_page_ids(self.manifest))

    @property
    def problems(self):
        """Every problem of the last build: site-wide ones first, then the pages'."""
        problems = list(self.manifest.problems) if self.manifest else []
        return sorted(problems, key=lambda problem: problem.get("page_id") is not None)

    @property
    def site_problems(self):
        """What is wrong for the whole site: the fallback page, an oversized or
        uninstallable asset, a failed build; a page's own failures are in its row."""
        problems = [p for p in self.problems if p.get("page_id") is None]
        if self.last_rebuild is not None and self.last_rebuild.error:
            problems.insert(
                0,
                {
                    "url": "",
                    "message": self.last_rebuild.error,
                    "page_id": None,
                    "level": "error",
                },
            )
        return problems

    @property
    def problem_count(self):
        return len(self.site_problems) + len(
            [p for p in self.problems if p.get("page_id") is not None]
        )

    @property
    def built_at(self):
        return self.manifest.built_at if self.manifest else None

    @property
    def pending(self):
        return bool(self.pending_rebuilds)

    @property
    def pending_since(self):
        if not self.pending_rebuilds:
            return None
        return min(rebuild.requested_at for rebuild in self.pending_rebuilds)

    def is_pending_for(self, page_id):
        return any(rebuild.covers(page_id) for rebuild in self.pending_rebuilds)

    def candidate_pages(self):
        """Every page of the site that is offline or was meant to be: flagged, or in a
        flagged section, whether live or not. A queryset, in tree order."""
        return candidate_pages(self.site)

    def page_statuses(self, pages):
        """``PageStatus`` of each of ``pages`` (candidates or not), keyed by page id,
        in a fixed number of queries."""
        pages = list(pages)
        ids = [page.pk for page in pages]
        offline_ids = set(
            offline_pages(self.site).filter(pk__in=ids).values_list("pk", flat=True)
        )
        candidate_ids = set(
            candidate_pages(self.site).filter(pk__in=ids).values_list("pk", flat=True)
        )
        summaries = (
            manifest_store.summaries_by_page(self.manifest, set(ids))
            if self.manifest
            else {}
        )
        restrictions = view_restrictions_above(pages)
        snapshots = {}
        for snapshot in OfflinePageSnapshot.objects.filter(
            site=self.site, page_id__in=offline_ids
        ).order_by("url"):
            snapshots.setdefault(snapshot.page_id, []).append(snapshot)
        return {
            page.pk: self._page_status(
                page,
                page.pk in offline_ids,
                page.pk in candidate_ids,
                summaries.get(page.pk, []),
                snapshots.get(page.pk, []),
                restrictions,
            )
            for page in pages
        }

    def page_status(self, page):
        return self.page_statuses([page])[page.pk]

    def _page_status(
        self, page, offline, candidate, summaries, snapshots, restrictions
    ):
        pending = candidate and self.is_pending_for(page.pk)
        if not candidate:
            return PageStatus(page.pk, NOT_OFFLINE, pending=pending)
        if not offline:
            return PageStatus(
                page.pk,
                EXCLUDED,
                exclusion_reason(page, restrictions),
                pending=pending,
            )
        errors = [snapshot.error for snapshot in snapshots if snapshot.error]
        rendered_at = max((s.rendered_at for s in snapshots), default=None)
        warnings = [w for snapshot in snapshots for w in snapshot.warnings or []]
        if errors:
            return PageStatus(
                page.pk,
                FAILED,
                " ".join(errors),
                warnings=warnings,
                rendered_at=rendered_at,
                pending=pending,
            )
        if not summaries:
            return PageStatus(
                page.pk, WAITING, rendered_at=rendered_at, pending=pending
            )
        return PageStatus(
            page.pk,
            OFFLINE,
            size=sum(s["size"] for s in summaries),
            own_size=sum(s["own_size"] for s in summaries),
            total_size=sum(s["total_size"] for s in summaries),
            foreign=sorted({url for s in summaries for url in s["foreign"]}),
            warnings=warnings,
            urls=[s["url"] for s in summaries],
            rendered_at=rendered_at,
            pending=pending,
        )

    def section_summary(self, page):
        """(pages, bytes) that ``page`` and its subpages ship: each page and asset once.

        Only pages the last build saved count: a page that failed is in its own row.
        """
        ids = set(
            offline_pages(self.site)
            .filter(path__startswith=page.path)
            .values_list("pk", flat=True)
        )
        if not self.manifest or not ids:
            return 0, 0
        summaries = manifest_store.summaries_by_page(self.manifest, ids)
        urls = {s["url"] for page_urls in summaries.values() for s in page_urls}
        return len(summaries), manifest_store.bytes_needed(self.manifest, urls)


def view_restrictions_above(pages):
    """The view restrictions on ``pages`` and their ancestors, outermost first: one query."""
    paths = {
        page.path[:end]
        for page in pages
        for end in range(page.steplen, len(page.path) + 1, page.steplen)
    }
    return list(
        PageViewRestriction.objects.filter(page__path__in=paths)
        .select_related("page")
        .order_by("page__depth", "pk")
    )


def candidate_pages(site):
    """Pages of ``site`` that are flagged or below a section flagged with its subpages."""
    return Page.objects.filter(
        in_site(site), _flag_conditions(site, live_only=False)
    ).order_by("path")


def site_status(site):
    """The ``SiteStatus`` of ``site``: a handful of queries."""
    return SiteStatus(
        site=site,
        settings=OfflineSettings.for_site(site),
        # Not the worker's payload: the admin reads the entries and summaries.
        manifest=OfflineManifest.objects.filter(site=site).defer("payload").first(),
        pending_rebuilds=list(
            OfflineRebuild.objects.filter(
                site=site,
                finished_at__isnull=True,
                requested_at__gte=timezone.now() - PENDING_AT_MOST,
            )
        ),
        last_rebuild=OfflineRebuild.objects.filter(site=site, finished_at__isnull=False)
        .order_by("-finished_at")
        .first(),
    )


def ordered_sites():
    """Sites as the admin lists them: the default site first."""
    return Site.objects.select_related("root_page").order_by(
        "-is_default_site", "hostname", "port"
    )


def sites_visible_to(user):
    """The sites whose pages ``user`` may explore in the admin (usually one)."""
    root = page_permission_policy.explorable_root_instance(user)
    if root is None:
        return []
    return [
        site
        for site in ordered_sites()
        if site.root_page.path.startswith(root.path)
        or root.path.startswith(site.root_page.path)
    ]


def sites_of_page(page):
    """The sites whose tree holds ``page`` (usually one)."""
    return [site for site in ordered_sites() if page_is_in_site(page, site)]


def page_status(page):
    """(SiteStatus, PageStatus) of ``page`` on the first site that holds it, or None."""
    for site in sites_of_page(page):
        status = site_status(site)
        return status, status.page_status(page)
    return None


def states_by_page_id(page_ids):
    """{page id: OFFLINE or FAILED} for those of ``page_ids`` that are either on a site,
    in two queries whatever the number of pages: for the page explorer."""
    page_ids = set(page_ids)
    states = dict.fromkeys(manifest_store.shipped_on_any_site(page_ids), OFFLINE)
    failed = (
        OfflinePageSnapshot.objects.filter(page_id__in=page_ids)
        .filter(~Q(error=""))
        .values_list("page_id", flat=True)
    )
    for page_id in failed:
        states[page_id] = FAILED
    return states
