from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail.models import Page, Site

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
        app_manifest_url = reverse("wagtail_offline:app_manifest")
    except NoReverseMatch:  # The URLs are not installed; the W002 check says so.
        return ""
    # Per request: {% offline_status %} and the save button read the same settings.
    offline_settings = OfflineSettings.for_request(request)
    return render_to_string(
        "wagtail_offline/head.html",
        {
            "service_worker_url": service_worker_url,
            "csrf_token_url": csrf_token_url,
            "cache_prefix": CACHE_PREFIX,
            "active": is_active(offline_settings),
            "persist": offline_settings.persistent_storage,
            "app_manifest_url": app_manifest_url,
            "theme_color": offline_settings.theme_color,
        },
    )


# Counts that fall into every plural category of the languages Django ships: the
# listing renders each plural message once per sample and reader.js picks the one
# whose category (Intl.PluralRules) is that of its own count.
PLURAL_SAMPLES = (0, 1, 2, 3, 5, 7, 11, 21, 22, 101, 102, 103)


def _reader_settings(context):
    """The site's offline settings when its readers get the offline tools, else None."""
    request = context.get("request")
    if request is None or getattr(request, "is_preview", False) or not tables_ready():
        return None
    if Site.find_for_request(request) is None:
        return None
    offline_settings = OfflineSettings.for_request(request)
    return offline_settings if is_active(offline_settings) else None


@register.simple_tag(takes_context=True)
def offline_status(context):
    """The reader's status region: offline, read from this device, site updated, forms sent."""
    if _reader_settings(context) is None:
        return ""
    return render_to_string("wagtail_offline/status.html")


@register.simple_tag(takes_context=True)
def offline_save_button(context, page=None):
    """A "Save for offline" button for ``page`` (else the context's), when readers may save it."""
    offline_settings = _reader_settings(context)
    page = page if page is not None else context.get("page")
    if offline_settings is None or not offline_settings.reader_saving:
        return ""
    url = _saveable_path(page, context["request"])
    if url is None:
        return ""
    return render_to_string("wagtail_offline/save_button.html", {"url": url})


def _saveable_path(page, request):
    """The page's path on the request's site when it is live, public and unexpired, else None."""
    if not isinstance(page, Page) or not page.live or page.expired:
        return None
    if page.expire_at and page.expire_at <= timezone.now():
        return None
    # On the page and its ancestors: a private section keeps its pages private.
    if page.get_view_restrictions().exists():
        return None
    url_parts = page.get_url_parts(request)
    if url_parts is None or url_parts[0] != Site.find_for_request(request).pk:
        return None  # Not routable, or another site's page: this site's worker cannot keep it.
    return url_parts[2]


@register.simple_tag
def offline_plural_samples():
    """Sample counts for rendering plural messages that reader.js completes."""
    return PLURAL_SAMPLES
