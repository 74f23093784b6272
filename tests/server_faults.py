"""A test-only middleware: make the live server slow or broken for chosen paths, and log requests.

Browser tests need this because Playwright's routing does not see navigation preload requests.
"""

import threading
import time

from django.http import HttpResponse

FAULTS = {}  # path -> ("status", code) or ("hang", seconds)
REQUESTS = []  # (path, used navigation preload) for requests from a real browser
_lock = threading.Lock()


def reset():
    FAULTS.clear()
    with _lock:
        REQUESTS.clear()


class ServerFaultsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "SERVER_SOFTWARE" in request.META:  # Not the plugin's in-process renders.
            with _lock:
                REQUESTS.append(
                    (
                        request.path,
                        "Service-Worker-Navigation-Preload" in request.headers,
                    )
                )
        fault = FAULTS.get(request.path)
        if fault and fault[0] == "hang":
            time.sleep(fault[1])
        elif fault and fault[0] == "status":
            return HttpResponse("Down for maintenance", status=fault[1])
        return self.get_response(request)
