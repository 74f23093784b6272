"""Concurrent publishes and rebuilds end where the same changes made one by one end.

These run on whichever database the run uses: SQLite by default, PostgreSQL with
WAGTAIL_OFFLINE_TEST_POSTGRES (see ``scripts/postgres.sh``). Where luck would decide
whether a harmful interleaving happens, the test forces it by holding one thread back.
"""

import random
import threading
import time

import pytest
from django.db import connection
from django_tasks.signals import task_finished

from tests.factories import StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline import manifest as manifest_module
from wagtail_offline.manifest import preview_site_manifest, rebuild_site_manifest
from wagtail_offline.models import OfflineManifest, OfflinePageSnapshot
from wagtail_offline.tasks import rebuild_offline_manifest_task

pytestmark = pytest.mark.django_db(transaction=True)

PUBLISHERS = 20
TIMEOUT = 60


def run_at_once(functions):
    """Run each function in a thread of its own, released together; re-raise the first failure."""
    barrier = threading.Barrier(len(functions))
    errors = []

    def run(function):
        try:
            barrier.wait(timeout=TIMEOUT)
            function()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()  # Each thread opened a connection of its own.

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


def wait_for(condition):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the other threads"
        time.sleep(0.01)


def after(monkeypatch, name, hook):
    """Call ``hook(*args)`` each time ``manifest.<name>`` returns, before its caller goes on."""
    function = getattr(manifest_module, name)

    def wrapped(*args):
        result = function(*args)
        hook(*args)
        return result

    monkeypatch.setattr(manifest_module, name, wrapped)


def named(name, function):
    def run():
        threading.current_thread().name = name
        function()

    return run


@pytest.fixture
def finished_rebuilds():
    """(thread, status, tracebacks) of every rebuild task the immediate backend ran."""
    finished = []

    def record(sender, task_result, **kwargs):
        if task_result.task.func is rebuild_offline_manifest_task.func:
            tracebacks = [error.traceback for error in task_result.errors]
            finished.append(
                (threading.current_thread(), task_result.status.name, tracebacks)
            )

    task_finished.connect(record, weak=False)
    yield finished
    task_finished.disconnect(record)


@pytest.fixture
def jitter(monkeypatch):
    """Random pauses after each render and assembly, as slow pages and assets cause."""
    for name in ("render_page", "assemble"):
        after(monkeypatch, name, lambda *args: time.sleep(random.uniform(0, 0.05)))


@pytest.fixture
def trails(site, home):
    """A flagged section listing its 20 subpages, with a built manifest."""
    section = StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    pages = [
        StandardPageFactory(parent=section, title=f"Trail {n}", slug=f"trail-{n}")
        for n in range(PUBLISHERS)
    ]
    rebuild_site_manifest(site)
    return section, pages


def revisions(manifest):
    return {entry["url"]: entry["revision"] for entry in manifest.entries}


def stored_snapshots(site):
    return dict(
        OfflinePageSnapshot.objects.filter(site=site).values_list("url", "revision")
    )


def assert_matches_a_full_rebuild(site):
    """The stored manifest and snapshots are what rendering the final content afresh gives."""
    manifest = OfflineManifest.objects.get(site=site)
    fresh = preview_site_manifest(site).manifest
    assert manifest.entries == fresh.entries
    assert manifest.version == fresh.version
    assert manifest.problems == fresh.problems == []
    pages = {e["url"]: e["revision"] for e in fresh.entries if e["kind"] == "page"}
    assert stored_snapshots(site) == pages


def test_twenty_publishes_at_once_end_as_if_made_one_by_one(
    site, trails, finished_rebuilds, jitter, monkeypatch
):
    section, pages = trails
    before = revisions(OfflineManifest.objects.get(site=site))

    # The first rebuild to assemble stores last: every other publish overtakes it.
    held = {}
    first_assembly = threading.Lock()

    def hold_back_the_first(*args):
        if not first_assembly.acquire(blocking=False):
            return
        held["read"] = manifest_module.snapshot_state(site)
        wait_for(lambda: len(finished_rebuilds) == PUBLISHERS - 1)
        held["overtaken"] = manifest_module.snapshot_state(site) != held["read"]

    after(monkeypatch, "assemble", hold_back_the_first)

    def publisher(page_id, number):
        def publish():
            page = StandardPage.objects.get(pk=page_id)
            page.title = f"Trail {number}, rerouted"
            page.body = f"<p>The new route of trail {number}.</p>"
            # Its rebuild runs in this thread once the publish commits (immediate backend).
            page.save_revision().publish()

        return publish

    run_at_once([publisher(page.pk, n) for n, page in enumerate(pages)])

    assert [status for _, status, _ in finished_rebuilds] == ["SUCCESSFUL"] * len(
        pages
    ), [tracebacks for _, _, tracebacks in finished_rebuilds]
    assert len({thread for thread, _, _ in finished_rebuilds}) == len(pages)
    assert held["overtaken"]
    assert_matches_a_full_rebuild(site)
    # Every page and the section listing them changed, and the manifest shows it.
    now = revisions(OfflineManifest.objects.get(site=site))
    for url in [section.url] + [page.url for page in pages]:
        assert now[url] != before[url], url


def test_two_rebuilds_of_one_site_at_once_lose_neither_page(site, trails, monkeypatch):
    """The worst interleaving: one rebuild assembles, the other stores, then the first stores."""
    _, pages = trails
    first, second = pages[0], pages[1]
    before = revisions(OfflineManifest.objects.get(site=site))
    snapshots_before = stored_snapshots(site)
    for page in (first, second):
        StandardPage.objects.filter(pk=page.pk).update(body=f"<p>{page.pk} moved</p>")

    first_assembled, second_done = threading.Event(), threading.Event()
    assemblies = []

    def first_waits_for_second(*args):
        name = threading.current_thread().name
        assemblies.append(name)
        if name == "first" and not first_assembled.is_set():
            first_assembled.set()
            assert second_done.wait(TIMEOUT)

    def second_saves_after_first_assembled(*args):
        if threading.current_thread().name == "second":
            assert first_assembled.wait(TIMEOUT)

    after(monkeypatch, "assemble", first_waits_for_second)
    after(monkeypatch, "render_page", second_saves_after_first_assembled)

    def rebuild_second():
        try:
            rebuild_site_manifest(site, {second.pk})
        finally:
            second_done.set()

    run_at_once(
        [
            named("first", lambda: rebuild_site_manifest(site, {first.pk})),
            named("second", rebuild_second),
        ]
    )

    now = revisions(OfflineManifest.objects.get(site=site))
    snapshots = stored_snapshots(site)
    for page in (first, second):
        assert snapshots[page.url] != snapshots_before[page.url]
        assert now[page.url] == snapshots[page.url] != before[page.url]
    # The first rebuild saw the second's snapshot arrive and assembled again.
    assert assemblies.count("first") == 2
    monkeypatch.undo()
    assert_matches_a_full_rebuild(site)


def test_a_render_begun_before_a_change_never_replaces_one_begun_after(
    site, trails, monkeypatch
):
    """A slow render of the section, begun before a subpage's title changed, is stored last."""
    section, pages = trails
    before = revisions(OfflineManifest.objects.get(site=site))
    slow_rendered, fast_done = threading.Event(), threading.Event()

    def slow_waits_for_fast(*args):
        if threading.current_thread().name == "slow":
            slow_rendered.set()
            assert fast_done.wait(TIMEOUT)

    after(monkeypatch, "render_page", slow_waits_for_fast)

    def fast():
        try:
            assert slow_rendered.wait(TIMEOUT)
            StandardPage.objects.filter(pk=pages[0].pk).update(title="Trail 0, closed")
            rebuild_site_manifest(site, {section.pk, pages[0].pk})
        finally:
            fast_done.set()

    run_at_once(
        [
            named("slow", lambda: rebuild_site_manifest(site, {section.pk})),
            named("fast", fast),
        ]
    )

    now = revisions(OfflineManifest.objects.get(site=site))
    assert now[section.url] != before[section.url]
    monkeypatch.undo()
    assert_matches_a_full_rebuild(site)


def test_a_page_published_during_another_rebuild_stays_in_the_manifest(
    site, trails, monkeypatch
):
    """A rebuild that began before a page was published must not drop the page's snapshot."""
    section, _ = trails
    slow_rendered, published = threading.Event(), threading.Event()

    def slow_waits_for_the_publish(*args):
        if threading.current_thread().name == "slow":
            slow_rendered.set()
            assert published.wait(TIMEOUT)

    after(monkeypatch, "render_page", slow_waits_for_the_publish)

    def publish():
        try:
            assert slow_rendered.wait(TIMEOUT)
            new = StandardPageFactory(
                parent=section, title="New trail", slug="new", live=False
            )
            new.save_revision().publish()  # Its rebuild runs here, before the slow one ends.
        finally:
            published.set()

    run_at_once(
        [
            named("slow", lambda: rebuild_site_manifest(site, {section.pk})),
            named("publisher", publish),
        ]
    )

    manifest = OfflineManifest.objects.get(site=site)
    assert "/trails/new/" in revisions(manifest)
    assert "/trails/new/" in stored_snapshots(site)
    monkeypatch.undo()
    assert_matches_a_full_rebuild(site)
