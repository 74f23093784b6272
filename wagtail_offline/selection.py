"""What is offline: the editors' flags, minus anything private (pages, images, documents)."""

from functools import reduce
from operator import or_
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import Resolver404, resolve
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import CollectionViewRestriction, Page, get_page_models

from .media_origins import RemoteMedia
from .paths import served_path


def offline_page_models():
    from .models import OfflinePageMixin

    return [
        model
        for model in get_page_models()
        if issubclass(model, OfflinePageMixin) and not model._meta.abstract
    ]


def site_root_paths(site):
    """Tree paths of the site's root page and of its translations (one per locale)."""
    root = site.root_page
    return sorted(
        Page.objects.filter(translation_key=root.translation_key)
        .filter(depth=root.depth)
        .values_list("path", flat=True)
    )


def in_site(site):
    """A filter for pages below the site's root page or one of its translations."""
    return reduce(or_, [Q(path__startswith=path) for path in site_root_paths(site)])


def below(paths, field="path"):
    """A filter for the pages at or below any of the tree ``paths`` (on ``field``,
    the path of the page a row belongs to); none when there are no paths."""
    return reduce(
        or_, [Q(**{f"{field}__startswith": path}) for path in paths], Q(pk__in=[])
    )


def page_is_in_site(page, site):
    return any(page.path.startswith(path) for path in site_root_paths(site))


def flagged_pages(site, live_only=True):
    """(path, include_subpages) for every flagged page of the site (live ones only, by default)."""
    flags = []
    for model in offline_page_models():
        flags += _flagged(model, site, live_only).values_list(
            "path", "offline_include_subpages"
        )
    return flags


def _flagged(model, site, live_only):
    pages = model.objects.live() if live_only else model.objects.all()
    return pages.filter(in_site(site), offline_available=True)


def _flag_conditions(site, live_only=True, sections_among=None):
    """A filter for flagged pages and the pages below sections flagged with their subpages
    (only the sections whose paths are in ``sections_among``, when given).

    Flagged pages are matched with a subquery and nested sections are merged, so
    that thousands of flags do not become thousands of SQL conditions. The subquery
    looks up the page at hand (``EXISTS``), not every flagged page (``IN``, which
    SQLite reads whole even to judge one page). Whether the page is live and in the
    site is for the query that uses these conditions.
    """
    conditions = [
        Q(Exists(model.objects.filter(pk=OuterRef("pk"), offline_available=True)))
        for model in offline_page_models()
    ]
    sections = []
    for model in offline_page_models():
        flagged = _flagged(model, site, live_only)
        if sections_among is not None:
            flagged = flagged.filter(path__in=sorted(sections_among))
        sections += flagged.filter(
            offline_include_subpages=True, numchild__gt=0
        ).values_list("path", flat=True)
    for path in outermost(sections):
        conditions.append(Q(path__startswith=path))
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def outermost(paths):
    """The paths not below another path of the list."""
    kept = []
    for path in sorted(paths):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept


def not_expired():
    """Pages past their expiry stay live until ``publish_scheduled`` runs; they are not offline."""
    return Q(expire_at__isnull=True) | Q(expire_at__gt=timezone.now())


def offline_pages(site, among=None):
    """Live, public pages of ``site`` that readers can hold offline, in tree order.

    A page is offline when it is flagged, or lies below a page flagged with its
    subpages. Pages with a view restriction, on themselves or on an ancestor, never are;
    nor are drafts, scheduled, expired or unpublished pages.

    ``among``: only these page ids are judged, and only their ancestors are looked at
    as sections (a publish on a site of 10,000 pages judges a few).
    """
    pages = Page.objects.live().public().filter(in_site(site), not_expired())
    if among is None:
        return pages.filter(_flag_conditions(site)).order_by("path")
    among = sorted(set(among))
    ancestors = {
        path[:end]
        for path in Page.objects.filter(pk__in=among).values_list("path", flat=True)
        for end in range(Page.steplen, len(path) + 1, Page.steplen)
    }
    return (
        pages.filter(pk__in=among)
        .filter(_flag_conditions(site, sections_among=ancestors))
        .order_by("path")
    )


def excluded_pages(site):
    """(page, reason) for each page that editors flagged, or that lies in a flagged
    section, but that readers cannot hold offline."""
    offline = offline_pages(site).values("pk")
    candidates = (
        Page.objects.filter(in_site(site), _flag_conditions(site, live_only=False))
        .exclude(pk__in=offline)
        .order_by("path")
    )
    return [(page, exclusion_reason(page)) for page in candidates]


RESTRICTION_KINDS = {
    "password": gettext_lazy("password"),
    "login": gettext_lazy("login"),
    "groups": gettext_lazy("group"),
}


def exclusion_reason(page, restrictions=None):
    """Why a page that would otherwise be offline is not, in an editor's words.

    ``restrictions``: the view restrictions above the pages being explained, outermost
    first, when the caller read them at once (else this page's are read).
    """
    now = timezone.now()
    if not page.live:
        if page.go_live_at and page.go_live_at > now:
            return _("scheduled: goes live on %(date)s") % {
                "date": formats.date_format(
                    timezone.localtime(page.go_live_at), "SHORT_DATETIME_FORMAT"
                )
            }
        if page.expired:
            return _("expired")
        if page.first_published_at:
            return _("unpublished")
        return _("draft: never published")
    if page.expire_at and page.expire_at <= now:
        return _("expired")
    if restrictions is None:
        restriction = page.get_view_restrictions().select_related("page").first()
    else:
        restriction = next(
            (r for r in restrictions if page.path.startswith(r.page.path)), None
        )
    if restriction is not None:
        kind = RESTRICTION_KINDS.get(
            restriction.restriction_type, restriction.restriction_type
        )
        if restriction.page_id == page.pk:
            return _("private: %(restriction)s restriction") % {"restriction": kind}
        return _("private: %(restriction)s restriction on “%(page)s”") % {
            "restriction": kind,
            "page": restriction.page,
        }
    return _("in a section that is not published")


def is_public_live_page(page):
    return Page.objects.live().public().filter(not_expired(), pk=page.pk).exists()


class PrivateMedia:
    """Tells which URLs serve the bytes of a private image or document.

    A collection is private when it, or one of its ancestors, has a view restriction.
    Images are found from the media URLs of their renditions and originals and from
    Wagtail's image serve view; documents from their media URLs (their serve view is
    checked where document links are handled). URLs are canonical paths (see ``paths``),
    or URLs on a declared media origin (see ``media_origins``).
    """

    BATCH = 500

    def __init__(self, remote_media=None):
        self.remote_media = remote_media or RemoteMedia()
        self.restricted_paths = list(
            CollectionViewRestriction.objects.values_list("collection__path", flat=True)
        )
        self._media_prefix = urlsplit(settings.MEDIA_URL or "").path
        self._owners = {}  # media file name -> the image or document it holds, or None

    def forget(self):
        """Forget the media files looked up: a URL asked about again is looked up again."""
        self._owners = {}

    def is_private(self, collection):
        return any(collection.path.startswith(path) for path in self.restricted_paths)

    def private_document(self, document):
        """A description of ``document`` when it is private, else None."""
        if self.is_private(document.collection):
            return f"the document “{document}” in the private collection “{document.collection}”"
        return None

    def private_owner(self, url):
        """A description of the private image or document that ``url`` serves, else None."""
        if not self.restricted_paths:
            return None
        owner = self._served_image(url)
        if owner is None:
            name = self._media_name(url)
            if name is None:
                return None
            if name not in self._owners:
                self.prefetch([url])
            owner = self._owners.get(name)
        if owner is None or not self.is_private(owner.collection):
            return None
        if isinstance(owner, get_document_model()):
            return self.private_document(owner)
        return f"the image “{owner}” from the private collection “{owner.collection}”"

    def prefetch(self, urls):
        """Look up the images and documents behind many media URLs in a few queries."""
        if not self.restricted_paths:
            return  # Nothing is private: no need to know.
        names = {self._media_name(url) for url in urls} - {None} - set(self._owners)
        names = sorted(names)
        for name in names:
            self._owners[name] = None
        image_model = get_image_model()
        rendition_model = image_model.get_rendition_model()
        for start in range(0, len(names), self.BATCH):
            batch = names[start : start + self.BATCH]
            for rendition in rendition_model.objects.filter(
                file__in=batch
            ).select_related("image__collection"):
                self._owners[rendition.file.name] = rendition.image
            for model in (image_model, get_document_model()):
                for item in model.objects.filter(file__in=batch).select_related(
                    "collection"
                ):
                    self._owners[item.file.name] = item

    def _served_image(self, url):
        """The image that Wagtail's dynamic serve view answers ``url`` with, if it does."""
        path = served_path(url) if url.startswith("/") else None
        try:
            match = resolve(path) if path else None
        except Resolver404:
            return None
        if match is None or match.url_name != "wagtailimages_serve":
            return None
        _signature, image_id, _filter_spec = match.args  # Wagtail's URL pattern.
        if not image_id.isdigit():
            return None
        return (
            get_image_model()
            .objects.filter(pk=int(image_id))
            .select_related("collection")
            .first()
        )

    def _media_name(self, url):
        if not url.startswith("/"):
            return self.remote_media.storage_name(url)
        path = served_path(url)
        if path is None or not self._media_prefix or self._media_prefix == "/":
            return None
        if not path.startswith(self._media_prefix):
            return None
        return path[len(self._media_prefix) :]
