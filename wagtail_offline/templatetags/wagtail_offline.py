from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from wagtail.models import Site

from ..models import OfflineSettings
from ..schema import tables_ready
from ..views import CACHE_PREFIX, is_active

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_head(context):
    """Registers this site's service worker (or removes it when offline reading is off)."""
    request = context.get("request")
    if request is None or getattr(request, "is_preview", False) or not tables_ready():
        return ""
    site = Site.find_for_request(request)
    if site is None:
        return ""
    try:
        service_worker_url = reverse("wagtail_offline:service_worker")
        csrf_token_url = reverse("wagtail_offline:csrf_token")
    except NoReverseMatch:  # The URLs are not installed; the W002 check says so.
        return ""
    offline_settings = OfflineSettings.for_site(site)
    return render_to_string(
        "wagtail_offline/head.html",
        {
            "service_worker_url": service_worker_url,
            "csrf_token_url": csrf_token_url,
            "cache_prefix": CACHE_PREFIX,
            "active": is_active(offline_settings),
            "persist": offline_settings.persistent_storage,
        },
    )
