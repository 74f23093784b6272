"""Takes the README's screenshots from a running sandbox: `python scripts/screenshots.py [URL]`."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-sync",
]


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=ARGS
        )
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto(f"{BASE}/admin/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "changeme")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{BASE}/admin/pages/")
        trails_id = page.evaluate(
            "fetch('/admin/api/main/pages/?slug=trails').then(r => r.json()).then(d => d.items[0].id)"
        )
        page.goto(f"{BASE}/admin/pages/{trails_id}/edit/#tab-promote")
        field = page.locator("#id_offline_available").locator(
            "xpath=ancestor::section[1]"
        )
        field.scroll_into_view_if_needed()
        field.screenshot(path=str(OUT / "editor-checkbox.png"))

        reader = browser.new_page(viewport={"width": 900, "height": 820})
        reader.goto(f"{BASE}/trails/")
        reader.evaluate("navigator.serviceWorker.ready")
        reader.context.set_offline(True)
        reader.goto(f"{BASE}/offline/")
        reader.screenshot(path=str(OUT / "offline-listing.png"))
        reader.goto(f"{BASE}/trails/kinder-downfall/")
        reader.screenshot(path=str(OUT / "offline-trail.png"))
        browser.close()


if __name__ == "__main__":
    main()
