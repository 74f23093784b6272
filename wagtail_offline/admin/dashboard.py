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
from wagtail.models import Site

from .. import tasks
from ..permissions import can_manage_offline


@require_POST
def rebuild(request, site_id):
    """Queue a rebuild of every offline page of one site, for users who manage offline reading."""
    if not can_manage_offline(request.user):
        raise PermissionDenied
    site = get_object_or_404(Site, pk=site_id)
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
