"""Waits until a running sandbox answers as the README promises; exits non-zero if it does not.

``python scripts/check_sandbox.py http://127.0.0.1:PORT [--timeout SECONDS] [--pid PID]``
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

PAGES = ["/", "/sw.js", "/offline/", "/admin/login/"]
FLAGGED_TRAIL = "/trails/blackstone-edge/"
PRIVATE_PAGE = "/trails/ranger-notes/"
REPORT_FORM = "/report/"
# What the plugin's template tags render in the demo's pages.
SAVE_BUTTON = "data-wagtail-offline-save="
STATUS_REGION = "data-wagtail-offline-status"
APP_MANIFEST = "/offline/app.webmanifest"
APP_SHORT_NAME = "Fell Trails"


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


def wait_for(base, timeout, pid):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(base + "/")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            if pid and not os.path.exists(f"/proc/{pid}"):
                sys.exit(f"The sandbox stopped before it answered ({error}).")
            if time.monotonic() > deadline:
                sys.exit(f"The sandbox did not answer within {timeout} s ({error}).")
            time.sleep(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--pid", type=int)
    args = parser.parse_args()
    base = args.base.rstrip("/")

    wait_for(base, args.timeout, args.pid)
    for path in PAGES:
        status, _ = get(base + path)
        print(f"  {path}: {status}")
        if status != 200:
            sys.exit(f"{path} answered {status}, not 200.")

    _, worker = get(base + "/sw.js")
    match = re.search(r'"manifestUrl": "([^"]+)"', worker)
    if not match:
        sys.exit("/sw.js names no manifest: the demo's manifest was not built.")
    _, root = get(base + match.group(1))
    # The root leads to indexes, which lead to the parts that hold the entries.
    entries = {entry["url"]: entry for entry in manifest_entries(base, root)}
    pages = sorted(url for url, entry in entries.items() if entry["kind"] == "page")
    print(f"  manifest {match.group(1)}: {len(pages)} pages, {len(entries)} entries")
    if FLAGGED_TRAIL not in pages:
        sys.exit(f"The flagged trail {FLAGGED_TRAIL} is not in the manifest: {pages}")
    if PRIVATE_PAGE in entries:
        sys.exit(f"The password-protected {PRIVATE_PAGE} is in the manifest.")
    check_reader_features(base, entries)
    print("The sandbox answers as the README says.")


def manifest_entries(base, root):
    """The entries of the parts that a manifest's root leads to, read as a worker does."""

    def read(url):
        status, body = get(base + url)
        if status != 200:
            sys.exit(f"{url}, named by the manifest, answered {status}.")
        return json.loads(body)

    indexes = [read(url) for url in json.loads(root)["indexes"]]
    return [
        entry
        for index in indexes
        for url in index["parts"]
        for entry in read(url)["entries"]
    ]


def check_reader_features(base, entries):
    """The save button on a trail, the status region, the report form saved for offline,
    the home-screen app's manifest with its icons."""
    _, trail = get(base + FLAGGED_TRAIL)
    if SAVE_BUTTON not in trail:
        sys.exit(f"{FLAGGED_TRAIL} has no “Save for offline” button ({SAVE_BUTTON}).")
    if STATUS_REGION not in trail:
        sys.exit(f"{FLAGGED_TRAIL} has no offline status region ({STATUS_REGION}).")
    status, form = get(base + REPORT_FORM)
    fields = re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', form)
    print(f"  {REPORT_FORM}: {status}, fields {', '.join(fields)}")
    if not re.search(r'<form[^>]*method="post"', form) or len(fields) < 5:
        sys.exit(f"{REPORT_FORM} shows no report form: fields {fields}")
    report_entry = entries.get(REPORT_FORM)
    if not report_entry or report_entry["kind"] != "page":
        sys.exit(f"The report form {REPORT_FORM} is not saved for offline reading.")
    if not report_entry.get("formSubmitUrl"):
        sys.exit(
            f"The report form {REPORT_FORM} does not keep submissions sent offline "
            "(no formSubmitUrl in the manifest)."
        )
    _, app = get(base + APP_MANIFEST)
    app = json.loads(app)
    sizes = [icon.get("sizes") for icon in app.get("icons", [])]
    print(f"  {APP_MANIFEST}: {app.get('short_name')!r}, icons {', '.join(sizes)}")
    if app.get("short_name") != APP_SHORT_NAME or "512x512" not in sizes:
        sys.exit(f"{APP_MANIFEST} lacks the demo's app name or a 512 px icon: {app}")


if __name__ == "__main__":
    main()
