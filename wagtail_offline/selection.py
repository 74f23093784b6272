"""Which pages of a site are offline: the editors' flags, minus anything private."""

from functools import reduce
from operator import or_

from django.db.models import Q
from wagtail.models import Page, get_page_models


def offline_page_models():
    from .models import OfflinePageMixin

    return [
        model
        for model in get_page_models()
        if issubclass(model, OfflinePageMixin) and not model._meta.abstract
    ]


def flagged_pages(site):
    """(path, include_subpages) for every flagged live page under the site's root."""
    root = site.root_page
    flags = []
    for model in offline_page_models():
        flags += (
            model.objects.live()
            .descendant_of(root, inclusive=True)
            .filter(offline_available=True)
            .values_list("path", "offline_include_subpages")
        )
    return flags


def offline_pages(site):
    """Live, public pages of ``site`` that readers can hold offline, in tree order.

    A page is offline when it is flagged, or lies below a page flagged with its
    subpages. Pages with a view restriction, on themselves or on an ancestor, never are.
    """
    flags = flagged_pages(site)
    if not flags:
        return Page.objects.none()
    conditions = [Q(path=path) for path, _ in flags]
    conditions += [Q(path__startswith=path) for path, subpages in flags if subpages]
    return (
        Page.objects.live()
        .public()
        .descendant_of(site.root_page, inclusive=True)
        .filter(reduce(or_, conditions))
        .order_by("path")
    )


def is_public_live_page(page):
    return Page.objects.live().public().filter(pk=page.pk).exists()
