#!/usr/bin/env bash
# The README's first command as a new user meets it: an empty database, a free port. Starts
# scripts/sandbox.sh, checks that it answers (scripts/check_sandbox.py), stops it; on any
# failure prints the server's log.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$(mktemp -d -t wagtail-offline-sandbox-XXXXXX)"
log="$data_dir/server.log"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# A process group of its own, so that stopping it stops runserver and anything it started.
SANDBOX_DATA_DIR="$data_dir" PORT="$port" setsid bash scripts/sandbox.sh >"$log" 2>&1 &
server_pid=$!
stop() {
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    rm -rf "$data_dir"
}
trap stop EXIT

echo "Sandbox starting on port $port (log: $log)"
if ! python3 scripts/check_sandbox.py "http://127.0.0.1:$port" --pid "$server_pid"; then
    echo "---- the sandbox's log ----"
    cat "$log"
    echo "---------------------------"
    exit 1
fi
grep -E "login: admin / changeme" "$log" >/dev/null || {
    echo "The sandbox did not print its admin login:"; cat "$log"; exit 1; }
