"""Settings of the app and task-worker processes that tests start beside the test run.

They share the test run's database (``WAGTAIL_OFFLINE_PROCESS_DATABASE``, JSON), use the
cache a test chose (``WAGTAIL_OFFLINE_PROCESS_CACHE``, JSON; Django's default
local-memory cache when unset) and run tasks as production does: enqueued in the
database, run by ``manage.py db_worker``.
"""

import json
import os

from tests.settings import *  # noqa: F403

DATABASES = {"default": json.loads(os.environ["WAGTAIL_OFFLINE_PROCESS_DATABASE"])}
CACHES = {
    "default": json.loads(
        os.environ.get(
            "WAGTAIL_OFFLINE_PROCESS_CACHE",
            '{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}',
        )
    )
}
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
}
