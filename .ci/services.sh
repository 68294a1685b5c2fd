#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the test suite, on free loopback ports.
#
#   bash .ci/services.sh start [STATE_FILE]   # prints STATE_FILE; `source` it afterwards
#   bash .ci/services.sh stop  [STATE_FILE]   # stops exactly what `start` started
#
# STATE_FILE (default: $TMPDIR/kalshi-core-services.env) holds the exported URLs
# (KALSHI_TEST_POSTGRES_URL, KALSHI_TEST_REDIS_URL) and, for `stop`, the data directory and
# ports of what was started. Nothing here ever listens on anything but 127.0.0.1.
set -euo pipefail

STATE_FILE="${2:-${TMPDIR:-/tmp}/kalshi-core-services.env}"

log() { echo "services.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
    local missing=()
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v promtool >/dev/null || missing+=(prometheus)  # deploy/ rules check, a real scrape
    # tox -e e2e: a Docker engine of its own, a debootstrapped base image, `docker-compose config`.
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v docker-compose >/dev/null || missing+=(docker-compose)
    # tox -e e2e: the dashboard's browser test drives Debian's chromium (Playwright, no download).
    command -v chromium >/dev/null || missing+=(chromium)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update -qq >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

pg_bin_dir() {
    # The newest installed major version.
    find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -n 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the PostgreSQL owner: the `postgres` user when we are root (PostgreSQL
# refuses to run as root), otherwise ourselves.
as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

start_postgres() {
    local bin port dir
    bin="$(pg_bin_dir)"
    port="$(free_port)"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/kalshi-pg.XXXXXX")"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    as_pg_owner "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --no-sync" >/dev/null
    as_pg_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w \
        -o \"-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off\" start" >/dev/null
    as_pg_owner "'$bin/psql' -q -h 127.0.0.1 -p $port -U postgres -d postgres \
        -c 'CREATE DATABASE kalshi_test'" >/dev/null
    PG_BIN="$bin" PG_PORT="$port" PG_DIR="$dir"
    log "PostgreSQL on 127.0.0.1:$port (data in $dir)"
}

start_redis() {
    local port
    port="$(free_port)"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --logfile "${PG_DIR}/redis.log" >/dev/null
    # --daemonize returns before the socket listens; wait until it answers (bounded).
    for _ in $(seq 1 100); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    REDIS_PORT="$port"
    log "Redis on 127.0.0.1:$port"
}

start() {
    if [ -f "$STATE_FILE" ] && grep -q '^KC_PG_DIR=' "$STATE_FILE"; then
        log "$STATE_FILE already describes running services; run 'stop' first"
        exit 1
    fi
    install_missing
    start_postgres
    start_redis
    umask 077
    cat >"$STATE_FILE" <<EOF
export KALSHI_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:$PG_PORT/kalshi_test
export KALSHI_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
KC_PG_BIN=$PG_BIN
KC_PG_DIR=$PG_DIR
KC_REDIS_PORT=$REDIS_PORT
EOF
    echo "$STATE_FILE"
}

stop() {
    if [ ! -f "$STATE_FILE" ]; then
        log "no state file $STATE_FILE: nothing to stop"
        return 0
    fi
    local bin dir rport
    bin="$(sed -n 's/^KC_PG_BIN=//p' "$STATE_FILE")"
    dir="$(sed -n 's/^KC_PG_DIR=//p' "$STATE_FILE")"
    rport="$(sed -n 's/^KC_REDIS_PORT=//p' "$STATE_FILE")"
    if [ -n "$rport" ]; then
        redis-cli -h 127.0.0.1 -p "$rport" shutdown nosave >/dev/null 2>&1 || true
    fi
    if [ -n "$dir" ] && [ -d "$dir/data" ]; then
        as_pg_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop" >/dev/null || true
        rm -rf "$dir"
    fi
    rm -f "$STATE_FILE"
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop [STATE_FILE]" >&2
        exit 2
        ;;
esac
