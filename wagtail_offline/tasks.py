"""Background work: rebuilding manifests after editors' changes."""

import logging
import threading

from django.db import transaction
from django_tasks import task
from wagtail.models import Site

logger = logging.getLogger(__name__)

_local = threading.local()


@task()
def rebuild_offline_manifest_task(site_id, page_ids=None):
    """Rebuild one site's manifest, re-rendering ``page_ids`` (every page when None)."""
    from .manifest import rebuild_site_manifest

    site = Site.objects.filter(pk=site_id).select_related("root_page").first()
    if site is None:
        return None
    manifest = rebuild_site_manifest(site, None if page_ids is None else set(page_ids))
    return manifest.version


def schedule_rebuild(site_ids, page_ids=None):
    """Rebuild these sites' manifests once the current transaction commits.

    Every change of one transaction is coalesced into a single task per site;
    ``page_ids=None`` asks for every page to be re-rendered.
    """
    site_ids = list(site_ids)
    if not site_ids:
        return
    batch = _Batch.current()
    for site_id in site_ids:
        batch.add(site_id, page_ids)
    transaction.on_commit(batch.enqueue)


class _Batch:
    """The rebuilds one transaction asked for, enqueued once when it commits."""

    def __init__(self):
        self.pending = {}
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

    def add(self, site_id, page_ids):
        if site_id in self.pending and self.pending[site_id] is None:
            return
        if page_ids is None:
            self.pending[site_id] = None
        else:
            self.pending[site_id] = self.pending.get(site_id, set()) | set(page_ids)

    def enqueue(self):
        if self.done:
            return  # Each change registers a callback; the first one enqueues them all.
        self.done = True
        for site_id, page_ids in self.pending.items():
            rebuild_offline_manifest_task.enqueue(
                site_id, None if page_ids is None else sorted(page_ids)
            )
