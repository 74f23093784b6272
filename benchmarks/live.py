"""Django's live server for the browser benchmarks, behind a WSGI wrapper that counts and stalls."""

import gzip
import socketserver
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from wsgiref import simple_server

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.test.testcases import LiveServerThread


class Meter:
    """Counts the body bytes the server sends per path, and can stall chosen paths."""

    def __init__(self):
        self.sent = Counter()
        self.bodies = {}
        self.hang_paths = set()
        self._release = threading.Event()
        self._lock = threading.Lock()

    def reset(self):
        with self._lock:
            self.sent.clear()
            self.bodies = {}

    def snapshot(self):
        with self._lock:
            return Counter(self.sent)

    def gzipped(self):
        """What the bytes sent since the last reset would be, each body gzipped."""
        with self._lock:
            return sum(len(gzip.compress(body)) for body in self.bodies.values())

    @contextmanager
    def hanging(self, *paths):
        """Requests for ``paths`` are accepted but not answered until the block ends."""
        self._release.clear()
        self.hang_paths = set(paths)
        try:
            yield
        finally:
            self.hang_paths = set()
            self._release.set()

    def wrap(self, app):
        def counted(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if path in self.hang_paths:
                self._release.wait(timeout=120)
            iterable = app(environ, start_response)
            try:
                for chunk in iterable:
                    with self._lock:
                        self.sent[path] += len(chunk)
                        self.bodies[path] = self.bodies.get(path, b"") + chunk
                    yield chunk
            finally:
                if hasattr(iterable, "close"):
                    iterable.close()

        return counted


@contextmanager
def live_server(meter):
    """``http://localhost:PORT`` serving the site, its static files and media, through ``meter``."""
    thread = LiveServerThread(
        "localhost", static_handler=lambda app: meter.wrap(StaticFilesHandler(app))
    )
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://localhost:{thread.port}"
    finally:
        meter.hang_paths = set()
        meter._release.set()
        thread.terminate()


class _PooledWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    """A WSGI server answering from a fixed pool of threads, as gunicorn's gthread workers
    do: each thread keeps its database connection (``CONN_MAX_AGE``) between requests."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args, threads, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self._kept_connections = set()
        self._lock = threading.Lock()

    def process_request(self, request, client_address):
        self.pool.submit(self._answer, request, client_address)

    def _answer(self, request, client_address):
        self.process_request_thread(request, client_address)
        with self._lock:
            self._kept_connections.add(connections["default"])

    def close_kept_connections(self):
        """Close the pool threads' connections: the next benchmark replaces the SQLite
        file, which an open connection would write its journal into."""
        for connection in self._kept_connections:
            connection.inc_thread_sharing()
            connection.close()
        self._kept_connections.clear()


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def pooled_server(threads=8):
    """``http://127.0.0.1:PORT`` serving the project with a pool of ``threads``."""
    server = _PooledWSGIServer(
        ("127.0.0.1", 0), _QuietHandler, threads=threads, bind_and_activate=True
    )
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.pool.shutdown(wait=True)
        server.close_kept_connections()
        server.server_close()
