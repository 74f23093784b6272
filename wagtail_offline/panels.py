"""The page editor's offline status, shown beside the offline options."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel


def report_url(site=None, status=None):
    """The offline pages report, for ``site`` and filtered to ``status`` when given."""
    try:
        url = reverse("wagtail_offline_report")
    except NoReverseMatch:  # Only when a project leaves the report out of its admin.
        return ""
    query = []
    if site is not None:
        query.append(f"site={site.pk}")
    if status:
        query.append(f"status={status}")
    return url + ("?" + "&".join(query) if query else "")


class OfflineStatusPanel(Panel):
    """Where the page stands offline: its size, when it was saved, or why it is not offline.

    Read-only: it adds no form field, and reads stored data only (never renders a page).
    """

    def __init__(self, heading=None, **kwargs):
        super().__init__(
            heading=_("Offline status") if heading is None else heading, **kwargs
        )

    @property
    def clean_name(self):
        return super().clean_name or "offline_status"

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_offline/admin/status_panel.html"

        def get_context_data(self, parent_context=None):
            from . import status

            context = super().get_context_data(parent_context)
            page = self.instance
            context["page"] = page
            if page is None or page.pk is None:
                context["new_page"] = True
                return context
            found = status.page_status(page)
            if found is None:
                context["no_site"] = True
                return context
            site_status, page_status = found
            context.update(
                site_status=site_status,
                page_status=page_status,
                report_url=report_url(site_status.site),
                # The section is read from the published row: what readers get now.
                section=(
                    site_status.section_summary(page)
                    if page_status.state != status.NOT_OFFLINE
                    and _section_is_flagged(page)
                    else None
                ),
            )
            return context


def _section_is_flagged(page):
    """Whether the published page is flagged with its subpages (not the draft being edited)."""
    if not hasattr(page, "offline_include_subpages"):
        return False
    return (
        type(page)
        ._default_manager.filter(
            pk=page.pk, offline_available=True, offline_include_subpages=True
        )
        .exists()
    )
