#!/usr/bin/env bash
# Every benchmark, one table: `bash benchmarks/run.sh [--quick] [--only server|browser|discovery]`.
set -euo pipefail
cd "$(dirname "$0")/.."

WAGTAIL_OFFLINE_BENCH_DIR="$(mktemp -d -t wagtail-offline-bench-XXXXXX)"
export WAGTAIL_OFFLINE_BENCH_DIR
trap 'rm -rf "$WAGTAIL_OFFLINE_BENCH_DIR"' EXIT

export DJANGO_SETTINGS_MODULE=benchmarks.settings
export PYTHONDONTWRITEBYTECODE=1
.venv/bin/python -m benchmarks "$@"
