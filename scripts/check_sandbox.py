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
    _, manifest = get(base + match.group(1))
    entries = {entry["url"]: entry for entry in json.loads(manifest)["entries"]}
    pages = sorted(url for url, entry in entries.items() if entry["kind"] == "page")
    print(f"  manifest {match.group(1)}: {len(pages)} pages, {len(entries)} entries")
    if FLAGGED_TRAIL not in pages:
        sys.exit(f"The flagged trail {FLAGGED_TRAIL} is not in the manifest: {pages}")
    if PRIVATE_PAGE in entries:
        sys.exit(f"The password-protected {PRIVATE_PAGE} is in the manifest.")
    print("The sandbox answers as the README says.")


if __name__ == "__main__":
    main()
