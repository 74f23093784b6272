"""How a site's manifest is stored: its entries and their uses as rows, its parts by number.

A full build replaces every row (``replace``). A publish assembles again only what it
may have changed: the pages it rendered, and what every build renders (the fallback,
the listing, the settings' other URLs). ``patch`` then replaces those users' uses, and
rewrites the entries whose users or judgement changed and the parts they are in: its
cost follows the change, not the size of the site.
"""

import json
from collections import defaultdict
from itertools import groupby, islice
from operator import itemgetter
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, Min, Q
from django.utils import timezone

from . import manifest_parts
from .models import (
    OfflineManifest,
    OfflineManifestEntry,
    OfflineManifestPart,
    OfflineManifestUse,
    part_url_maker,
)

BATCH = 500  # rows per query: within any database's limit on a query's parameters


def _batches(items, size=BATCH):
    """Lists of ``size`` of ``items`` (any iterable, read as it goes)."""
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def worker_entry(entry):
    """An entry as the worker reads it: without what only the server uses."""
    worker = {field: entry[field] for field in OfflineManifest.WORKER_FIELDS}
    for field in OfflineManifest.OPTIONAL_WORKER_FIELDS:
        if entry.get(field):
            worker[field] = entry[field]
    return worker


def _entry_values(site_id, entry, part, critical, page_id):
    """The ``ENTRY_FIELDS`` values of an entry (a dict, as an assembly makes it)."""
    return (
        site_id,
        entry["url"],
        entry["revision"],
        entry["size"],
        entry["kind"],
        critical,
        entry.get("formSubmitUrl", ""),
        page_id,
        part,
    )


def _row(*values):
    return OfflineManifestEntry(**dict(zip(ENTRY_FIELDS, values, strict=True)))


def _use_rows(site_id, uses):
    """The rows of ``uses`` as ``USE_FIELDS`` values, made as they are stored."""
    for user, (page_id, critical, urls) in uses.items():
        for url in sorted(urls):
            yield (site_id, user, page_id, critical, url)


USE_FIELDS = ("site_id", "user", "page_id", "critical", "url")
ENTRY_FIELDS = (
    "site_id",
    "url",
    "revision",
    "size",
    "kind",
    "critical",
    "form_submit_url",
    "page_id",
    "part",
)


def _insert(model, fields, rows):
    """Insert ``rows`` (tuples of ``fields``' values) a batch at a time, with no model
    instance for each: a full build of a large site stores a hundred thousand."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        for batch in _batches(rows, 1000):
            cursor.executemany(sql, batch)


def _entry_rows(site_id, entries, uses, part_count):
    """(part, entry as the worker reads it, ``ENTRY_FIELDS`` values) of each of
    ``entries``, in the part of its group (see ``replace``)."""
    first_user, user_count = {}, defaultdict(int)
    critical_urls = set()
    for user, (_page_id, critical, urls) in uses.items():
        for url in urls:
            first_user.setdefault(url, user)
            user_count[url] += 1
            if critical:
                critical_urls.add(url)
    for entry in entries:
        url = entry["url"]
        sole_user = [first_user[url]] if user_count.get(url) == 1 else ()
        part = manifest_parts.bucket_of(
            manifest_parts.group_key(url, sole_user), part_count
        )
        page_id = uses[url][0] if url in uses else None
        critical = url in critical_urls if url in first_user else entry["critical"]
        values = _entry_values(site_id, entry, part, critical, page_id)
        yield part, worker_entry({**entry, "critical": critical}), values


def _in_parts(rows, buckets):
    """The values of ``rows``, each row's entry added to its part's list in ``buckets``."""
    for part, worker, values in rows:
        buckets[part].append(worker)
        yield values


def _part_documents(buckets):
    """[(digest, JSON)] of each part, in part order."""
    return [manifest_parts.part_document(bucket) for bucket in buckets]


def replace(manifest, entries, uses):
    """Store ``entries`` (dicts, as an assembly makes them) and ``uses`` (user ->
    (page id, critical, URLs)) in place of the site's rows, and every part."""
    site_id = manifest.site_id
    _remember_documents(manifest)
    part_count = manifest_parts.part_count_for(len(entries), manifest.part_count)
    OfflineManifestEntry.objects.filter(site_id=site_id).delete()
    OfflineManifestUse.objects.filter(site_id=site_id).delete()
    buckets = [[] for _ in range(part_count)]
    rows = _entry_rows(site_id, entries, uses, part_count)
    _insert(OfflineManifestEntry, ENTRY_FIELDS, _in_parts(rows, buckets))
    _insert(OfflineManifestUse, USE_FIELDS, _use_rows(site_id, uses))
    documents = _part_documents(buckets)
    manifest.part_count = part_count
    manifest.part_digests = [digest for digest, _content in documents]
    manifest._documents.update(documents)


def replace_spilled(manifest, spilled):
    """``replace``, from the rows a full assembly spilled (``spilled_rows``): read back
    in order, a chunk at a time, so that storing a large site holds one part at a time."""
    site_id = manifest.site_id
    _remember_documents(manifest)
    spilled.use_unused_entries()
    part_count = manifest_parts.part_count_for(
        spilled.entry_count(), manifest.part_count
    )
    OfflineManifestEntry.objects.filter(site_id=site_id).delete()
    OfflineManifestUse.objects.filter(site_id=site_id).delete()

    def entry_rows():
        entries = spilled.entries_with_users()
        for chunk in _batches(entries, 1000):
            placed = []
            for entry, users, first_user, critical_user, page_id in chunk:
                url = entry["url"]
                sole_user = [first_user] if users == 1 else ()
                part = manifest_parts.bucket_of(
                    manifest_parts.group_key(url, sole_user), part_count
                )
                critical = critical_user if users else entry["critical"]
                placed.append((url, part, critical))
                yield _entry_values(site_id, entry, part, critical, page_id)
            spilled.place(placed)

    _insert(OfflineManifestEntry, ENTRY_FIELDS, entry_rows())
    _insert(
        OfflineManifestUse,
        USE_FIELDS,
        ((site_id, *use) for use in spilled.use_rows()),
    )
    digests = []
    for part, entries in groupby(spilled.placed_entries(), key=itemgetter(0)):
        # Parts no entry fell in are empty documents, as ``replace`` makes them.
        while len(digests) < part:
            digests.append(_store_part(manifest, []))
        digests.append(_store_part(manifest, [worker_entry(e) for _p, e in entries]))
    while len(digests) < part_count:
        digests.append(_store_part(manifest, []))
    manifest.part_count = part_count
    manifest.part_digests = digests


def _store_part(manifest, entries):
    """The digest of the part holding ``entries``, whose document is written now: a
    large site's parts are not all held until the manifest is saved. (Stores run in a
    transaction: if it rolls back, so does this.)"""
    digest, content = manifest_parts.part_document(entries)
    if digest not in manifest._documents:
        OfflineManifestPart.write(manifest.site_id, {digest: content})
        manifest._documents[digest] = None  # Written: see OfflineManifestPart.store.
    return digest


def version_of(site_id, entries, uses, extras, part_count=0):
    """The version storing ``entries`` and ``uses`` would give (for a preview)."""
    part_count = manifest_parts.part_count_for(len(entries), part_count)
    buckets = [[] for _ in range(part_count)]
    for part, worker, _values in _entry_rows(site_id, entries, uses, part_count):
        buckets[part].append(worker)
    documents = _part_documents(buckets)
    return manifest_version([digest for digest, _content in documents], extras)


def replace_entries(manifest, entries):
    """Store entries given whole (a tool, a test) with no uses: each its own group."""
    replace(manifest, entries, {})
    finish(manifest, version=manifest.version or None)


def patch(manifest, entries, uses, replaced):
    """Replace the stored uses that ``replaced`` (``Q``s, each one indexed query)
    selects by ``uses``, and rewrite what that changed: the entries they or their
    previous uses name (from ``entries``, the assembly's judgement of them, when they
    are among the new uses; else as stored), and the parts those are in.

    An entry stays while something uses it, in the part of its only user if it has one.
    """
    site_id = manifest.site_id
    _remember_documents(manifest)
    stored_uses = OfflineManifestUse.objects.filter(site_id=site_id)
    old = set()
    for selection in replaced:
        old.update(stored_uses.filter(selection).values_list("pk", "url"))
    touched = {url for _pk, url in old}
    for batch in _batches(pk for pk, _url in old):
        OfflineManifestUse.objects.filter(pk__in=batch).delete()
    _insert(OfflineManifestUse, USE_FIELDS, _use_rows(site_id, uses))
    judged = set()
    for _page_id, _critical, urls in uses.values():
        judged |= urls
    touched |= judged
    part_count = manifest.part_count
    creates, updates, deletes, parts = [], [], [], set()
    for batch in _batches(sorted(touched)):
        # ``__in``: SQLite looks a boolean up in an index for ``IN``, not for a bare
        # column (which reads every use of a stylesheet 10,000 pages share).
        critical = set(
            stored_uses.filter(critical__in=[True], url__in=batch).values_list(
                "url", flat=True
            )
        )
        stored = {
            row.url: row
            for row in OfflineManifestEntry.objects.filter(
                site_id=site_id, url__in=batch
            )
        }
        for url in batch:
            # Two of its users at most: whether it has one, or more, is what counts.
            users = list(stored_uses.filter(url=url).values_list("user", flat=True)[:2])
            row = stored.get(url)
            entry = None
            if users and url in judged:
                entry = entries.get(url)
            elif users and row is not None:
                entry = _as_entry(row)
            if entry is None:
                if row is not None:
                    deletes.append(row.pk)
                    parts.add(row.part)
                continue
            group = manifest_parts.group_key(url, users)
            page_id = uses[url][0] if url in uses else (row.page_id if row else None)
            part = manifest_parts.bucket_of(group, part_count)
            new = _row(*_entry_values(site_id, entry, part, url in critical, page_id))
            if row is None:
                creates.append(new)
                parts.add(new.part)
            elif _values(row) != _values(new):
                new.pk = row.pk
                updates.append(new)
                parts |= {row.part, new.part}
    for batch in _batches(deletes):
        OfflineManifestEntry.objects.filter(pk__in=batch).delete()
    OfflineManifestEntry.objects.bulk_create(creates, batch_size=BATCH)
    OfflineManifestEntry.objects.bulk_update(updates, _UPDATED_FIELDS, batch_size=BATCH)
    entry_count = OfflineManifestEntry.objects.filter(site_id=site_id).count()
    if not manifest_parts.fits(entry_count, part_count):
        repartition(manifest, entry_count)
        return
    _rewrite_parts(manifest, parts)


# What a patch may change of a stored entry: all but its site and URL.
_UPDATED_FIELDS = ENTRY_FIELDS[2:]


def _remember_documents(manifest):
    """What the manifest led to before: kept a day once no longer led to."""
    if manifest._led_to is None:
        manifest._led_to = manifest.documents()


def _values(row):
    return [getattr(row, field) for field in _UPDATED_FIELDS]


def _as_entry(row):
    entry = row.as_worker_entry()
    entry["critical"] = row.critical
    return entry


def repartition(manifest, entry_count):
    """Spread every entry over a new number of parts: the site grew or shrank a lot."""
    site_id = manifest.site_id
    part_count = manifest_parts.part_count_for(entry_count)
    sole_users = {
        url: user
        for url, user in OfflineManifestUse.objects.filter(site_id=site_id)
        .values("url")
        .annotate(count=Count("pk"), user=Min("user"))
        .filter(count=1)
        .values_list("url", "user")
    }
    rows = list(OfflineManifestEntry.objects.filter(site_id=site_id).only("pk", "url"))
    for row in rows:
        sole_user = [sole_users[row.url]] if row.url in sole_users else ()
        group = manifest_parts.group_key(row.url, sole_user)
        row.part = manifest_parts.bucket_of(group, part_count)
    OfflineManifestEntry.objects.bulk_update(rows, ["part"], batch_size=BATCH)
    manifest.part_count = part_count
    manifest.part_digests = [""] * part_count
    _rewrite_parts(manifest, range(part_count))


def _rewrite_parts(manifest, parts):
    """Serialise the parts numbered ``parts`` again from their entries."""
    by_part = defaultdict(list)
    for batch in _batches(sorted(parts)):
        for row in OfflineManifestEntry.objects.filter(
            site_id=manifest.site_id, part__in=batch
        ):
            by_part[row.part].append(row.as_worker_entry())
    digests = list(manifest.part_digests)
    for part in parts:
        digest, content = manifest_parts.part_document(by_part[part])
        manifest._documents[digest] = content
        digests[part] = digest
    manifest.part_digests = digests


def finish(manifest, version=None):
    """The indexes and the root the parts now lead to; the version, unless given."""
    part_url = part_url_maker()
    indexes = manifest_parts.index_documents(manifest.part_digests, part_url)
    manifest._documents.update(indexes)
    manifest.version = version or manifest_version(
        manifest.part_digests, manifest.extras
    )
    manifest.built_at = timezone.now()
    head = {
        "version": manifest.version,
        "builtAt": manifest.built_at.isoformat(),
        "fallbacks": manifest.extras.get("fallbacks", []),
    }
    manifest.payload = manifest_parts.root(
        head, [part_url(digest) for digest, _content in indexes]
    )


def manifest_version(part_digests, extras):
    """Changes with any entry (its part's digest) and with the extras (another
    fallback, a new app name)."""
    from .manifest import revision_of  # manifest.py imports this module.

    return revision_of(json.dumps([part_digests, extras], sort_keys=True).encode())


def static_entries(site_id):
    """The entries that may be static files ({"url"}), for ``assets.static_fingerprint``:
    those under STATIC_URL, spelled with "%", or on another origin."""
    static_url = urlsplit(settings.STATIC_URL or "").path
    if not static_url or static_url == "/":
        return []
    urls = OfflineManifestEntry.objects.filter(site_id=site_id).filter(
        Q(url__startswith=static_url) | Q(url__contains="%") | ~Q(url__startswith="/")
    )
    return [{"url": url} for url in urls.values_list("url", flat=True)]
