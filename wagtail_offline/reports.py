"""The endpoint where readers' workers report what they could not store."""

import json
import logging

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from wagtail.models import Site

logger = logging.getLogger(__name__)

MAX_REPORT_BYTES = 64 * 1024


@csrf_exempt
@require_POST
def report(request):
    """Readers' workers report the entries they could not store; developers read the log."""
    if len(request.body) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    try:
        payload = json.loads(request.body)
        failures = payload["failures"][:50]
        lines = [f"{failure['url']}: {failure['message']}" for failure in failures]
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest('Expected {"failures": [{"url", "message"}]}.')
    site = Site.find_for_request(request)
    logger.warning(
        "wagtail-offline: a reader's browser could not store %d entries of %s (version %s):\n%s",
        len(lines),
        site,
        str(payload.get("version"))[:64],
        "\n".join(lines),
    )
    return HttpResponse(status=204)
