"""The site's web app manifest: what a browser needs to add the site to a home screen.

Built by the background rebuild (``manifest.assemble``) from the site's offline settings,
with the icons as Wagtail renditions, and stored in ``OfflineManifest.extras``; the
``views.app_manifest`` view serves the stored bytes and never renders anything.
"""

import json

from django.urls import reverse
from django.utils.translation import gettext as _

from .paths import canonical_path
from .rendering import _rendering

# (filter spec, the size it asks for): the two sizes browsers require to offer installing.
ICON_RENDITIONS = (("fill-192x192|format-png", 192), ("fill-512x512|format-png", 512))
CONTENT_TYPE = "application/manifest+json"


def app_manifest_url():
    return reverse("wagtail_offline:app_manifest")


def site_display_name(site, root_page=None):
    """The site's name as readers know it: its name in the settings, else its home page's title.

    Never a bare host name.
    """
    return site.site_name or (root_page or site.root_page).title


def build(assembly, offline_settings):
    """The web app manifest of ``assembly``'s site, adding its icons to the critical entries.

    Problems (an icon that cannot be saved, or is too small) are reported on ``assembly``.
    """
    site = assembly.site
    root_page = site.root_page
    start_url = _site_root_url(site, root_page)
    name = offline_settings.app_name or site_display_name(site, root_page)
    manifest = {
        "id": start_url,
        "name": name,
        "short_name": offline_settings.app_short_name or name,
        "start_url": start_url,
        "scope": start_url,
        "display": "standalone",
        "lang": root_page.locale.language_code,
        "theme_color": offline_settings.theme_color,
        "background_color": offline_settings.background_color,
    }
    icons = _icons(assembly, offline_settings.app_icon)
    if icons:
        manifest["icons"] = icons
    return manifest


def serialise(manifest):
    """The bytes served for a stored manifest; the critical entry's revision is theirs.

    Keys sorted: PostgreSQL's jsonb does not keep them in the order they were built in, and
    the bytes served must be those the build hashed.
    """
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()


def add_entry(assembly, manifest):
    """The manifest's own URL as a critical entry, so an installed site opens offline."""
    from .manifest import revision_of  # manifest.py imports this module.

    content = serialise(manifest)
    url = app_manifest_url()
    assembly.entries[url] = {
        "url": url,
        "revision": revision_of(content),
        "size": len(content),
        "kind": "asset",
        "critical": True,
    }


def _site_root_url(site, root_page):
    site_id, _root_url, path = root_page.get_url_parts() or (None, None, None)
    return path if site_id == site.pk and path else "/"


def _icons(assembly, image):
    """The icons made from ``image``: only those that are entries, so they work offline."""
    from .manifest import WARNING  # manifest.py imports this module.

    url = app_manifest_url()
    # No icon is an option not taken, not a flaw: the site is simply not installable.
    if image is None:
        return []
    icons = []
    for filter_spec, size in ICON_RENDITIONS:
        # Renditions made for the build are no change an editor made: no rebuild for them.
        with _rendering():
            rendition = image.get_rendition(filter_spec)
        path = canonical_path(rendition.url, assembly.origin + "/", assembly.origin)
        if path is None:
            assembly.report(
                rendition.url,
                _(
                    "The app icon %(url)s is not served by this site; browsers cannot "
                    "show it offline."
                )
                % {"url": rendition.url},
            )
            continue
        assembly.add_urls(url, [path], critical=True)
        if path not in assembly.entries:
            continue  # Private, too large or unreadable: reported by add_urls.
        if rendition.width < size or rendition.height < size:
            assembly.report(
                path,
                _(
                    "The app icon is %(width)s × %(height)s pixels, smaller than "
                    "%(size)s × %(size)s: some devices show it blurred. Choose a "
                    "larger image."
                )
                % {"width": rendition.width, "height": rendition.height, "size": size},
                level=WARNING,
            )
        icons.append(
            {
                "src": path,
                "sizes": f"{rendition.width}x{rendition.height}",
                "type": "image/png",
                # Not "maskable": a device crops those to a circle, cutting off the
                # edges of an image that was not drawn with a safe zone.
                "purpose": "any",
            }
        )
    return icons
