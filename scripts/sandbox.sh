#!/usr/bin/env bash
# The demo trail guide on SQLite at http://localhost:8000, set up from scratch.
# PORT=... to change the port; HOST=0.0.0.0 to let other machines in (its admin password
# is public: it is printed below and in the README); SANDBOX_DATA_DIR=... for the
# database and media (default: sandbox/).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
HOST="${HOST:-127.0.0.1}"
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
exec ../.venv/bin/python manage.py runserver --noreload "${HOST}:${PORT}"
