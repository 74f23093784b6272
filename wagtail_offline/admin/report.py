"""Reports → Offline pages: every page of a site that is offline or was meant to be.

A Wagtail page report: its filters, pagination and CSV/XLSX export come from
``PageReportView``; the rows and the site's totals are read from ``status``.
"""

import datetime
from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import ContentTypeFilter, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.reports import PageReportView
from wagtail.coreutils import get_content_type_label
from wagtail.models import Page, Site
from wagtail.permissions import page_permission_policy

from .. import manifest_store
from ..models import OfflinePageSnapshot
from ..panels import report_url as offline_report_url
from ..permissions import can_manage_offline
from ..selection import offline_page_models, offline_pages
from ..sizes import format_size
from ..status import (
    EXCLUDED,
    FAILED,
    OFFLINE,
    WAITING,
    candidate_pages,
    ordered_sites,
    site_status,
    sites_visible_to,
)

STATE_LABELS = {
    OFFLINE: _("Offline"),
    FAILED: _("Failed"),
    EXCLUDED: _("Excluded"),
    WAITING: _("Waiting"),
}


# Who may read the report: as for Wagtail's own page reports.
PAGE_PERMISSIONS = ["add", "change", "publish"]


def selected_site(request):
    """The site that ``?site=<id>`` names, else the default site (else the first), among
    those whose pages the user may explore; None when there is none."""
    sites = sites_visible_to(request.user)
    site_id = request.GET.get("site", "")
    chosen = next((site for site in sites if str(site.pk) == site_id), None)
    return chosen or (sites[0] if sites else None)


def in_state(status, state):
    """A filter for the pages that ``status`` (a ``SiteStatus``) puts in ``state``."""
    offline = Q(pk__in=offline_pages(status.site).values("pk"))
    if state == EXCLUDED:
        return ~offline
    failed = Q(
        pk__in=OfflinePageSnapshot.objects.filter(site=status.site)
        .exclude(error="")
        .values("page_id")
    )
    if state == FAILED:
        return offline & failed
    shipped_ids = (
        manifest_store.shipped_page_ids(status.manifest) if status.manifest else set()
    )
    shipped = Q(pk__in=shipped_ids)
    if state == WAITING:
        return offline & ~failed & ~shipped
    return offline & ~failed & shipped


def flagged_sections(site):
    """Pages of ``site`` flagged with their subpages, in tree order."""
    conditions = [
        Q(
            pk__in=model.objects.filter(
                offline_available=True, offline_include_subpages=True
            ).values("pk")
        )
        for model in offline_page_models()
    ]
    if not conditions:
        return Page.objects.none()
    return candidate_pages(site).filter(reduce(or_, conditions))


class SectionChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_admin_display_title()


class SectionFilter(django_filters.ModelChoiceFilter):
    field_class = SectionChoiceField


class OfflinePagesReportFilterSet(WagtailFilterSet):
    site = django_filters.ModelChoiceFilter(
        label=_("Site"),
        queryset=Site.objects.none(),
        empty_label=None,
        method="filter_site",
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=list(STATE_LABELS.items()),
        empty_label=_("All"),
        widget=forms.RadioSelect,
        method="filter_status",
    )
    section = SectionFilter(
        label=_("Section"),
        queryset=Page.objects.none(),
        empty_label=_("Any"),
        method="filter_section",
    )
    content_type = ContentTypeFilter(
        label=_("Type"),
        queryset=ContentType.objects.none(),
        empty_label=_("Any"),
    )

    class Meta:
        model = Page
        fields = ["site", "status", "section", "content_type"]

    def __init__(self, *args, offline_status=None, **kwargs):
        self.offline_status = offline_status
        super().__init__(*args, **kwargs)
        sites = sites_visible_to(self.request.user) if self.request else []
        if len(sites) < 2:
            del self.filters[
                "site"
            ]  # As Wagtail's page types report: one site, no choice.
        else:
            self.filters["site"].queryset = ordered_sites().filter(
                pk__in=[site.pk for site in sites]
            )
        if offline_status is not None:
            site = offline_status.site
            self.filters["section"].queryset = flagged_sections(site)
            self.filters["content_type"].queryset = ContentType.objects.filter(
                pk__in=candidate_pages(site).values("content_type")
            ).order_by("model")

    def filter_site(self, queryset, name, value):
        return queryset  # The view lists the chosen site's pages already.

    def filter_status(self, queryset, name, value):
        if not value or self.offline_status is None:
            return queryset
        return queryset.filter(in_state(self.offline_status, value))

    def filter_section(self, queryset, name, value):
        return queryset.filter(path__startswith=value.path) if value else queryset


class OfflineRow:
    """A page's ``PageStatus`` as the report shows and exports it."""

    def __init__(self, status):
        self.status = status

    def __getattr__(self, name):
        return getattr(self.status, name)

    @property
    def state_label(self):
        return STATE_LABELS.get(self.status.state, self.status.state)

    @property
    def detail(self):
        if self.status.state == WAITING:
            return gettext("Not saved yet: it will be offline after the next build.")
        return self.status.reason

    @property
    def pending_label(self):
        return gettext("Yes") if self.status.pending else gettext("No")

    @property
    def own_bytes(self):
        return self.status.own_size if self.status.is_offline else None

    @property
    def total_bytes(self):
        return self.status.total_size if self.status.is_offline else None


class OfflinePagesReportView(PageReportView):
    # As Wagtail's own page reports: for users who may work on pages, and only the
    # pages they may explore.
    permission_policy = page_permission_policy
    any_permission_required = PAGE_PERMISSIONS
    results_template_name = "wagtail_offline/admin/report_results.html"
    page_title = _("Offline pages")
    header_icon = "download"
    filterset_class = OfflinePagesReportFilterSet
    index_url_name = "wagtail_offline_report"
    index_results_url_name = "wagtail_offline_report_results"
    export_headings = {
        "title": _("Title"),
        "offline.urls": _("URL"),
        "content_type": _("Type"),
        "offline.state_label": _("Status"),
        "offline.detail": _("Reason"),
        "offline.pending_label": _("Being updated"),
        "offline.own_bytes": _("Size (bytes)"),
        "offline.total_bytes": _("Total size (bytes)"),
        "offline.foreign": _("Cross-origin assets"),
        "offline.warnings": _("Warnings"),
        "offline.rendered_at": _("Last rendered"),
    }
    list_export = list(export_headings)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.custom_field_preprocess = {
            **self.custom_field_preprocess,
            "content_type": {
                self.FORMAT_CSV: get_content_type_label,
                self.FORMAT_XLSX: get_content_type_label,
            },
        }

    def get_filename(self):
        return "offline-pages-report-{}".format(
            datetime.datetime.today().strftime("%Y-%m-%d")
        )

    @cached_property
    def site(self):
        return selected_site(self.request)

    @cached_property
    def offline_status(self):
        return site_status(self.site) if self.site else None

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "offline_status": self.offline_status}

    def get_queryset(self):
        if self.site is None:
            self.queryset = Page.objects.none()
        else:
            explorable = page_permission_policy.explorable_instances(self.request.user)
            self.queryset = (
                candidate_pages(self.site)
                .filter(pk__in=explorable.values("pk"))
                .select_related("content_type")
            )
        return super().get_queryset()

    def decorate_paginated_queryset(self, pages):
        pages = list(pages)
        if self.offline_status is not None:
            statuses = self.offline_status.page_statuses(pages)
            for page in pages:
                page.offline = OfflineRow(statuses[page.pk])
        return pages

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        status = self.offline_status
        report_url = offline_report_url(self.site)
        context.update(
            site=self.site,
            site_status=status,
            report_url=report_url,
            can_manage_offline=can_manage_offline(self.request.user, self.site),
        )
        if status is not None:
            context.update(
                total_label=format_size(status.total_size),
                budget_label=format_size(status.budget),
                # The bar turns amber from three quarters of the budget, red beyond nine tenths.
                budget_low=int(status.budget * 0.75),
                budget_high=int(status.budget * 0.9),
                budget_percent=round(status.budget_fraction * 100),
            )
        return context


@hooks.register("register_admin_urls")
def register_report_urls():
    return [
        path(
            "reports/offline-pages/",
            OfflinePagesReportView.as_view(),
            name="wagtail_offline_report",
        ),
        path(
            "reports/offline-pages/results/",
            OfflinePagesReportView.as_view(results_only=True),
            name="wagtail_offline_report_results",
        ),
    ]


class OfflinePagesMenuItem(MenuItem):
    def is_shown(self, request):
        return page_permission_policy.user_has_any_permission(
            request.user, PAGE_PERMISSIONS
        )


@hooks.register("register_reports_menu_item")
def register_report_menu_item():
    return OfflinePagesMenuItem(
        _("Offline pages"),
        reverse("wagtail_offline_report"),
        name="offline-pages",
        icon_name="download",
        order=1300,
    )
