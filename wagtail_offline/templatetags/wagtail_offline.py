from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from wagtail.models import Site

from ..views import is_active

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_head(context):
    """Registers this site's service worker (or removes it when offline reading is off)."""
    request = context.get("request")
    if request is None or getattr(request, "is_preview", False):
        return ""
    site = Site.find_for_request(request)
    if site is None:
        return ""
    return render_to_string(
        "wagtail_offline/head.html",
        {
            "service_worker_url": reverse("wagtail_offline:service_worker"),
            "active": is_active(site),
        },
    )
