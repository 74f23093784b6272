"""The admin home's offline panel, and the "Rebuild now" action it (and the report) offers."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.ui.components import Component
from wagtail.models import Site

from .. import tasks
from ..panels import report_url as offline_report_url
from ..permissions import can_manage_offline
from ..sizes import format_size
from ..status import site_status, sites_visible_to


class OfflineSitePanel(Component):
    """One site's offline reading at a glance: pages, size against the budget, problems, builds."""

    name = "offline_reading"
    template_name = "wagtail_offline/admin/dashboard_panel.html"
    # After the moderation panels, before the editor's recent edits.
    order = 220

    def __init__(self, site, show_site_name=False):
        self.site = site
        self.show_site_name = show_site_name

    def get_context_data(self, parent_context):
        request = parent_context["request"]
        status = site_status(self.site)
        report_url = offline_report_url(self.site)
        return {
            "request": request,
            "csrf_token": parent_context["csrf_token"],
            "site": self.site,
            "show_site_name": self.show_site_name,
            "status": status,
            "report_url": report_url,
            "total_label": format_size(status.total_size),
            "budget_label": format_size(status.budget),
            "budget_high": int(status.budget * 0.9),
            "budget_percent": round(status.budget_fraction * 100),
            "can_manage_offline": can_manage_offline(request.user, self.site),
        }


@hooks.register("construct_homepage_panels")
def add_offline_panels(request, panels):
    sites = sites_visible_to(request.user)
    for site in sites:
        panels.append(OfflineSitePanel(site, show_site_name=len(sites) > 1))


@require_POST
def rebuild(request, site_id):
    """Queue a rebuild of every offline page of one site, for users who manage offline reading."""
    site = get_object_or_404(Site, pk=site_id)
    if not can_manage_offline(request.user, site):
        raise PermissionDenied
    with transaction.atomic():
        tasks.schedule_rebuild([site.pk], None, user=request.user)
    messages.success(
        request,
        _("A rebuild of %(site)s was queued.") % {"site": site.site_name or site},
    )
    return redirect(_next_url(request))


def _next_url(request):
    next_url = request.POST.get("next") or request.GET.get("next")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return reverse("wagtailadmin_home")


@hooks.register("register_admin_urls")
def register_rebuild_url():
    return [
        path(
            "offline/rebuild/<int:site_id>/",
            rebuild,
            name="wagtail_offline_rebuild",
        )
    ]
