"""The Wagtail site a request is for, with the request's port checked first."""

import functools

from django.core.exceptions import BadRequest
from django.http.request import split_domain_port
from wagtail.models import Site
from wagtail.models.sites import get_site_for_hostname

MAX_PORT = 65535
# Host names and ports remembered per process; a hostile client sending new ones costs a
# query each, never memory.
SITE_IDS_REMEMBERED = 256


def find_site(request):
    """``Site.find_for_request``, or ``BadRequest`` (a 400) for a port that is not a port.

    With ``USE_X_FORWARDED_PORT`` the port is whatever the ``X-Forwarded-Port`` header
    says; Wagtail compares it with an integer column, so "abc" would raise a 500 and a
    huge number a database error.
    """
    _checked_port(request)
    return Site.find_for_request(request)


def site_id_for_request(request, generation):
    """The id of the site ``find_site`` gives, remembered within a serving generation.

    Wagtail resolves a site with a query that costs more than serving /sw.js itself; the
    answer depends only on the host name, the port and the sites, and any change to the
    sites bumps the generation (see ``serving_cache``).
    """
    port = _checked_port(request)
    hostname = split_domain_port(request.get_host())[0]
    return _site_id(generation, hostname, port)


@functools.lru_cache(maxsize=SITE_IDS_REMEMBERED)
def _site_id(generation, hostname, port):
    try:
        return get_site_for_hostname(hostname, port).pk
    except Site.DoesNotExist:
        return None


def _checked_port(request):
    port = str(request.get_port())
    if not (port.isascii() and port.isdigit() and int(port) <= MAX_PORT):
        raise BadRequest("The request's port is not a number.")
    return port
