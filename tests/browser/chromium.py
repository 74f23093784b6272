"""How the browser tests and the benchmarks start Chromium: Debian's, never a downloaded one."""

import os
import shutil

# Without the background-networking switches Chromium keeps trying hosts this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def find_chromium():
    candidates = [os.environ.get("WAGTAIL_OFFLINE_CHROMIUM")]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    candidates.append("/usr/bin/chromium")
    return next((path for path in candidates if path and os.path.exists(path)), None)
