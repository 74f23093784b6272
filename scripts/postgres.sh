#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: a cluster in a temp dir on a free port of 127.0.0.1.
#
#   eval "$(bash scripts/postgres.sh start)"   # exports WAGTAIL_OFFLINE_TEST_POSTGRES (the URL),
#                                              # WAGTAIL_OFFLINE_POSTGRES_DIR and ..._PID
#   bash scripts/postgres.sh stop "$WAGTAIL_OFFLINE_POSTGRES_DIR"   # stops it, deletes the dir
#   bash scripts/postgres.sh run bash scripts/test.sh            # start, run a command, stop
#
# Installs Debian's postgresql when it is missing and we are root. As root the cluster belongs to
# the `postgres` user (PostgreSQL refuses to run as root); otherwise to the current user.
# Only `start` writes to stdout (the export lines); progress goes to stderr.
set -euo pipefail

MARKER=.wagtail-offline-postgres
DB_NAME=wagtail_offline

say() { echo "postgres.sh: $*" >&2; }

pg_bindir() {
    if [ -n "${WAGTAIL_OFFLINE_PG_BIN:-}" ]; then
        echo "$WAGTAIL_OFFLINE_PG_BIN"
        return
    fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then
        echo "$newest"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

ensure_installed() {
    if [ -n "$(pg_bindir)" ]; then
        return
    fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's postgresql..."
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    if [ -z "$(pg_bindir)" ]; then
        say "PostgreSQL is not installed (no initdb); install it or set WAGTAIL_OFFLINE_PG_BIN."
        exit 1
    fi
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    ensure_installed
    local bin dir port attempt
    bin=$(pg_bindir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/wagtail-offline-pg.XXXXXX")
    touch "$dir/$MARKER"
    if [ "$(id -u)" = "0" ]; then
        chown postgres "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # A free port can be taken between finding it and binding it: try a few.
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            >/dev/null; then
            break
        fi
        if [ "$attempt" = 5 ]; then
            cat "$dir/log" >&2
            exit 1
        fi
    done
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME"
    local pid
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $pid, dir $dir)"
    echo "export WAGTAIL_OFFLINE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$port/$DB_NAME"
    echo "export WAGTAIL_OFFLINE_POSTGRES_DIR=$dir"
    echo "export WAGTAIL_OFFLINE_POSTGRES_PID=$pid"
}

stop() {
    local dir=${1:-${WAGTAIL_OFFLINE_POSTGRES_DIR:-}}
    if [ -z "$dir" ]; then
        say "usage: postgres.sh stop DIR (or set WAGTAIL_OFFLINE_POSTGRES_DIR)"
        exit 2
    fi
    if [ ! -f "$dir/$MARKER" ]; then
        say "$dir is not a cluster started by this script; leaving it alone."
        exit 1
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        local bin pid
        bin=$(pg_bindir)
        pid=$(head -n 1 "$dir/data/postmaster.pid")
        if ! as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 30 stop -m fast >/dev/null 2>&1; then
            # pg_ctl could not stop it: end the postmaster by its own pid.
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
    say "stopped and removed $dir"
}

run() {
    if [ "$#" = 0 ]; then
        say "usage: postgres.sh run COMMAND [ARGS...]"
        exit 2
    fi
    local exports
    exports=$(start)
    eval "$exports"
    trap 'stop "$WAGTAIL_OFFLINE_POSTGRES_DIR"' EXIT
    "$@"
}

command=${1:-}
shift || true
case "$command" in
start) start ;;
stop) stop "$@" ;;
run) run "$@" ;;
*)
    say "usage: postgres.sh start | stop DIR | run COMMAND [ARGS...]"
    exit 2
    ;;
esac
