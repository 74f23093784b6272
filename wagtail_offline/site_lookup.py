"""The Wagtail site a request is for, with the request's port checked first."""

from django.core.exceptions import BadRequest
from wagtail.models import Site

MAX_PORT = 65535


def find_site(request):
    """``Site.find_for_request``, or ``BadRequest`` (a 400) for a port that is not a port.

    With ``USE_X_FORWARDED_PORT`` the port is whatever the ``X-Forwarded-Port`` header
    says; Wagtail compares it with an integer column, so "abc" would raise a 500 and a
    huge number a database error.
    """
    port = str(request.get_port())
    if not (port.isascii() and port.isdigit() and int(port) <= MAX_PORT):
        raise BadRequest("The request's port is not a number.")
    return Site.find_for_request(request)
