"""Run every benchmark and print one table: ``python -m benchmarks [--quick] [--only GROUP]``."""

import argparse
import os
import sys
import time

SIZES = {
    "full": {
        "manifest_pages": 10_000,
        "serve_repeat": 300,
        "manifest_repeat": 30,
        "site_pages": 1_000,
        "publish_repeat": 15,
        "rebuild_repeat": 3,
        "browser_pages": 100,
        "nav_repeat": 15,
        "hang_repeat": 5,
        "save_repeat": 9,
        "discovery_repeat": 9,
        "scale_pages": (100, 1_000, 10_000),
        "concurrent_site_pages": 1_000,
        "concurrent_seconds": 5,
        "full_rebuild_pages": (1_000, 10_000),
    },
    "quick": {
        "manifest_pages": 1_000,
        "serve_repeat": 100,
        "manifest_repeat": 15,
        "site_pages": 200,
        "publish_repeat": 5,
        "rebuild_repeat": 3,
        "browser_pages": 30,
        "nav_repeat": 5,
        "hang_repeat": 3,
        "save_repeat": 5,
        "discovery_repeat": 5,
        "scale_pages": (100, 1_000),
        "concurrent_site_pages": 1_000,
        "concurrent_seconds": 2,
        "full_rebuild_pages": (100, 1_000),
    },
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sites, fewer repeats"
    )
    parser.add_argument(
        "--only",
        choices=["server", "browser", "discovery", "scale"],
        help="run one group: server (issue #3), browser (issues #4 and #10: the "
        "reader's tools) or discovery "
        "(URLs in hostile CSS and HTML) or scale (issue #11: one publish at 100, "
        "1,000 and 10,000 pages)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

    import django

    django.setup()

    from . import sites
    from .report import print_table

    sizes = SIZES["quick" if args.quick else "full"]
    started = time.perf_counter()
    results = []
    # (name, module, whether it needs the database)
    groups = [
        ("server", "benchmarks.server", True),
        ("browser", "benchmarks.browser", True),
        ("discovery", "benchmarks.discovery", False),
        ("scale", "benchmarks.scale", True),
    ]
    groups = [group for group in groups if not args.only or args.only == group[0]]
    if any(needs_database for _, _, needs_database in groups):
        sites.migrate()
    for name, module_name, _ in groups:
        group_started = time.perf_counter()
        module = __import__(module_name, fromlist=["run"])
        results += module.run(sizes)
        print(
            f"[{name}] done in {time.perf_counter() - group_started:.0f} s",
            flush=True,
        )
    mode = "quick" if args.quick else "full"
    print_table(
        results,
        f"wagtail-offline benchmarks ({mode} run, "
        f"{time.perf_counter() - started:.0f} s in all)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
