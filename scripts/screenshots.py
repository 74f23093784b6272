"""Takes the screenshots of the README, docs/admin.md and docs/readers.md from the demo sandbox.

    .venv/bin/python scripts/screenshots.py        # a fresh sandbox on a free port, stopped after
    .venv/bin/python scripts/screenshots.py URL    # a sandbox already running at URL

A fresh sandbox starts from an empty database (scripts/sandbox.sh with its own
SANDBOX_DATA_DIR), so every run shows the same demo content, its failing page included.
Chromium is Debian's (or WAGTAIL_OFFLINE_CHROMIUM), driven by Playwright.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.check_sandbox import wait_for  # noqa: E402
from tests.browser.chromium import CHROMIUM_ARGS, find_chromium  # noqa: E402

OUT = ROOT / "docs" / "images"
USERNAME, PASSWORD = "admin", "changeme"
ADMIN_VIEWPORT = {"width": 1440, "height": 900}
# What a picture of one panel keeps around it, in CSS pixels.
MARGIN = 16


def start_sandbox():
    """scripts/sandbox.sh on an empty database and a free port: (base URL, stop)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir = tempfile.mkdtemp(prefix="wagtail-offline-screenshots-")
    log = open(os.path.join(data_dir, "server.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(
        ["bash", "scripts/sandbox.sh"],
        cwd=ROOT,
        env={**os.environ, "SANDBOX_DATA_DIR": data_dir, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # A process group, so stopping it stops runserver too.
    )

    def stop():
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

    print(f"Sandbox starting on port {port} (log: {log.name})")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base, timeout=600, pid=server.pid)
    except BaseException:
        stop()
        print(Path(log.name).read_text(errors="replace"))
        raise
    return base, stop


def save(target, name, **options):
    path = OUT / name
    target.screenshot(path=str(path), **options)
    print(f"  {path.relative_to(ROOT)}")


def save_element(page, locator, name):
    """``locator`` with a margin of the page around it."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    save(
        page,
        name,
        clip={
            "x": max(box["x"] - MARGIN, 0),
            "y": max(box["y"] - MARGIN, 0),
            "width": box["width"] + 2 * MARGIN,
            "height": box["height"] + 2 * MARGIN,
        },
    )


def save_whole(page, name):
    """The whole admin page: Wagtail scrolls its content in a box of its own, which a
    full-page screenshot leaves out, so the window is made as tall as the content."""
    height = page.evaluate(
        """() => Math.max(document.documentElement.scrollHeight, ...[...document.querySelectorAll("*")]
            .filter((e) => /(auto|scroll)/.test(getComputedStyle(e).overflowY))
            .map((e) => e.scrollHeight + e.getBoundingClientRect().top))"""
    )
    page.set_viewport_size(
        {"width": ADMIN_VIEWPORT["width"], "height": min(height, 4000)}
    )
    save(page, name)
    page.set_viewport_size(ADMIN_VIEWPORT)


def page_id(page, base, slug):
    """The id of the page with ``slug``, from Wagtail's admin API."""
    return page.evaluate(
        "async (url) => (await (await fetch(url)).json()).items[0].id",
        f"{base}/admin/api/main/pages/?slug={slug}",
    )


def panel_of(page, inner):
    """The innermost admin panel holding ``inner``."""
    return page.locator("section", has=page.locator(inner)).last


def log_in(page, base):
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def admin_screens(page, base):
    page.goto(f"{base}/admin/reports/offline-pages/")
    save_whole(page, "admin-report.png")

    trails, conditions = (
        page_id(page, base, "trails"),
        page_id(page, base, "conditions"),
    )
    for pk, name in (
        (trails, "admin-editor-status.png"),
        (conditions, "admin-editor-failed.png"),
    ):
        page.goto(f"{base}/admin/pages/{pk}/edit/#tab-promote")
        panel = panel_of(page, "[data-offline-status]")
        save_element(page, panel, name)
        if pk == trails:  # The README's original picture of the options.
            save_element(page, panel, "editor-checkbox.png")

    page.goto(f"{base}/admin/pages/{trails}/")
    page.locator("[data-offline-indicator]").first.wait_for()
    for checkbox in page.locator("input[data-bulk-action-checkbox]").all()[:3]:
        checkbox.check()
    footer = page.locator("[data-bulk-action-footer]")
    footer.wait_for()
    more = footer.get_by_role("button", name="More")
    if more.count():  # Wagtail shows four bulk actions and the rest under "More".
        more.click()
    footer.get_by_text("Make available offline").wait_for()
    save(page, "admin-explorer.png")

    footer.get_by_text("Make available offline").click()
    page.wait_for_load_state()
    save(page, "admin-bulk-action.png")

    page.goto(f"{base}/admin/")
    save_element(
        page, panel_of(page, "[data-offline-dashboard]"), "admin-dashboard.png"
    )

    page.goto(f"{base}/admin/settings/wagtail_offline/offlinesettings/")
    page.locator("input[name$='-url']").first.wait_for()
    save_whole(page, "admin-settings.png")


def reader_screens(browser, base):
    reader = browser.new_page(viewport={"width": 900, "height": 820})
    reader.goto(f"{base}/trails/")
    reader.evaluate("navigator.serviceWorker.ready")
    # The worker precaches in the background: wait until the trail is in Cache Storage.
    reader.wait_for_function(
        """async () => {
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                if (await cache.match("/trails/kinder-downfall/")) return true;
            }
            return false;
        }""",
        polling=500,
        timeout=120_000,
    )
    # A trail the editors did not choose, saved by the reader.
    reader.goto(f"{base}/coming-soon/high-cup-nick/")
    reader.get_by_role("button", name="Save for offline").click()
    reader.get_by_role("button", name="Saved · Remove").wait_for(timeout=60_000)

    reader.context.set_offline(True)
    reader.goto(f"{base}/offline/")
    save(reader, "offline-listing.png")
    reader.get_by_role(
        "heading", name="This device", exact=True
    ).scroll_into_view_if_needed()
    save(reader, "reader-listing.png")
    reader.goto(f"{base}/trails/kinder-downfall/")
    save(reader, "offline-trail.png")
    reader.goto(f"{base}/coming-soon/high-cup-nick/")
    reader.get_by_text("This page was loaded from your device").wait_for()
    save(reader, "reader-saved-offline.png")

    # A report sent with no signal: kept, then sent once the network is back.
    reader.context.set_offline(False)
    reader.goto(f"{base}/report/")
    reader.context.set_offline(True)
    reader.get_by_label("Where").fill("The stile below the trig point")
    reader.get_by_label("What is wrong").fill("The top step is broken.")
    with reader.expect_navigation():
        reader.get_by_role("button", name="Send the report").click()
    reader.get_by_text("You do not need to send it again.").wait_for()
    save(reader, "reader-form-queued.png")
    reader.context.set_offline(False)
    reader.close()


def main():
    if len(sys.argv) > 1:
        base, stop = sys.argv[1].rstrip("/"), None
    else:
        base, stop = start_sandbox()
    # localhost, not 127.0.0.1: the admin's links and the sandbox's ALLOWED_HOSTS use it,
    # and a service worker registers on it over plain http.
    base = base.replace("://127.0.0.1", "://localhost")
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=find_chromium(), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport=ADMIN_VIEWPORT)
            log_in(page, base)
            admin_screens(page, base)
            reader_screens(browser, base)
            browser.close()
    finally:
        if stop:
            stop()


if __name__ == "__main__":
    main()
