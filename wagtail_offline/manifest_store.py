"""What the admin, the checks and the command ask of a stored manifest, in one place.

Each question is answered here rather than by reading ``OfflineManifest.entries`` and
``.pages`` (whole JSON documents) where it is asked: so the manifest can be stored some
other way (rows per page and per entry, for sites of many thousands of pages) with no
change to the screens that read it. Building and serving the manifest are not here.
"""

from collections import defaultdict

from .assets import static_fingerprint
from .models import OfflineManifest


def entries(manifest):
    """Every entry ({"url", "revision", "size", "kind", "critical", …}), by URL."""
    return list(manifest.entries)


def entry_count(manifest):
    return len(manifest.entries)


def total_size(manifest):
    """Bytes of every entry: what a reader's browser holds for the site."""
    return sum(entry["size"] for entry in manifest.entries)


def size_by_kind(manifest):
    """{kind: (entries, bytes)} of every entry, for summaries."""
    counts, sizes = defaultdict(int), defaultdict(int)
    for entry in manifest.entries:
        counts[entry["kind"]] += 1
        sizes[entry["kind"]] += entry["size"]
    return {kind: (counts[kind], sizes[kind]) for kind in counts}


def shipped_page_ids(manifest):
    """Ids of the pages the manifest holds (a page may have several URLs)."""
    return {summary["page_id"] for summary in manifest.pages}


def summaries_by_page(manifest, page_ids=None):
    """{page id: [summary of each of its URLs]}, of ``page_ids`` or of every page."""
    summaries = defaultdict(list)
    for summary in manifest.pages:
        if page_ids is None or summary["page_id"] in page_ids:
            summaries[summary["page_id"]].append(summary)
    return dict(summaries)


def bytes_needed(manifest, page_urls):
    """Bytes of ``page_urls`` and of every entry they need, each counted once."""
    sizes = {entry["url"]: entry["size"] for entry in manifest.entries}
    needed = set(page_urls)
    for summary in manifest.pages:
        if summary["url"] in page_urls:
            needed.update(summary.get("needs", []))
    return sum(sizes.get(url, 0) for url in needed)


def shipped_on_any_site(page_ids):
    """Those of ``page_ids`` that some site's manifest holds."""
    page_ids = set(page_ids)
    shipped = set()
    for manifest in OfflineManifest.objects.only("pages"):
        shipped.update(shipped_page_ids(manifest) & page_ids)
    return shipped


def static_files_changed(manifest):
    """Whether the static files on disk differ from those the manifest was built from (a
    deploy since): the fingerprint of its static entries, computed again."""
    return static_fingerprint(manifest.entries) != manifest.static_fingerprint
