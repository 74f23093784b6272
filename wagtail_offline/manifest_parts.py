"""The manifest as readers' workers download it: a small root, indexes, and parts.

A site's entries are split into parts at immutable, content-addressed URLs, and the
root (at the manifest's own URL) lists indexes that list the parts. A worker downloads
only the parts and indexes it does not hold yet, so that after one edit a reader pays
for the root, one index and one part, whatever the size of the site.

An entry goes into the part of its group: a page with the assets only it uses (so an
edit changes one part), any other entry on its own. Groups are spread over a power of
two of parts by a hash of their key, which stays put from one build to the next: the
number of parts changes only when the site has grown or shrunk a lot.
"""

import hashlib
import json
from collections import Counter
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


def part_count_for(entry_count, previous=0):
    """A power of two near ``entry_count / TARGET_ENTRIES_PER_PART``; ``previous`` is
    kept while it still fits."""
    if previous and previous & (previous - 1) == 0:
        per_part = entry_count / previous
        if KEEP_BOUNDS[0] <= per_part <= KEEP_BOUNDS[1]:
            return previous
    count = 1
    while entry_count / count > TARGET_ENTRIES_PER_PART:
        count *= 2
    return count


def index_width(part_count):
    """Parts per index: the square root, so that root and index are about the same size."""
    width = 1
    while width * width < part_count:
        width *= 2
    return width


def group_keys(entries, pages):
    """Each entry's group: the page that alone needs it, else its own URL."""
    users = Counter(url for page in pages for url in set(page.get("needs", ())))
    owner = {}
    for page in pages:
        for url in page.get("needs", ()):
            if users[url] == 1 and url != page["url"]:
                owner[url] = page["url"]
    return [owner.get(entry["url"], entry["url"]) for entry in entries]


def bucket_of(key, part_count):
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % part_count


def document(value):
    """Compact JSON, and its address."""
    content = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:DIGEST_LENGTH], content


def split(head, entries, pages, part_url, previous_part_count=0):
    """The root, indexes and parts for ``entries`` (each as the worker reads it).

    ``head``: what the root says besides the indexes (version, build time, fallbacks).
    ``pages``: the manifest's page summaries, whose ``needs`` group assets with pages.
    ``part_url(digest)``: the URL a document is served at.
    """
    part_count = part_count_for(len(entries), previous_part_count)
    buckets = [[] for _ in range(part_count)]
    for entry, key in zip(entries, group_keys(entries, pages), strict=True):
        buckets[bucket_of(key, part_count)].append(entry)
    documents = {}

    def add(value):
        digest, content = document(value)
        documents[digest] = content
        return part_url(digest)

    # In URL order inside a part, so that its bytes depend only on its entries.
    part_urls = [
        add({"entries": sorted(bucket, key=lambda entry: entry["url"])})
        for bucket in buckets
    ]
    width = index_width(part_count)
    index_urls = [
        add({"parts": part_urls[start : start + width]})
        for start in range(0, part_count, width)
    ]
    root = json.dumps({**head, "indexes": index_urls}, separators=(",", ":"))
    return Split(root, documents, part_count)


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
