#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs, lints, checks migrations, runs pytest.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/test_views.py -k worker`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

# Debian's packages for the real parts: Chromium for the browser tests (never a downloaded
# browser build) and redis-server for the app-process tests.
missing=()
if ! command -v chromium >/dev/null 2>&1 && [ -z "${WAGTAIL_OFFLINE_CHROMIUM:-}" ]; then
    missing+=(chromium)
fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian's ${missing[*]} for the tests..."
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "Not installed: ${missing[*]}. Those tests fail under CI=true and skip otherwise." >&2
    fi
fi

echo "== ruff"
.venv/bin/ruff check wagtail_offline tests sandbox benchmarks scripts
.venv/bin/ruff format --check wagtail_offline tests sandbox benchmarks scripts

echo "== migrations"
DJANGO_SETTINGS_MODULE=tests.settings .venv/bin/python -m django makemigrations --check --dry-run
(cd sandbox && ../.venv/bin/python manage.py makemigrations --check --dry-run)

echo "== pytest"
# Two workers: the 2-core CI machine, and at most two browsers at a time.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
