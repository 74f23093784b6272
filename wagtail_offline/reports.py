"""The endpoint where readers' workers report what they could not store.

Anyone can POST to it, so everything a request carries is treated as hostile: the body
is bounded, checked and escaped, each request writes at most one short log line, and
each client address may report only so often.
"""

import hashlib
import json
import logging
import time
import unicodedata

from django.core.cache import caches
from django.http import HttpResponse, HttpResponseBadRequest, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import conf
from .site_lookup import find_site

logger = logging.getLogger(__name__)

# Headroom for a worker that failed on a few hundred entries (about 90 bytes each); the
# log is bounded separately, so a larger body only costs parsing.
MAX_REPORT_BYTES = 64 * 1024
MAX_LOGGED_FAILURES = 20
MAX_URL_CHARS = 300
MAX_MESSAGE_CHARS = 200
MAX_REASON_CHARS = 20
MAX_SITE_CHARS = 100
MAX_VERSION_CHARS = 64
MAX_LOG_BYTES = 4 * 1024
# Reserved for the "… and N more" tail, so that it never pushes a record past the cap.
MORE_TAIL_BYTES = 40
HEX_DIGITS = frozenset("0123456789abcdef")

# Control and format characters (ESC, BiDi overrides), line and paragraph separators,
# and lone surrogates, which a UTF-8 log handler cannot even write.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


class InvalidReport(ValueError):
    pass


@csrf_exempt
@require_POST
def report(request):
    """Readers' workers report the entries they could not store; developers read the log.

    Refusals come cheapest first and never log the reader's text: another origin 403,
    a body over MAX_REPORT_BYTES 413, more than WAGTAIL_OFFLINE_REPORTS_PER_MINUTE
    reports from one REMOTE_ADDR 429, anything but the worker's JSON 400.
    """
    if not _from_own_origin(request):
        return HttpResponse(status=403)
    try:
        body = _read_body(request)
    except UnreadablePostError:
        return HttpResponseBadRequest("The body could not be read.")
    if body is None:
        return HttpResponse(status=413)
    if not _within_rate_limit(request):
        return HttpResponse(status=429)
    try:
        version, failures, total = _parse(body)
    except InvalidReport as error:
        return HttpResponseBadRequest(str(error))
    logger.warning(_log_message(find_site(request), version, failures, total))
    return HttpResponse(status=204)


def _from_own_origin(request):
    """False when the browser says the request comes from another origin.

    Workers send ``Origin`` and ``Sec-Fetch-Site``; clients that send neither (curl, old
    browsers) are let through, as they could claim any origin anyway. Compared like
    Django's CSRF origin check, without its trusted origins.
    """
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    # A disallowed Host raises DisallowedHost here, which Django answers with a 400.
    return origin == f"{request.scheme}://{request.get_host()}"


def _read_body(request):
    """The body, or None when it is larger than MAX_REPORT_BYTES.

    Read from the stream rather than ``request.body`` so that an oversized body is
    refused after MAX_REPORT_BYTES + 1 bytes, whatever Content-Length claims.
    """
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REPORT_BYTES:
            return None
    except ValueError:
        pass  # Django reads nothing for a malformed length, so the body is empty.
    chunks = []
    size = 0
    while size <= MAX_REPORT_BYTES:
        chunk = request.read(MAX_REPORT_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > MAX_REPORT_BYTES else b"".join(chunks)


def _within_rate_limit(request):
    """Counts this report against its client's budget for the current minute.

    Clients are told apart by REMOTE_ADDR alone: X-Forwarded-For is whatever the client
    wants it to be. Behind a proxy, a middleware that sets REMOTE_ADDR from the proxy's
    header keeps readers apart; otherwise they share one budget. A setting of 0 or None
    turns the limit off.
    """
    limit = conf.get("WAGTAIL_OFFLINE_REPORTS_PER_MINUTE")
    if not limit or limit < 0:
        return True
    address = request.META.get("REMOTE_ADDR") or ""
    # Hashed so that whatever the address holds, the cache key is short and plain.
    client = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    # One key per minute: backends that reset the expiry on incr() cannot stretch a window.
    key = f"wagtail_offline:reports:{client}:{int(time.time() // 60)}"
    cache = caches[conf.get("WAGTAIL_OFFLINE_CACHE")]
    if cache.add(key, 1, timeout=120):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # Evicted or expired between add() and incr().
        cache.add(key, 1, timeout=120)
        count = 1
    return count <= limit


def _parse(body):
    """``(version, the first failures as (url, reason, message), how many were sent)``."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError.
        raise InvalidReport("Expected a JSON object.") from None
    if not isinstance(payload, dict):
        raise InvalidReport("Expected a JSON object.")
    version = payload.get("version")
    if version is not None and not (
        isinstance(version, str)
        and 0 < len(version) <= MAX_VERSION_CHARS
        and set(version) <= HEX_DIGITS
    ):
        raise InvalidReport("The version is not a manifest version.")
    failures = payload.get("failures")
    if not isinstance(failures, list) or not failures:
        raise InvalidReport('Expected "failures": [{"url", "reason", "message"}].')
    # Entries past those logged are only counted, never read.
    return (
        version,
        [_failure(item) for item in failures[:MAX_LOGGED_FAILURES]],
        len(failures),
    )


def _failure(item):
    if not isinstance(item, dict):
        raise InvalidReport("Each failure must be an object.")
    url, message, reason = item.get("url"), item.get("message"), item.get("reason", "")
    if not all(isinstance(value, str) for value in (url, message, reason)):
        raise InvalidReport("A failure's url, reason and message must be strings.")
    return (
        _visible(url, MAX_URL_CHARS),
        _visible(reason, MAX_REASON_CHARS),
        _visible(message, MAX_MESSAGE_CHARS),
    )


def _log_message(site, version, failures, total):
    """One line of at most MAX_LOG_BYTES, whatever the report held."""
    site_name = _visible(str(site), MAX_SITE_CHARS) if site else "an unknown site"
    header = (
        f"wagtail-offline: a reader's browser could not store {total} entries of "
        f"{site_name} (version {version or 'unknown'}): "
    )
    budget = MAX_LOG_BYTES - _utf8_size(header) - MORE_TAIL_BYTES
    described = []
    for url, reason, message in failures:
        description = f"{url}: {message}" + (f" ({reason})" if reason else "")
        cost = _utf8_size(description) + 2  # With its "; " separator.
        if cost > budget:
            break
        described.append(description)
        budget -= cost
    more = total - len(described)
    return header + "; ".join(described) + (f"; … and {more} more" if more else "")


def _visible(text, limit):
    """``text`` cut to ``limit`` characters, with anything that could forge or hide log
    lines escaped as Python would (``\\n``, ``\\x1b``, ``\\u2028``).

    Backslashes are escaped too, so an escape in the log always stands for the character
    the reader sent. Other non-ASCII text (é, 日本) stays readable.
    """
    pieces = []
    length = 0
    for char in text:
        if char == "\\" or unicodedata.category(char) in UNSAFE_CATEGORIES:
            char = char.encode("unicode_escape").decode("ascii")
        if length + len(char) > limit:
            pieces.append("…")
            break
        pieces.append(char)
        length += len(char)
    return "".join(pieces)


def _utf8_size(text):
    return len(text.encode("utf-8"))
