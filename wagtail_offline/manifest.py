"""Building a site's offline manifest: render the offline pages, find their assets, store revisions.

Runs in a background task (see ``tasks.py``), never on a request path.
"""

import hashlib
import json
import logging
import mimetypes
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.db import transaction
from django.urls import reverse
from wagtail.models import Site

from .assets import same_origin_paths, urls_in_css, urls_in_html
from .models import OfflineManifest, OfflinePageSnapshot, OfflineSettings
from .rendering import AnonymousClient, FetchError, fetch_asset
from .selection import is_public_live_page, offline_pages

logger = logging.getLogger(__name__)


def revision_of(content):
    return hashlib.sha256(content).hexdigest()[:20]


@dataclass
class Problem:
    url: str
    message: str
    page_id: int | None = None

    def as_dict(self):
        return {"url": self.url, "message": self.message, "page_id": self.page_id}


@dataclass
class Rendered:
    url: str
    revision: str
    size: int
    asset_urls: list


@dataclass
class Build:
    """One rebuild of one site's manifest."""

    site: Site
    client: AnonymousClient
    problems: list = field(default_factory=list)
    _assets: dict = field(default_factory=dict)

    @property
    def origin(self):
        return self.site.root_url

    def render_html(self, url, page_id=None):
        """Render a page-like URL; None (and a problem) when it cannot be offline."""
        try:
            fetched = self.client.get(url)
        except FetchError as error:
            self.report(url, str(error), page_id)
            return None
        except Exception as error:  # A page that raises must not stop the others.
            logger.exception("wagtail-offline: rendering %s failed", url)
            self.report(url, f"{url} failed to render: {error!r}", page_id)
            return None
        raw_urls, base_href = urls_in_html(fetched.content.decode("utf-8", "replace"))
        base_url = urljoin(self.origin + url, base_href or "")
        asset_urls, foreign = same_origin_paths(raw_urls, base_url, self.origin)
        for foreign_url in foreign:
            self.report(
                foreign_url,
                f"{foreign_url} is on another site and will not work offline.",
                page_id,
            )
        return Rendered(
            url, revision_of(fetched.content), len(fetched.content), asset_urls
        )

    def asset(self, url):
        """(revision, size) of an asset, following stylesheets' imports; None if unusable."""
        if url in self._assets:
            return self._assets[url]
        self._assets[url] = None  # Guards against @import cycles.
        try:
            fetched = fetch_asset(self.client, url)
        except FetchError as error:
            self.report(url, str(error))
            return None
        except Exception as error:
            logger.exception("wagtail-offline: fetching %s failed", url)
            self.report(url, f"{url} could not be read: {error!r}")
            return None
        self._assets[url] = (revision_of(fetched.content), len(fetched.content))
        if _is_stylesheet(url, fetched.content_type):
            css = fetched.content.decode("utf-8", "replace")
            nested, foreign = same_origin_paths(
                urls_in_css(css), self.origin + url, self.origin
            )
            for foreign_url in foreign:
                self.report(
                    foreign_url,
                    f"{foreign_url} (from {url}) is on another site and will not work offline.",
                )
            self._assets[url] += (nested,)
        else:
            self._assets[url] += ((),)
        return self._assets[url]

    def report(self, url, message, page_id=None):
        logger.warning("wagtail-offline (%s): %s", self.site, message)
        self.problems.append(Problem(url, message, page_id))


def _is_stylesheet(url, content_type):
    if content_type:
        return content_type.split(";")[0].strip() == "text/css"
    return mimetypes.guess_type(urlsplit(url).path)[0] == "text/css"


def site_relative_url(page, site):
    """The page's path on ``site``, or None when it is served from another site."""
    site_id, _, path = page.get_url_parts() or (None, None, None)
    if site_id != site.pk or path is None:
        return None
    return path


def rebuild_site_manifest(site, page_ids=None):
    """Rebuild ``site``'s manifest; re-render only ``page_ids`` (all pages when None).

    Pages without a stored snapshot are always rendered. Returns the stored manifest.
    """
    build = Build(site=site, client=AnonymousClient(site))
    pages = list(offline_pages(site).specific())
    wanted = {page.pk for page in pages}

    OfflinePageSnapshot.objects.filter(site=site).exclude(page_id__in=wanted).delete()
    snapshots = {}
    for snapshot in OfflinePageSnapshot.objects.filter(site=site):
        snapshots.setdefault(snapshot.page_id, []).append(snapshot)

    for page in pages:
        if page_ids is not None and page.pk not in page_ids and page.pk in snapshots:
            continue
        snapshots[page.pk] = _render_page(build, page)

    listing_url = reverse("wagtail_offline:listing")
    entries = {}

    def add_page_like(rendered, kind, critical):
        entries[rendered.url] = {
            "url": rendered.url,
            "revision": rendered.revision,
            "size": rendered.size,
            "kind": kind,
            "critical": critical,
        }
        _add_assets(build, entries, rendered.asset_urls, critical)

    # The critical set: without it an offline reader would see the browser's error page.
    problem = fallback_problem(site)
    if problem:
        build.report(fallback_url(site), problem)
    for url in (fallback_url(site), listing_url):
        rendered = build.render_html(url)
        if rendered is None:
            raise ManifestError(f"{url} is needed offline but could not be rendered.")
        add_page_like(rendered, "fallback" if url != listing_url else "listing", True)

    for page in pages:
        for snapshot in snapshots.get(page.pk, []):
            if snapshot.error:
                build.problems.append(Problem(snapshot.url, snapshot.error, page.pk))
                continue
            if snapshot.url in entries:
                continue
            add_page_like(
                Rendered(
                    snapshot.url, snapshot.revision, snapshot.size, snapshot.asset_urls
                ),
                "page",
                False,
            )

    return _store(
        site, sorted(entries.values(), key=lambda e: e["url"]), build.problems
    )


class ManifestError(Exception):
    pass


def _render_page(build, page):
    """Render every URL of ``page`` and store the snapshots."""
    OfflinePageSnapshot.objects.filter(site=build.site, page=page).delete()
    snapshots = []
    locations = [item["location"] for item in page.get_offline_urls()]
    if not locations:
        build.report(str(page), f"“{page}” has no URL on {build.site}.", page.pk)
    for location in locations:
        url = urlsplit(location)
        path = url.path + (f"?{url.query}" if url.query else "")
        problems_before = len(build.problems)
        rendered = build.render_html(path, page_id=page.pk)
        error = "" if rendered else build.problems.pop(problems_before).message
        snapshots.append(
            OfflinePageSnapshot.objects.create(
                site=build.site,
                page=page,
                url=path,
                revision=rendered.revision if rendered else "",
                size=rendered.size if rendered else 0,
                asset_urls=rendered.asset_urls if rendered else [],
                error=error,
            )
        )
    return snapshots


def _add_assets(build, entries, urls, critical):
    pending = list(urls)
    while pending:
        url = pending.pop()
        if url in entries:
            entries[url]["critical"] = entries[url]["critical"] or critical
            continue
        asset = build.asset(url)
        if asset is None:
            continue
        revision, size, nested = asset
        entries[url] = {
            "url": url,
            "revision": revision,
            "size": size,
            "kind": "asset",
            "critical": critical,
        }
        pending += nested


def fallback_url(site):
    """Where offline readers land when they ask for a page that is not saved."""
    page = OfflineSettings.for_site(site).fallback_page
    if page is not None and is_public_live_page(page):
        url = site_relative_url(page, site)
        if url:
            return url
    return reverse("wagtail_offline:fallback")


def fallback_problem(site):
    """Why the editor's fallback page cannot be used, or None."""
    page = OfflineSettings.for_site(site).fallback_page
    if page is None:
        return None
    if not is_public_live_page(page):
        return f"The offline fallback page “{page}” is not published or is private; readers see the built-in message instead."
    if not site_relative_url(page, site):
        return f"The offline fallback page “{page}” is not part of {site}; readers see the built-in message instead."
    return None


def _store(site, entries, problems):
    version = revision_of(json.dumps(entries, sort_keys=True).encode())
    with transaction.atomic():
        manifest, _ = OfflineManifest.objects.select_for_update().get_or_create(
            site=site, defaults={"version": version}
        )
        manifest.version = version
        manifest.entries = entries
        manifest.problems = [problem.as_dict() for problem in problems]
        manifest.save()
    return manifest
