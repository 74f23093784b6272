"""Builds the sdist and the wheel, runs ``twine check`` and checks what the wheel ships.

``python scripts/check_package.py [OUTDIR]``: the files stay in OUTDIR (default: a
temporary folder that is removed).
"""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Without any of these the installed plugin breaks at run time, though it imports.
REQUIRED = [
    "wagtail_offline/templates/wagtail_offline/sw.js",
    "wagtail_offline/templates/wagtail_offline/listing.html",
    "wagtail_offline/templates/wagtail_offline/fallback.html",
    "wagtail_offline/templates/wagtail_offline/head.html",
    "wagtail_offline/static/wagtail_offline/register.js",
    "wagtail_offline/static/wagtail_offline/offline.css",
    "wagtail_offline/worker/service_worker.js",
    "wagtail_offline/migrations/0001_initial.py",
]


def check(outdir):
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    built = sorted(outdir.iterdir())
    subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, built)],
        check=True,
    )
    wheel = next(path for path in built if path.suffix == ".whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = sorted((ROOT / "wagtail_offline" / "migrations").glob("[0-9]*.py"))
    required = REQUIRED + [
        f"wagtail_offline/migrations/{path.name}" for path in migrations
    ]
    missing = [name for name in required if name not in names]
    stray = [
        name for name in names if name.startswith(("tests/", "sandbox/", "benchmarks/"))
    ]
    if missing or stray:
        sys.exit(f"{wheel.name}: missing {missing}, should not ship {stray}")
    print(
        f"{', '.join(path.name for path in built)}: twine check passed; the wheel holds "
        f"{len(names)} files, templates, static files, the worker and "
        f"{len(migrations)} migrations among them."
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        check(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as outdir:
            check(Path(outdir))
