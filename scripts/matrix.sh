#!/usr/bin/env bash
# Cells of the support matrix in tox.ini: `bash scripts/matrix.sh` runs them all, or name some:
# `bash scripts/matrix.sh py310-wagtail74-django52 py313-wagtail80-django61`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
# pyenv keeps each Python apart: put every 3.10-3.13 it has on the PATH for tox to find.
if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare | grep -E '^3\.1[0-3]\.[0-9]+$' | sort -V); do
        PATH="$(pyenv root)/versions/$version/bin:$PATH"
    done
    export PATH
fi
# TOX_PARALLEL=2 runs two cells at a time (installs overlap with tests).
mode=(run)
if [ -n "${TOX_PARALLEL:-}" ]; then
    mode=(run-parallel -p "$TOX_PARALLEL" --parallel-no-spinner)
fi
if [ "$#" -eq 0 ]; then
    exec .venv/bin/tox "${mode[@]}"
fi
exec .venv/bin/tox "${mode[@]}" -e "$(IFS=,; echo "$*")"
