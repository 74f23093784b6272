"""The fallback page in each of the site's locales: a French reader offline sees the French one.

The worker picks the first entry whose prefix starts the URL the reader asked for.
"""

from wagtail.models import Page

from .selection import is_public_live_page, site_root_paths


def locale_roots(site, root_paths=None):
    """The live home pages of ``site`` in each of its locales, by language code.

    Empty for a site in one language: it has no listing per language. ``root_paths``:
    ``site_root_paths(site)`` when the caller has them.
    """
    root_paths = site_root_paths(site) if root_paths is None else root_paths
    if len(root_paths) < 2:
        return {}
    roots = {
        root.locale.language_code: root
        for root in Page.objects.filter(path__in=root_paths)
        .live()
        .select_related("locale")
    }
    return roots if len(roots) > 1 else {}


def locale_listings(site):
    """[{"language", "url"}]: the listing in each of the site's languages, when it has several."""
    from django.urls import reverse

    return [
        {
            "language": language,
            "url": reverse("wagtail_offline:listing_in_language", args=[language]),
        }
        for language in sorted(locale_roots(site))
    ]


def locale_fallbacks(site, default_url):
    """[{"prefix", "url"}] per locale root of ``site``, longest prefix first, "/" last.

    ``url`` is the translation of the editors' fallback page in the prefix's locale where
    it is published and public, else ``default_url``.
    """
    from .manifest import site_relative_url  # manifest.py imports this module.
    from .models import OfflineSettings

    chosen = OfflineSettings.for_site(site).fallback_page
    urls = {"/": default_url}
    for root in Page.objects.filter(path__in=site_root_paths(site)).live():
        prefix = site_relative_url(root, site)
        if not prefix or prefix == "/" or not prefix.startswith("/"):
            continue
        translation = chosen and chosen.get_translation_or_none(root.locale)
        url = translation and is_public_live_page(translation)
        url = url and site_relative_url(translation, site)
        urls[prefix] = url or default_url
    return [
        {"prefix": prefix, "url": url}
        for prefix, url in sorted(urls.items(), key=lambda item: -len(item[0]))
    ]
