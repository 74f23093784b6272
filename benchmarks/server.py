"""Issue #3: what the plugin costs the server."""

import io
import os
import sys
import time
import weakref
from contextlib import contextmanager
from itertools import count
from statistics import median
from unittest import mock

from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.db.models import signals as model_signals
from django.dispatch import Signal
from django.test import Client
from django.urls import reverse
from django_tasks import default_task_backend
from wagtail import signals as wagtail_signals

from wagtail_offline import manifest_store, rendering
from wagtail_offline.manifest import (
    fallback_url,
    rebuild_site_manifest,
    render_html,
    revision_of,
    site_relative_url,
)
from wagtail_offline.models import OfflinePageSnapshot
from wagtail_offline.selection import offline_pages

from . import sites
from .report import Result, interleaved_medians, milliseconds, ratio_result


def run(sizes):
    results = serving(
        sizes["manifest_pages"], sizes["serve_repeat"], sizes["manifest_repeat"]
    )
    results += publishing_and_rebuilding(
        sizes["site_pages"], sizes["publish_repeat"], sizes["rebuild_repeat"]
    )
    return results


# ---------- /sw.js and the manifest against a static file of the same bytes ----------


def serving(page_count, repeat, manifest_repeat):
    sites.reset_database()
    site, home, sections, _ = sites.build_site(page_count)
    layout_note = sites.make_selectable(site, home, sections)
    started = time.perf_counter()
    pages = list(offline_pages(site))
    _snapshots_without_rendering(site, pages)
    manifest = rebuild_site_manifest(site, page_ids=set())
    setup_note = (
        f"set-up: {len(pages)} offline pages bulk-inserted; one page rendered for real "
        "and its size and assets reused for stored snapshots of the others; "
        "rebuild_site_manifest(site, page_ids=set()) then rendered only the fallback "
        f"and the listing and assembled {manifest_store.entry_count(manifest)} entries "
        f"in {time.perf_counter() - started:.1f} s."
    )

    handler = WSGIHandler()
    manifest_url = reverse("wagtail_offline:manifest", args=[manifest.version])
    os.makedirs(settings.BENCH_STATIC_ROOT, exist_ok=True)
    results = []
    for name, url, static_name, rounds in (
        ("#3 /sw.js vs static file", "/sw.js", "sw.js", repeat),
        (
            f"#3 manifest JSON ({page_count:,} pages) vs static",
            manifest_url,
            "manifest.json",
            manifest_repeat,
        ),
    ):
        status, body = wsgi_get(handler, url)
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")
        with open(os.path.join(settings.BENCH_STATIC_ROOT, static_name), "wb") as f:
            f.write(body)
        static_url = f"/bench-static/{static_name}"
        if wsgi_get(handler, static_url) != (200, body):
            raise RuntimeError(f"{static_url} does not serve the same bytes as {url}")
        plugin, static = interleaved_medians(
            [
                lambda u=url: wsgi_get(handler, u),
                lambda u=static_url: wsgi_get(handler, u),
            ],
            rounds,
            warmup=3,
        )
        result = ratio_result(
            name,
            plugin,
            static,
            1.5,
            f"median per request over {rounds} WSGI calls (full middleware): "
            f"plugin {milliseconds(plugin)}, django.views.static.serve of the same "
            f"{len(body):,} bytes {milliseconds(static)}.",
        )
        results.append(result)
    results[0].notes.append(setup_note)
    if layout_note:
        results[0].notes.append(layout_note)
    return results


def _snapshots_without_rendering(site, pages):
    """Stored snapshots for every page, as a full render would leave them."""
    sample = pages[-1]
    url = site_relative_url(sample, site)
    rendered = render_html(rendering.AnonymousClient(site), url)
    store_snapshots_like(site, pages, rendered)


def store_snapshots_like(site, pages, rendered, own_assets=None):
    """Snapshots of ``pages`` with the size and assets of ``rendered``, and each page's
    ``own_assets[page.pk]`` besides."""
    own_assets = own_assets or {}
    OfflinePageSnapshot.objects.filter(site=site).delete()
    OfflinePageSnapshot.objects.bulk_create(
        [
            OfflinePageSnapshot(
                site=site,
                page_id=page.pk,
                url=site_relative_url(page, site),
                revision=revision_of(f"{page.pk}:{rendered.revision}".encode()),
                size=rendered.size,
                asset_urls=[*rendered.asset_urls, *own_assets.get(page.pk, ())],
            )
            for page in pages
        ],
        batch_size=1000,
    )


def wsgi_get(handler, path):
    """(status, body) of a GET through Django's WSGI handler and all its middleware."""
    status = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    iterable = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return int(status[0].split()[0]), body


# ---------- Publishing and rebuilding on a site of 1,000 offline pages ----------


def publishing_and_rebuilding(page_count, publish_repeat, rebuild_repeat):
    sites.reset_database()
    site, home, sections, leaves = sites.build_site(page_count)
    layout_note = sites.make_selectable(site, home, sections)
    pages = list(offline_pages(site))
    urls = [site_relative_url(page, site) for page in pages]
    results = [rebuilding(site, urls, rebuild_repeat)]
    results += publishing(site, leaves[len(leaves) // 2], publish_repeat)
    if layout_note:
        results[0].notes.append(layout_note)
    return results


def rebuilding(site, urls, repeat):
    client = Client(SERVER_NAME="localhost")

    def render_alone():
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")

    manifests = []
    rebuild, alone = interleaved_medians(
        [lambda: manifests.append(rebuild_site_manifest(site)), render_alone],
        repeat,
    )
    manifest = manifests[-1]
    pages_in_manifest = manifest_store.size_by_kind(manifest).get("page", (0, 0))[0]
    result = ratio_result(
        f"#3 full rebuild ({len(urls):,} pages) vs rendering them",
        rebuild,
        alone,
        1.2,
        f"median of {repeat} runs (after one warm-up): rebuild_site_manifest(site) "
        f"{rebuild:.2f} s, test-Client GET of the same {len(urls)} page URLs "
        f"{alone:.2f} s; the manifest holds {pages_in_manifest} pages and "
        f"{manifest_store.entry_count(manifest) - pages_in_manifest} other entries, "
        f"{len(manifest.problems)} problems.",
    )
    return result


def publishing(site, target, repeat):
    User = get_user_model()
    admin = User.objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client(SERVER_NAME="localhost")
    client.force_login(admin)
    edit_url = reverse("wagtailadmin_pages:edit", args=[target.pk])
    form = form_fields(client.get(edit_url).content)
    numbers = count()

    def publish(plugin):
        data = {**form, "title": [f"{target.title} ({next(numbers)})"]}
        data["action-publish"] = ["action-publish"]
        default_task_backend.clear()
        with plugin_receivers(connected=plugin):
            start = time.perf_counter()
            response = client.post(edit_url, data)
            elapsed = time.perf_counter() - start
        if response.status_code != 302:
            raise RuntimeError(
                f"Publishing answered {response.status_code}, not a redirect: "
                f"{_form_errors(response.content)}"
            )
        if bool(_plugin_results()) != plugin:
            raise RuntimeError(
                f"Plugin connected={plugin}, yet tasks: {_plugin_results()}"
            )
        return elapsed

    for plugin in (True, False):  # warm-up
        publish(plugin)
    samples = {True: [], False: []}
    for _ in range(repeat):
        for plugin in (True, False):
            samples[plugin].append(publish(plugin))
    with_plugin, without = median(samples[True]), median(samples[False])
    publish_result = ratio_result(
        "#3 publish request, plugin vs without",
        with_plugin,
        without,
        1.3,
        f"median of {repeat} admin edit POSTs with action-publish each (alternating): "
        f"{milliseconds(with_plugin)} with the plugin's signal receivers, "
        f"{milliseconds(without)} with them disconnected; tasks only enqueued "
        "(django_tasks DummyBackend).",
    )

    default_task_backend.clear()
    publish(True)
    rendered = []
    original_get = rendering.AnonymousClient.get

    def counting_get(self, url):
        rendered.append(url)
        return original_get(self, url)

    with mock.patch.object(rendering.AnonymousClient, "get", counting_get):
        started = time.perf_counter()
        enqueued = run_plugin_tasks()
        duration = time.perf_counter() - started
    static_prefixes = tuple(p for p in (settings.STATIC_URL, settings.MEDIA_URL) if p)
    page_renders = [url for url in rendered if not url.startswith(static_prefixes)]
    expected = _affected_urls(site, target)
    unexpected = sorted(set(page_renders) - expected)
    passed = (
        enqueued > 0
        and not unexpected
        and site_relative_url(target, site) in page_renders
    )
    renders_result = Result(
        name="#3 pages re-rendered after one publish",
        value=f"{len(page_renders)} pages",
        goal=f"only affected ({len(expected)})",
        passed=passed,
        notes=[
            f"{enqueued} plugin task(s) enqueued, run in {duration:.2f} s; "
            f"rendered: {', '.join(page_renders) or 'nothing'}; "
            f"affected: the page, its offline ancestors, the fallback, the queued-form "
            f"page and the listing when what it shows changed "
            f"({', '.join(sorted(expected))})"
            + (f"; NOT affected: {', '.join(unexpected)}" if unexpected else "")
        ],
    )
    return [publish_result, renders_result]


def run_plugin_tasks():
    """Run the plugin's enqueued tasks as a task worker would; returns how many ran."""
    results = _plugin_results()
    default_task_backend.clear()
    for result in results:
        result.task.call(*result.args, **result.kwargs)
    return len(results)


def _plugin_results():
    return [
        result
        for result in default_task_backend.results
        if result.task.module_path.startswith("wagtail_offline")
    ]


def _affected_urls(site, page):
    offline_ids = set(offline_pages(site).values_list("pk", flat=True))
    ancestors = [
        ancestor
        for ancestor in page.get_ancestors(inclusive=True)
        if ancestor.pk in offline_ids
    ]
    urls = {site_relative_url(ancestor, site) for ancestor in ancestors}
    # The plugin's own pages: the fallback and the page shown after a form is queued
    # offline are rendered by every build (they are small), the listing when its key says
    # that what it shows changed.
    return urls | {
        reverse("wagtail_offline:listing"),
        fallback_url(site),
        reverse("wagtail_offline:queued"),
    }


def form_fields(html):
    """What a browser would send for the page editor's form, as {name: [values]}."""
    form = BeautifulSoup(html, "html.parser").find("form", attrs={"method": "POST"})
    data = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        kind = (element.get("type") or "text").lower()
        if (
            not name
            or element.has_attr("disabled")
            or kind in ("submit", "button", "file")
        ):
            continue
        if kind in ("checkbox", "radio") and not element.has_attr("checked"):
            continue
        if element.name == "select":
            chosen = (
                element.find_all("option", selected=True)
                or element.find_all("option")[:1]
            )
            values = [option.get("value", option.get_text()) for option in chosen]
        elif element.name == "textarea":
            values = [element.get_text()]
        else:
            values = [element.get("value", "on" if kind == "checkbox" else "")]
        data.setdefault(name, []).extend(values)
    return data


def _form_errors(html):
    soup = BeautifulSoup(html, "html.parser")
    errors = [
        e.get_text(" ", strip=True)
        for e in soup.select(".error-message, .help-critical")
    ]
    return "; ".join(errors)[:500] or "no error message found"


# ---------- Switching the plugin's signal receivers off ----------


def _signals():
    for module in (model_signals, wagtail_signals):
        for value in vars(module).values():
            if isinstance(value, Signal):
                yield value


def _is_plugin_receiver(entry):
    receiver = entry[1]
    if isinstance(receiver, weakref.ReferenceType):
        receiver = receiver()
    return getattr(receiver, "__module__", "").startswith("wagtail_offline")


@contextmanager
def plugin_receivers(connected):
    """With ``connected=False``, the site behaves as if the plugin never connected a receiver."""
    if connected:
        yield
        return
    saved = {}
    for signal in _signals():
        with signal.lock:
            saved[signal] = signal.receivers
            signal.receivers = [
                e for e in signal.receivers if not _is_plugin_receiver(e)
            ]
            signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for signal, receivers in saved.items():
            with signal.lock:
                signal.receivers = receivers
                signal.sender_receivers_cache.clear()
