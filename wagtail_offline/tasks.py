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
    pending = getattr(_local, "pending", None)
    if pending is None:
        pending = _local.pending = {}
    for site_id in site_ids:
        if site_id in pending and pending[site_id] is None:
            continue
        if page_ids is None:
            pending[site_id] = None
        else:
            pending[site_id] = pending.get(site_id, set()) | set(page_ids)
    if site_ids:
        transaction.on_commit(_enqueue_pending)


def _enqueue_pending():
    pending = getattr(_local, "pending", None)
    _local.pending = None
    for site_id, page_ids in (pending or {}).items():
        rebuild_offline_manifest_task.enqueue(
            site_id, None if page_ids is None else sorted(page_ids)
        )
