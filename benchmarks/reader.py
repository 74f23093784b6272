"""Issue #10: what the reader's tools weigh, and how long saving one page takes."""

import gzip
import statistics
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import Client, RequestFactory
from wagtail_factories import ImageFactory

from tests.testapp.models import StandardPage
from wagtail_offline.manifest import site_relative_url
from wagtail_offline.views import worker_code

from . import sites
from .report import Result
from .server import run_plugin_tasks

# The reader's files, as the plugin ships them.
STATIC_PIECES = [
    ("register.js", "wagtail_offline/register.js"),
    ("reader.js", "wagtail_offline/reader.js"),
    ("reader.css", "wagtail_offline/reader.css"),
]
TAGS = [
    ("{% offline_status %} markup", "{% load wagtail_offline %}{% offline_status %}"),
    (
        "{% offline_save_button %} markup",
        "{% load wagtail_offline %}{% offline_save_button %}",
    ),
]

# The page sends the worker the reader's "Save for offline" and waits for its answer.
TIMED_SAVE = """async (url) => {
    const worker = navigator.serviceWorker.controller;
    const channel = new MessageChannel();
    const started = performance.now();
    const answer = await new Promise((resolve) => {
        channel.port1.onmessage = (event) => resolve(event.data);
        worker.postMessage({ type: "wagtail-offline:save", url }, [channel.port2]);
    });
    return { answer, ms: performance.now() - started };
}"""

SAVE_ROW = "#10 save one page with its assets"


def piece_sizes(page):
    """A row per piece: its bytes gzipped (-9), as a reader's browser would receive it."""
    bodies = [
        (name, Path(finders.find(path)).read_bytes(), f"static file {path}")
        for name, path in STATIC_PIECES
    ]
    bodies.append(
        (
            "service_worker.js",
            worker_code()[0],
            "the worker's code as served (without its comment lines), without the "
            "site's configuration (/sw.js)",
        )
    )
    request = RequestFactory(HTTP_HOST="localhost").get(page.url)
    for name, source in TAGS:
        markup = Template(source).render(Context({"request": request, "page": page}))
        if not markup.strip():
            raise RuntimeError(f"{name} rendered nothing on {page.url}")
        bodies.append((name, markup.encode(), f"as rendered on {page.url}"))
    return [
        Result(
            name=f"#10 {name}, gzip -9",
            value=f"{len(gzip.compress(body, compresslevel=9)):,} B",
            goal="stated",
            passed=None,
            notes=[f"{what}: {len(body):,} bytes, {_gzipped(body):,} gzipped."],
        )
        for name, body, what in bodies
    ]


def _gzipped(body):
    return len(gzip.compress(body, compresslevel=9))


def pages_to_save(site, home, count):
    """``count`` pages no editor flagged, each with a photo of its own, rendered for readers.

    The server's render is done before the timing (the first ask enqueues it, a task
    worker runs it), so the row measures the reader's side: the ask, the downloads, the
    bookkeeping.
    """
    parent = home.add_child(
        instance=StandardPage(title="Not flagged", slug="not-flagged", body=sites.BODY)
    )
    pages = []
    for number in range(count):
        page = parent.add_child(
            instance=StandardPage(
                title=f"Saved by a reader {number}",
                slug=f"saved-{number}",
                body=sites.BODY,
                image=ImageFactory(),
            )
        )
        page.save_revision().publish()
        pages.append(page)
    run_plugin_tasks()
    urls = [site_relative_url(page, site) for page in pages]
    client = Client(SERVER_NAME="localhost")
    query = {"url": urls}
    client.get("/offline/pages/", query)  # Enqueues the renders.
    run_plugin_tasks()
    answers = client.get("/offline/pages/", query).json()["pages"]
    not_ready = [a["url"] for a in answers if a["state"] != "ready"]
    if not_ready:
        raise RuntimeError(f"Not rendered for readers: {not_ready} ({answers})")
    return answers


def save_time(page, answers, precached_urls):
    """Median time from the save message to the worker's answer, one fresh page a run.

    ``precached_urls``: what the editors' manifest holds, which the worker does not fetch again.
    """
    samples = []
    for answer in answers:
        result = page.evaluate(TIMED_SAVE, answer["url"])
        if result["answer"].get("state") != "saved":
            raise RuntimeError(f"Saving {answer['url']}: {result['answer']}")
        samples.append(result["ms"])
    entries = answers[0]["entries"]
    held = [entry for entry in entries if entry["url"] in precached_urls]
    fetched = [entry for entry in entries if entry["url"] not in precached_urls]
    return Result(
        name=SAVE_ROW,
        value=f"{statistics.median(samples):.0f} ms",
        goal="stated",
        passed=None,
        notes=[
            f"median of {len(samples)} saves, each of another page, from the page's "
            "wagtail-offline:save message to the worker's answer (state saved): "
            f"{', '.join(f'{ms:.0f}' for ms in samples)} ms.",
            f"the first page: {len(entries)} entries, {len(held)} of them already on "
            f"the device from the editors' precache; {len(fetched)} downloaded "
            f"({_total(fetched):,} B: {', '.join(_short(e) for e in fetched)}). The "
            "server's render of each page was done before (/offline/pages/ answered "
            "ready).",
        ],
    )


def _total(entries):
    return sum(entry.get("size") or 0 for entry in entries)


def _short(entry):
    return f"{entry['kind']} {entry['url']}"
