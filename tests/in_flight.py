"""A test-only middleware that counts the requests being answered.

A browser test's database is flushed once its page is closed, but the live server may still
be answering a request that page began (the admin loads a lot at once). On PostgreSQL that
request's locks and the flush's TRUNCATE can deadlock, so the flush waits until none is left.
"""

import threading
import time

_answering = 0
_lock = threading.Lock()


class InFlightRequestsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        global _answering
        with _lock:
            _answering += 1
        try:
            return self.get_response(request)
        finally:
            with _lock:
                _answering -= 1


def wait_until_idle(timeout=30, interval=0.05):
    """Wait (at most ``timeout`` seconds) until no request is being answered; True if none is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _lock:
            if _answering == 0:
                return True
        time.sleep(interval)
    return False
