"""The manifest as readers' workers download it: a small root, indexes, and parts.

A site's entries are split into parts at immutable, content-addressed URLs, and the
root (at the manifest's own URL) lists indexes that list the parts. A worker downloads
only the parts and indexes it does not hold yet, so that after one edit a reader pays
for the root, one index and one part, whatever the size of the site.

An entry goes into the part of its group: the one page (or other user) that alone
needs it, so that an edit changes one part; an entry several use, on its own. Groups
are spread over a power of two of parts by a hash of their key, which stays put from
one build to the next: the number of parts changes only when the site has grown or
shrunk a lot. Which part an entry is in is stored with it (manifest_rows.py), so that a
publish rewrites only the parts its entries are in.
"""

import hashlib
import json
from dataclasses import dataclass

# Entries per part the split aims for: small enough that an edit costs little, large
# enough that the indexes stay small.
TARGET_ENTRIES_PER_PART = 24
# The part count is kept while the entries per part stay in these bounds, so that a
# few pages more or less never reshuffle every part.
KEEP_BOUNDS = (6, 96)
DIGEST_LENGTH = 20  # hex: 80 bits, so two parts of one site never share an address


@dataclass(frozen=True)
class Split:
    root: str  # the JSON served at the manifest's URL
    documents: dict  # digest -> JSON of every index and part the root leads to
    part_count: int
    part_digests: list  # the digest of each part, in part order


def part_count_for(entry_count, previous=0):
    """A power of two near ``entry_count / TARGET_ENTRIES_PER_PART``; ``previous`` is
    kept while it still fits."""
    if fits(entry_count, previous):
        return previous
    count = 1
    while entry_count / count > TARGET_ENTRIES_PER_PART:
        count *= 2
    return count


def fits(entry_count, part_count):
    """Whether ``part_count`` parts may still hold ``entry_count`` entries."""
    if not part_count or part_count & (part_count - 1):
        return False
    return KEEP_BOUNDS[0] <= entry_count / part_count <= KEEP_BOUNDS[1]


def index_width(part_count):
    """Parts per index: the square root, so that root and index are about the same size."""
    width = 1
    while width * width < part_count:
        width *= 2
    return width


def group_key(url, users):
    """The group of the entry at ``url`` that ``users`` (their keys) need: the user that
    alone needs it, else the entry itself. A page uses itself: its group is its own."""
    return next(iter(users)) if len(users) == 1 else url


def bucket_of(key, part_count):
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % part_count


def document(value):
    """Compact JSON, and its address."""
    content = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:DIGEST_LENGTH], content


def part_document(entries):
    """(digest, JSON) of a part; in URL order, so its bytes depend only on its entries."""
    return document({"entries": sorted(entries, key=lambda entry: entry["url"])})


def index_documents(part_digests, part_url):
    """[(digest, JSON)] of the indexes that list the parts, in order."""
    width = index_width(len(part_digests))
    return [
        document({"parts": [part_url(d) for d in part_digests[start : start + width]]})
        for start in range(0, len(part_digests), width)
    ]


def root(head, index_urls):
    """The root: ``head`` (version, build time, fallbacks) and the indexes' URLs."""
    return json.dumps({**head, "indexes": index_urls}, separators=(",", ":"))


def split(head, entries, groups, part_url, previous_part_count=0):
    """The root, indexes and parts for ``entries`` (each as the worker reads it).

    ``groups``: entry URL -> its group key (see ``group_key``); an entry without one is
    a group of its own. ``part_url(digest)``: the URL a document is served at.
    """
    part_count = part_count_for(len(entries), previous_part_count)
    buckets = [[] for _ in range(part_count)]
    for entry in entries:
        key = groups.get(entry["url"], entry["url"])
        buckets[bucket_of(key, part_count)].append(entry)
    documents = {}
    part_digests = []
    for bucket in buckets:
        digest, content = part_document(bucket)
        documents[digest] = content
        part_digests.append(digest)
    indexes = index_documents(part_digests, part_url)
    documents.update(indexes)
    return Split(
        root(head, [part_url(digest) for digest, _content in indexes]),
        documents,
        part_count,
        part_digests,
    )


def assemble(root, read):
    """What a worker reads: the root's JSON with the entries of its parts.

    ``read(url)`` returns the JSON of an index or part; for tools and tests, as the
    worker does the same in JavaScript.
    """
    manifest = json.loads(root)
    if "entries" in manifest:  # stored by an older release
        return manifest
    indexes = [json.loads(read(url)) for url in manifest.pop("indexes")]
    parts = [json.loads(read(url)) for index in indexes for url in index["parts"]]
    return {
        **manifest,
        "entries": [entry for part in parts for entry in part["entries"]],
    }
