"""The page editor: after a publish, tell the editor when their page could not be saved offline.

The status itself is ``panels.OfflineStatusPanel``, beside the offline options.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from wagtail import hooks
from wagtail.admin import messages

from .. import status
from ..panels import report_url
from ..schema import tables_ready


@hooks.register("after_publish_page")
def warn_when_not_offline(request, page):
    """With a task backend that already ran the rebuild (the default immediate one), a
    flagged page that failed to render gets a warning with the reason. A rebuild still
    queued says nothing: the editor's status panel shows "Being updated…" meanwhile."""
    if not tables_ready():
        return
    if transaction.get_connection().in_atomic_block:
        return  # ATOMIC_REQUESTS: the rebuild runs at commit, after this message.
    found = status.page_status(page)
    if found is None:
        return
    site_status, page_status = found
    if page_status.pending or page_status.state != status.FAILED:
        return
    url = report_url(site_status.site, status.FAILED)
    messages.warning(
        request,
        _("“%(title)s” is not available offline: %(reason)s")
        % {"title": page.get_admin_display_title(), "reason": page_status.reason},
        buttons=[messages.button(url, _("Offline pages report"))] if url else None,
    )
