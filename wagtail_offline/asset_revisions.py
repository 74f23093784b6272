"""What a build knows of its static and media files without reading them.

A file is read again only when it may have changed since a build last read it:

- a Wagtail rendition is never rewritten under its row: it is known by its row's id;
- an original Wagtail image or a document carries the hash of its bytes;
- a static name hashed by ``ManifestStaticFilesStorage`` changes with the content;
- any other file is taken as unchanged while its size and modification time are,
  which the storage tells without reading it (one request on remote storage).

What was read is remembered in ``OfflineAssetRevision``, looked up a batch at a time.
Media on a declared media origin (see ``media_origins``) is known by its storage name
the same way: a build reads from a bucket only the files that may have changed.
"""

import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.files.storage import default_storage
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from .assets import same_origin_paths
from .media_origins import RemoteMedia
from .models import OfflineAssetRevision
from .rendering import StoredFile, stored_file

logger = logging.getLogger(__name__)

# A row a build relies on is marked as used at most this often...
USED_AT_REFRESH = timedelta(days=1)
# ...and pruned once no build has relied on it for this long.
UNUSED_FOR = timedelta(days=30)


@dataclass(frozen=True)
class KnownAsset:
    """An asset's revision and size, and the URLs its stylesheet names as written."""

    revision: str
    size: int
    stylesheet_urls: tuple = ()


@dataclass(frozen=True)
class _Stored:
    stamp: str
    known: KnownAsset
    used_at: object


def url_key(url):
    return hashlib.sha256(url.encode()).hexdigest()


class AssetRevisions:
    """The revisions one build may reuse, and those it learned by reading files.

    ``prefetch`` URLs before asking ``known`` about them, and ``learn`` what is read
    when it answers None; ``save`` stores what was learned.
    """

    def __init__(self, origin, remote_media=None):
        self.origin = origin
        self.remote_media = remote_media or RemoteMedia()
        self._looked_up = set()
        self._stored = {}  # URL -> _Stored
        self._renditions = {}  # media name -> the rendition's id
        self._hashed_files = {}  # media name -> KnownAsset, from Wagtail's hash
        self._stamps = {}  # URL -> its stamp, taken before it was read
        self._learned = {}  # URL -> (stamp, KnownAsset)
        self._relied_on = set()
        self._gone = set()
        self._hashed_static = None
        self._stored_as = {}  # URL -> StoredFile or None: asked twice per URL

    def prefetch(self, urls):
        """Look up many URLs, and what their known stylesheets name, a batch at a time."""
        pending = self._not_looked_up(urls)
        while pending:
            self._look_up(pending)
            pending = self._not_looked_up(
                nested for url in pending for nested in self._nested_paths(url)
            )

    def known(self, url):
        """What ``url`` held when last read, if it cannot have changed since; else None."""
        if url not in self._looked_up:
            self.prefetch([url])
        stored_as = self._stored_file(url)
        if stored_as is None:
            return None  # Served by a view: only the response tells.
        if stored_as.kind == "media" and stored_as.name in self._hashed_files:
            return self._hashed_files[stored_as.name]
        stamp = self._stamp(stored_as)
        self._stamps[url] = stamp
        stored = self._stored.get(url)
        if stored is None:
            return None
        if stamp is None:
            # Gone: reading it reports so, and its revision must not outlive it.
            self._gone.add(url)
            return None
        if stored.stamp != stamp:
            return None
        self._relied_on.add(url)
        return stored.known

    def is_stored(self, url):
        """Whether ``url`` serves a static or media file (not a view's response)."""
        return self._stored_file(url) is not None

    def stylesheet_urls(self, url):
        """The URLs the stylesheet at ``url`` named when a build last read it (None if
        no build's reading of it is stored any more)."""
        if url not in self._looked_up:
            self.prefetch([url])
        stored = self._stored.get(url)
        return stored.known.stylesheet_urls if stored else None

    def learn(self, url, known):
        """Remember what ``url`` held when read just now, if ``known`` stamped it first."""
        stamp = self._stamps.get(url)
        if stamp is not None:
            self._learned[url] = (stamp, known)

    def save(self):
        """Store what was learned and forget files that are gone, in a few queries."""
        now = timezone.now()
        rows = [
            OfflineAssetRevision(
                key=url_key(url),
                url=url,
                stamp=stamp,
                revision=known.revision,
                size=known.size,
                stylesheet_urls=list(known.stylesheet_urls),
                used_at=now,
            )
            # In key order: two builds writing the same rows take their locks in one order.
            for url, (stamp, known) in sorted(
                self._learned.items(), key=lambda item: url_key(item[0])
            )
        ]
        refresh = [
            url_key(url)
            for url in self._relied_on
            if self._stored[url].used_at < now - USED_AT_REFRESH
        ]
        gone = [url_key(url) for url in self._gone - set(self._learned)]
        revisions = OfflineAssetRevision.objects
        try:
            with transaction.atomic(using=router.db_for_write(OfflineAssetRevision)):
                revisions.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["key"],
                    update_fields=[
                        "url",
                        "stamp",
                        "revision",
                        "size",
                        "stylesheet_urls",
                        "used_at",
                    ],
                )
                for batch in _batches(sorted(refresh)):
                    revisions.filter(key__in=batch).update(used_at=now)
                for batch in _batches(sorted(gone)):
                    revisions.filter(key__in=batch).delete()
                revisions.filter(used_at__lt=now - UNUSED_FOR).delete()
        except DatabaseError:
            # Only a saving: the next build reads these files again.
            logger.exception("wagtail-offline: storing asset revisions failed")
        self._learned, self._relied_on, self._gone = {}, set(), set()

    def forget(self):
        """Forget every URL looked up (after ``save``): a build that moves on to other
        pages keeps its memory flat. A URL asked about again is looked up again."""
        self._looked_up, self._stored, self._stored_as = set(), {}, {}
        self._renditions, self._hashed_files, self._stamps = {}, {}, {}

    def _not_looked_up(self, urls):
        pending = []
        for url in dict.fromkeys(urls):
            if url in self._looked_up:
                continue
            self._looked_up.add(url)
            if self._stored_file(url) is not None:
                pending.append(url)
        return pending

    def _stored_file(self, url):
        """The static or media file behind a path or a media origin's URL, else None."""
        if url not in self._stored_as:
            if url.startswith("/"):
                self._stored_as[url] = stored_file(urlsplit(url).path)
            else:
                name = self.remote_media.storage_name(url)
                self._stored_as[url] = (
                    None if name is None else StoredFile("media", name)
                )
        return self._stored_as[url]

    def _look_up(self, urls):
        by_key = {url_key(url): url for url in urls}
        for batch in _batches(list(by_key)):
            for (
                key,
                stamp,
                revision,
                size,
                stylesheet_urls,
                used_at,
            ) in OfflineAssetRevision.objects.filter(key__in=batch).values_list(
                "key", "stamp", "revision", "size", "stylesheet_urls", "used_at"
            ):
                known = KnownAsset(revision, size, tuple(stylesheet_urls))
                self._stored[by_key[key]] = _Stored(stamp, known, used_at)
        media_names = sorted(
            {
                stored_as.name
                for url in urls
                if (stored_as := self._stored_file(url)).kind == "media"
            }
        )
        image_model = get_image_model()
        renditions = image_model.get_rendition_model().objects
        for batch in _batches(media_names):
            self._renditions.update(
                renditions.filter(file__in=batch).values_list("file", "pk")
            )
            for model in (image_model, get_document_model()):
                for name, file_hash, file_size in (
                    model.objects.filter(file__in=batch, file_size__isnull=False)
                    .exclude(file_hash="")
                    .values_list("file", "file_hash", "file_size")
                ):
                    self._hashed_files[name] = KnownAsset(file_hash[:20], file_size)

    def _nested_paths(self, url):
        stored = self._stored.get(url)
        if stored is None or not stored.known.stylesheet_urls:
            return []
        base = self.origin + url if url.startswith("/") else url
        local, foreign = same_origin_paths(
            stored.known.stylesheet_urls, base, self.origin
        )
        return local + [media for media in foreign if self._stored_file(media)]

    def _stamp(self, stored_as):
        """What tells whether the file changed, taken without reading it; None if it is gone."""
        if stored_as.kind == "media":
            rendition_id = self._renditions.get(stored_as.name)
            if rendition_id is not None:
                return f"rendition:{rendition_id}"
            return _storage_stamp("media", default_storage, stored_as.name)
        if stored_as.name in self._hashed_static_names():
            return "hashed"
        stamp = _storage_stamp("static", staticfiles_storage, stored_as.name)
        if stamp is not None:
            return stamp
        found = finders.find(stored_as.name)
        if not found:
            return None
        # Where the file was found counts: another app may provide the same name.
        where = hashlib.sha256(os.fsencode(found)).hexdigest()[:12]
        return _file_stamp(f"found:{where}", found)

    def _hashed_static_names(self):
        if self._hashed_static is None:
            self._hashed_static = set()
            if isinstance(staticfiles_storage, ManifestFilesMixin):
                self._hashed_static = set(staticfiles_storage.hashed_files.values())
        return self._hashed_static


def _storage_stamp(kind, storage, name):
    try:
        local_path = storage.path(name)
    except NotImplementedError:
        local_path = None
    except Exception:  # A name the storage refuses: reading it reports why.
        return None
    if local_path is not None:
        return _file_stamp(kind, local_path)
    try:
        return (
            f"{kind}:{storage.size(name)}:{storage.get_modified_time(name).isoformat()}"
        )
    except Exception:  # A remote storage's own errors: reading it reports them.
        return None


def _file_stamp(kind, path):
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return f"{kind}:{status.st_size}:{status.st_mtime_ns}"


def _batches(items):
    """``items`` in lists as long as one query may name (999 on SQLite)."""
    features = connections[router.db_for_read(OfflineAssetRevision)].features
    size = features.max_query_params or 10_000
    for start in range(0, len(items), size):
        yield items[start : start + size]
