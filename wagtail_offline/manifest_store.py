"""What the admin, the checks and the command ask of a stored manifest, in one place.

A stored manifest's entries and what uses them are rows (``OfflineManifestEntry``,
``OfflineManifestUse``): each question is a query here, so the screens that ask it
never load a large site's whole manifest. A manifest that is not stored (a preview)
holds its entries and page summaries in memory, and is answered from them. Building and
serving the manifest are not here.
"""

from collections import defaultdict

from django.db.models import Count, Sum

from .assets import static_fingerprint
from .manifest_rows import BATCH, _batches
from .models import OfflineManifestEntry, OfflineManifestUse


def _in_memory(manifest):
    return manifest._entries is not None


def _rows(manifest):
    return OfflineManifestEntry.objects.filter(site_id=manifest.site_id)


def entries(manifest):
    """Every entry ({"url", "revision", "size", "kind", "critical", …}), by URL."""
    if _in_memory(manifest):
        return list(manifest._entries)
    if manifest.site_id is None:
        return []
    rows = _rows(manifest).order_by("url")
    return [
        {**row.as_worker_entry(), "critical": row.critical} for row in rows.iterator()
    ]


def entry_count(manifest):
    if _in_memory(manifest):
        return len(manifest._entries)
    return _rows(manifest).count()


def total_size(manifest):
    """Bytes of every entry: what a reader's browser holds for the site."""
    if _in_memory(manifest):
        return sum(entry["size"] for entry in manifest._entries)
    return _rows(manifest).aggregate(total=Sum("size"))["total"] or 0


def size_by_kind(manifest):
    """{kind: (entries, bytes)} of every entry, for summaries."""
    if _in_memory(manifest):
        counts, sizes = defaultdict(int), defaultdict(int)
        for entry in manifest._entries:
            counts[entry["kind"]] += 1
            sizes[entry["kind"]] += entry["size"]
        return {kind: (counts[kind], sizes[kind]) for kind in counts}
    return {
        kind: (count, size)
        for kind, count, size in _rows(manifest)
        .values("kind")
        .annotate(count=Count("pk"), size=Sum("size"))
        .values_list("kind", "count", "size")
    }


def _page_rows(manifest, page_ids=None):
    rows = _rows(manifest).filter(kind="page", page_id__isnull=False)
    if page_ids is not None:
        rows = rows.filter(page_id__in=list(page_ids))
    return rows


def shipped_page_ids(manifest):
    """Ids of the pages the manifest holds (a page may have several URLs)."""
    if _in_memory(manifest):
        return {summary["page_id"] for summary in manifest._pages or []}
    return set(_page_rows(manifest).values_list("page_id", flat=True))


def summaries(manifest, page_ids=None):
    """One summary per offline page URL, by URL: {"page_id", "url", "size" (its bytes),
    "own_size" (with the entries only it uses), "total_size" (with every entry it
    needs), "foreign" (what it loads from elsewhere), "needs" (the entries it needs)}."""
    if _in_memory(manifest):
        return [
            summary
            for summary in manifest._pages or []
            if page_ids is None or summary["page_id"] in page_ids
        ]
    if manifest.site_id is None:
        return []
    pages = list(_page_rows(manifest, page_ids).values_list("url", "page_id", "size"))
    uses = OfflineManifestUse.objects.filter(site_id=manifest.site_id)
    needs = defaultdict(set)
    for batch in _batches(url for url, _page_id, _size in pages):
        for user, url in uses.filter(user__in=batch).values_list("user", "url"):
            if url != user:
                needs[user].add(url)
    needed = set().union(*needs.values()) if needs else set()
    sizes, users = {}, {}
    for batch in _batches(needed):
        sizes.update(_rows(manifest).filter(url__in=batch).values_list("url", "size"))
        users.update(
            uses.filter(url__in=batch)
            .values("url")
            .annotate(count=Count("pk"))
            .values_list("url", "count")
        )
    result = []
    for url, page_id, size in sorted(pages):
        stored = sorted(need for need in needs[url] if need in sizes)
        result.append(
            {
                "page_id": page_id,
                "url": url,
                "size": size,
                "own_size": size + sum(sizes[u] for u in stored if users[u] == 1),
                "total_size": size + sum(sizes[u] for u in stored),
                "foreign": sorted(
                    need
                    for need in needs[url]
                    if not need.startswith("/") and need not in sizes
                ),
                "needs": stored,
            }
        )
    return result


def summaries_by_page(manifest, page_ids=None):
    """{page id: [summary of each of its URLs]}, of ``page_ids`` or of every page."""
    by_page = defaultdict(list)
    for summary in summaries(manifest, page_ids):
        by_page[summary["page_id"]].append(summary)
    return dict(by_page)


def bytes_needed(manifest, page_urls):
    """Bytes of ``page_urls`` and of every entry they need, each counted once."""
    page_urls = set(page_urls)
    if _in_memory(manifest):
        sizes = {entry["url"]: entry["size"] for entry in manifest._entries}
        needed = set(page_urls)
        for summary in manifest._pages or []:
            if summary["url"] in page_urls:
                needed.update(summary.get("needs", []))
        return sum(sizes.get(url, 0) for url in needed)
    needed = set(page_urls)
    uses = OfflineManifestUse.objects.filter(site_id=manifest.site_id)
    for batch in _batches(page_urls):
        needed.update(uses.filter(user__in=batch).values_list("url", flat=True))
    total = 0
    for batch in _batches(needed, BATCH):
        total += (
            _rows(manifest).filter(url__in=batch).aggregate(total=Sum("size"))["total"]
            or 0
        )
    return total


def shipped_on_any_site(page_ids):
    """Those of ``page_ids`` that some site's manifest holds."""
    shipped = set()
    for batch in _batches(set(page_ids)):
        shipped.update(
            OfflineManifestEntry.objects.filter(
                kind="page", page_id__in=batch
            ).values_list("page_id", flat=True)
        )
    return shipped


def static_files_changed(manifest):
    """Whether the static files on disk differ from those the manifest was built from (a
    deploy since): the fingerprint of its static entries, computed again."""
    return static_fingerprint(entries(manifest)) != manifest.static_fingerprint
