"""Several app processes and a separate task worker, as a production site runs the plugin.

Two ``runserver`` processes and a ``db_worker`` share the test run's database (SQLite by
default, PostgreSQL under ``WAGTAIL_OFFLINE_TEST_POSTGRES``); an editor's action runs in
a process of its own. Whatever any process stores, the next ``/sw.js`` and manifest request
to any process serves, with per-process local-memory caches and with a shared Redis.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tests.browser.offline import wait_until
from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.manifest_parts import assemble
from wagtail_offline.models import OfflineManifest

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
REBUILD_TASK = "wagtail_offline.tasks.rebuild_offline_manifest_task"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """Debian's redis-server on a free loopback port, for this test session only."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (scripts/test.sh installs it as root)."
        if os.environ.get("CI") == "true":
            pytest.fail(message + " Under CI=true this is a failure, not a skip.")
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: _accepts(port), timeout=10, message="redis-server to listen")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


CACHES = {
    "local memory": lambda request: {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
    },
    "redis": lambda request: {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": request.getfixturevalue("redis_url"),
    },
}


class Processes:
    """The site's processes, started with ``tests.settings_processes``; stopped at the end."""

    def __init__(self, cache, log_dir):
        database = {
            key: value if key != "NAME" else str(value)
            for key, value in connection.settings_dict.items()
            if key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
        }
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings_processes",
            "WAGTAIL_OFFLINE_PROCESS_DATABASE": json.dumps(database),
            "WAGTAIL_OFFLINE_PROCESS_CACHE": json.dumps(cache),
            "WAGTAIL_OFFLINE_TEST_MEDIA": str(settings.MEDIA_ROOT),
            "PYTHONPATH": str(ROOT),
        }
        self.log_dir = log_dir
        self.running = []

    def start(self, name, *arguments):
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(
            [sys.executable, "-m", "django", *arguments],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running.append((name, process, log))
        return process

    def server(self, name):
        port = free_port()
        process = self.start(name, "runserver", "--noreload", f"127.0.0.1:{port}")
        base = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: process.poll() is not None or _accepts(port),
            timeout=60,
            message=f"{name} to listen",
        )
        assert process.poll() is None, self.logs()
        return base

    def worker(self):
        # As a production site runs it, only polling faster than the default second.
        self.start("db_worker", "db_worker", "--interval", "0.2", "--no-reload")

    def run(self, *arguments):
        """An editor's action in a process of its own, to completion."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.editor_actions", *map(str, arguments)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-4000:]

    def logs(self):
        return "\n".join(
            f"---- {name} ----\n{(self.log_dir / f'{name}.log').read_text()[-4000:]}"
            for name, _, _ in self.running
        )

    def stop(self):
        for _, process, _ in self.running:
            process.terminate()
        for _, process, log in self.running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def read_ok(url):
    status, body = get(url)
    assert status == 200, url
    return body


def worker_config(base):
    status, body = get(base + "/sw.js")
    assert status == 200
    return json.loads(body.split("self.WAGTAIL_OFFLINE_CONFIG = ")[1].split(";\n")[0])


@pytest.fixture(params=list(CACHES))
def processes(request, tmp_path):
    running = Processes(CACHES[request.param](request), tmp_path)
    yield running
    running.stop()
    print(running.logs())  # Captured: pytest shows it when the test failed.


def test_every_app_process_serves_what_any_process_stored(processes, site, home):
    trails = StandardPageFactory(
        parent=home,
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    ridge = StandardPageFactory(parent=trails, title="Ridge walk", slug="ridge")
    first = rebuild_site_manifest(site).version
    servers = [processes.server("app-1"), processes.server("app-2")]
    processes.worker()
    for base in servers:  # Each process serves (and may cache) the first version.
        assert worker_config(base)["version"] == first
        assert get(base + f"/offline/manifest-{first}.json")[0] == 200
        for _ in range(2):  # The listing, then from each process's cache.
            assert "Ridge walk</a>" in read_ok(base + "/offline/")

    processes.run("publish", ridge.pk, "Ridge walk, revised")
    # The listing, at once and before any rebuild, in every process.
    for base in servers:
        assert "Ridge walk, revised</a>" in read_ok(base + "/offline/")
    second = wait_until(
        lambda: (
            OfflineManifest.objects.exclude(version=first)
            .values_list("version", flat=True)
            .first()
        ),
        timeout=60,
        message="the db_worker process to store the rebuilt manifest",
    )
    # The task stores the manifest, then the worker records the task's end.
    rebuild = wait_until(
        lambda: DBTaskResult.objects.filter(
            task_path=REBUILD_TASK, finished_at__isnull=False
        ).first(),
        timeout=30,
        message="the db_worker to record the rebuild's end",
    )
    assert rebuild.status == "SUCCESSFUL", processes.logs()
    assert (
        rebuild.worker_ids
    )  # Run by the separate worker, not by the editor's process.
    ridge_revision = next(
        entry["revision"]
        for entry in OfflineManifest.objects.get(site=site).entries
        if entry["url"] == "/trails/ridge/"
    )

    # At once, with no wait: every app process serves what the worker stored.
    for base in servers:
        config = worker_config(base)
        assert config["version"] == second, processes.logs()
        status, root = get(base + config["manifestUrl"])
        assert status == 200
        manifest = assemble(root, lambda url, base=base: read_ok(base + url))
        assert ridge_revision in {entry["revision"] for entry in manifest["entries"]}
        assert get(base + f"/offline/manifest-{first}.json")[0] == 404

    processes.run("switch_off", site.pk)  # The kill switch, set by an editor elsewhere.
    for base in servers:
        assert worker_config(base)["active"] is False, processes.logs()
        assert get(base + f"/offline/manifest-{second}.json")[0] == 404
