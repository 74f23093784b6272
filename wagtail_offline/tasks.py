"""Background work: rebuilding manifests after editors' changes."""

import logging
import threading

from django.db import transaction
from django.utils import timezone
from django_tasks import task
from wagtail.models import Site

logger = logging.getLogger(__name__)

_local = threading.local()


@task()
def rebuild_offline_manifest_task(
    site_id, page_ids=None, rebuild_id=None, reassemble=False, scope=None
):
    """Rebuild one site's manifest, re-rendering ``page_ids`` (every page when None);
    ``reassemble`` judges every page's assets again, ``scope`` limits what is checked
    for other changes (see ``rebuild_site_manifest``).

    ``rebuild_id`` is the ``OfflineRebuild`` that records the request: marked finished
    (with the reason when the manifest could not be built) whatever happens. Then the
    site's URLs in a frontend cache are purged if what it serves changed (see
    frontend_cache.py); a failed purge is recorded on the rebuild, which still stands.
    """
    from .frontend_cache import purge_if_changed
    from .manifest import ManifestError, rebuild_site_manifest
    from .models import OfflineRebuild

    rebuild = OfflineRebuild.objects.filter(pk=rebuild_id).first()
    failed_before = (
        OfflineRebuild.objects.filter(site_id=site_id, finished_at__isnull=False)
        .exclude(error="")
        .exclude(pk=rebuild_id)
        .exists()
    )
    if failed_before:
        # It may have forgotten pages and not stored the manifest that drops them.
        scope = None
    site = Site.objects.filter(pk=site_id).select_related("root_page").first()
    error = ""
    try:
        if site is None:
            return None
        manifest = rebuild_site_manifest(
            site,
            None if page_ids is None else set(page_ids),
            reassemble=reassemble,
            scope=scope,
        )
        return manifest.version
    except ManifestError as failure:
        error = str(failure)
        logger.error("wagtail-offline (%s): %s", site, error)
        return None
    except Exception as failure:
        error = f"The rebuild failed: {failure!r}"
        raise
    finally:
        # Even after a failed build: the settings change that asked for it (the kill
        # switch) already changed /sw.js.
        if site is not None:
            error = " ".join(filter(None, [error, purge_if_changed(site)]))
        if rebuild is not None:
            _finish(rebuild, error)


def _finish(rebuild, error):
    from .models import OfflineRebuild

    rebuild.finished_at = timezone.now()
    rebuild.error = error
    rebuild.save(update_fields=["finished_at", "error"])
    # Keep the history short: the finished rebuilds before this one have nothing to say.
    OfflineRebuild.objects.filter(
        site_id=rebuild.site_id,
        finished_at__isnull=False,
        requested_at__lte=rebuild.requested_at,
    ).exclude(pk=rebuild.pk).delete()


def schedule_rebuild(site_ids, page_ids=None, user=None, scope=None):
    """Rebuild these sites' manifests once the current transaction commits.

    Every change of one transaction is coalesced into a single task per site;
    ``page_ids=None`` asks for every page to be re-rendered, an empty ``page_ids`` for
    every page's assets to be judged again (which media are private, the settings).
    ``scope``: the ids of the pages whose sections the change may have altered (which
    pages are offline, their URLs, what the listing says of them), looked up when the
    build runs (a reorder meanwhile moves their paths); None, the whole site. ``user`` is recorded as who asked (for a "Rebuild now").
    """
    site_ids = list(site_ids)
    if not site_ids:
        return
    batch = _Batch.current()
    for site_id in site_ids:
        batch.add(site_id, page_ids, scope)
    if user is not None and user.is_authenticated:
        batch.requested_by = user
    transaction.on_commit(batch.enqueue)


class _Batch:
    """The rebuilds one transaction asked for, enqueued once when it commits."""

    def __init__(self):
        self.pending = {}
        # Sites asked for with no page: every page's assets are judged again.
        self.reassemble = set()
        # Site -> ids of the pages to check below, or None for the whole site.
        self.scopes = {}
        self.requested_by = None
        self.done = False

    @classmethod
    def current(cls):
        batch = getattr(_local, "batch", None)
        # A new batch after a commit, or when a rollback dropped every callback of this one.
        if batch is None or batch.done or not batch.is_registered():
            batch = _local.batch = cls()
        return batch

    def is_registered(self):
        connection = transaction.get_connection()
        return any(
            getattr(entry[1], "__self__", None) is self
            for entry in connection.run_on_commit
        )

    def add(self, site_id, page_ids, scope=None):
        if scope is None or page_ids is None:
            self.scopes[site_id] = None
        elif self.scopes.get(site_id, ()) is not None:
            self.scopes[site_id] = sorted(
                set(self.scopes.get(site_id, ())) | set(scope)
            )
        if site_id in self.pending and self.pending[site_id] is None:
            return
        if page_ids is not None and not page_ids:
            self.reassemble.add(site_id)
        if page_ids is None:
            self.pending[site_id] = None
        else:
            self.pending[site_id] = self.pending.get(site_id, set()) | set(page_ids)

    def enqueue(self):
        if self.done:
            return  # Each change registers a callback; the first one enqueues them all.
        self.done = True
        from .models import OfflineRebuild

        for site_id, page_ids in self.pending.items():
            page_ids = None if page_ids is None else sorted(page_ids)
            # Recorded before the task is enqueued: an immediate backend runs it right away.
            rebuild = OfflineRebuild.objects.create(
                site_id=site_id, page_ids=page_ids, requested_by=self.requested_by
            )
            try:
                rebuild_offline_manifest_task.enqueue(
                    site_id,
                    page_ids,
                    rebuild.pk,
                    site_id in self.reassemble,
                    self.scopes.get(site_id),
                )
            except Exception as error:  # The other sites' rebuilds still go.
                logger.exception(
                    "wagtail-offline: the rebuild of site %s could not be queued",
                    site_id,
                )
                _finish(rebuild, f"The rebuild could not be queued: {error!r}")


@task()
def render_reader_page_task(site_id, url):
    """Render the page at ``url`` of one site for readers who keep it on their device.

    Returns the source of the stored render, or None when ``url`` is no page readers
    may keep (any stored render of it is then deleted).
    """
    from .reader_pages import render_reader_page

    site = Site.objects.filter(pk=site_id).select_related("root_page").first()
    if site is None:
        return None
    stored = render_reader_page(site, url)
    return None if stored is None else stored.source
