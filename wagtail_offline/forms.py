"""The admin form of a site's offline settings."""

from wagtail.admin.forms import WagtailAdminModelForm


class OfflineSettingsForm(WagtailAdminModelForm):
    """Refuses what would silently not work: checked against the site being edited."""
