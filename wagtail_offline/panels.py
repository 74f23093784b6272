"""The page editor's offline status, shown beside the offline options."""

from wagtail.admin.panels import Panel


class OfflineStatusPanel(Panel):
    """Where the page stands offline: its size, when it was saved, or why it is not offline."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_offline/admin/status_panel.html"
