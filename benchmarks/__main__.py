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
    },
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sites, fewer repeats"
    )
    parser.add_argument(
        "--only",
        choices=["server", "browser"],
        help="run one group: server (issue #3) or browser (issue #4)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

    import django

    django.setup()

    from . import sites
    from .report import print_table

    sizes = SIZES["quick" if args.quick else "full"]
    started = time.perf_counter()
    sites.migrate()
    results = []
    groups = [("server", "benchmarks.server"), ("browser", "benchmarks.browser")]
    for name, module_name in groups:
        if args.only and args.only != name:
            continue
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
