"""The test project's settings, with a file database and a task backend that only enqueues."""

import os
import tempfile

from tests.settings import *  # noqa: F403

# run.sh makes (and removes) this folder; a bare `python -m benchmarks` gets a fresh one.
WORK_DIR = os.environ.get("WAGTAIL_OFFLINE_BENCH_DIR") or tempfile.mkdtemp(
    prefix="wagtail-offline-bench-"
)

# A file, not :memory:: the live server's threads and the main thread share it.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(WORK_DIR, "db.sqlite3"),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30},
        # As production sites run: persistent connections, not a new one per request.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
MEDIA_ROOT = os.path.join(WORK_DIR, "media")
ROOT_URLCONF = "benchmarks.urls"
# A site's own stack: the test suite's fault-injecting middleware stays out.
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("tests.")]  # noqa: F405

# As in production: a publish only enqueues; the benchmark runs the task itself.
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

# Short, so that the hanging-network benchmark does not wait long.
WAGTAIL_OFFLINE_NETWORK_TIMEOUT = 1

# Files with the same bytes as /sw.js and the manifest, served by Django's static view.
BENCH_STATIC_ROOT = os.path.join(WORK_DIR, "same-bytes")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # The plugin warns about every page it cannot save; the benchmarks show errors only.
    "root": {"handlers": ["console"], "level": "ERROR"},
}

# The section pages list their first children only, as a large site's index pages do
# (benchmarks/templates/testapp/standard_page.html).
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [os.path.join(os.path.dirname(__file__), "templates")]}  # noqa: F405
]
