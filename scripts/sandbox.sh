#!/usr/bin/env bash
# The demo trail guide on SQLite at http://localhost:8000 (PORT=... to change), set up from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
PORT="${PORT:-8000}"
cd sandbox
../.venv/bin/python manage.py migrate --noinput -v 0
../.venv/bin/python manage.py load_demo_content

cat <<BANNER

  Fell Trails, the wagtail-offline demo, is running at http://localhost:${PORT}/
  Wagtail admin:   http://localhost:${PORT}/admin/   login: admin / changeme
  Offline listing: http://localhost:${PORT}/offline/
  Try it: open a trail, then turn the network off in your browser's developer tools.

BANNER
exec ../.venv/bin/python manage.py runserver "0.0.0.0:${PORT}"
