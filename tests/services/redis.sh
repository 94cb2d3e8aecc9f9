#!/usr/bin/env bash
# A throwaway Redis server for the tests; prints its URL on the last line.
#
#   export TABOOR_TEST_REDIS_URL=$(bash tests/services/redis.sh | tail -1)
#
# Installs the Debian package `redis-server` when it is missing (as root), then runs a
# server of its own (not the package's service) on 127.0.0.1 only, without persistence
# (its data is thrown away), its files in /tmp/taboor-redis-PORT. A server left running
# by an earlier run is reused. Progress goes to stderr, the URL alone to stdout.
# Settings: TABOOR_REDIS_PORT (63799), TABOOR_REDIS_DIR (/tmp/taboor-redis-PORT).
# Stop it with: redis-cli -p "$TABOOR_REDIS_PORT" shutdown nosave
set -euo pipefail

port=${TABOOR_REDIS_PORT:-63799}
base=${TABOOR_REDIS_DIR:-/tmp/taboor-redis-$port}

say() { echo "redis.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=tests/services/apt.sh
. "$(dirname "$0")/apt.sh"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    apt_install redis.sh redis-server redis-tools
command -v redis-server >/dev/null || die "no redis-server after installing it"

alive() { [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; }

if alive; then
    say "reusing the server on port $port"
else
    mkdir -p "$base"
    # No snapshots, no append-only file: nothing of it outlives the tests.
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
        --dir "$base" --pidfile "$base/redis.pid" --logfile "$base/redis.log" \
        --save '' --appendonly no >&2
    for _ in $(seq 100); do
        alive && break
        sleep 0.1
    done
    alive || die "redis-server did not start on port $port (see $base/redis.log)"
    say "started on port $port"
fi
echo "redis://127.0.0.1:$port/0"
