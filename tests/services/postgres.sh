#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests; prints its SQLAlchemy URL on the last line.
#
#   export TABOOR_TEST_POSTGRES_URL=$(bash tests/services/postgres.sh | tail -1)
#
# Installs the Debian package `postgresql` when it is missing (as root), then runs a
# cluster of its own (not the package's "main" one) in /tmp/taboor-postgres-PORT:
# listening on 127.0.0.1 only, trust authentication, durability off (fsync and
# synchronous_commit) because its data is thrown away. A cluster left running by an
# earlier run is reused; a stopped or broken one is recreated. Creates the role
# `taboor` and the database `taboor_test` it owns. Progress goes to stderr, the URL alone
# to stdout. Settings: TABOOR_PG_PORT (54329), TABOOR_PG_DIR (/tmp/taboor-postgres-PORT).
# Stop it with: runuser -u postgres -- pg_ctl -D "$TABOOR_PG_DIR/data" stop -m fast
set -euo pipefail

port=${TABOOR_PG_PORT:-54329}
base=${TABOOR_PG_DIR:-/tmp/taboor-postgres-$port}
data=$base/data
role=taboor
database=taboor_test

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

# shellcheck source=tests/services/apt.sh
. "$(dirname "$0")/apt.sh"

bin=$(bindir) || { apt_install postgres.sh postgresql; bin=$(bindir) || die "no PostgreSQL server binaries"; }

# As root the server runs as the `postgres` user (it refuses to run as root).
if [ "$(id -u)" = 0 ]; then
    owner=postgres
    getent passwd "$owner" >/dev/null || die "no user $owner (is postgresql-common installed?)"
    as_owner() { (cd / && runuser -u "$owner" -- "$@"); }
else
    owner=$(id -un)
    as_owner() { "$@"; }
fi
pg_ctl() { as_owner "$bin/pg_ctl" -D "$data" "$@"; }
psql_admin() {
    "$bin/psql" -X -q -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -tA "$@"
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

mkdir -p "$base"
[ "$(id -u)" = 0 ] && chown "$owner": "$base"
# One run at a time sets the cluster up (parallel test runs share it).
exec 9>"$base/setup.lock"
flock -w 120 9 || die "timed out waiting for another run's setup ($base/setup.lock)"

if pg_ctl status >/dev/null 2>&1 && "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 10 \
        && psql_admin -c 'SELECT 1' </dev/null >/dev/null 2>&1; then
    say "reusing the cluster running in $data on port $port"
else
    # Not running (or not answering): it is ours and disposable, so start afresh. Stop
    # a postmaster only if it really serves our data folder (a stale postmaster.pid may
    # name a process id that now belongs to another program).
    pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$data"; then
        pg_ctl stop -m immediate -t 10 >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    fi
    if port_in_use; then
        die "port $port is taken by another program; set TABOOR_PG_PORT to a free port"
    fi
    say "creating a cluster in $data on port $port"
    rm -rf "$data"
    as_owner "$bin/initdb" -D "$data" --username=postgres --auth=trust --encoding=UTF8 \
        --no-locale --no-sync --no-instructions >"$base/initdb.log" 2>&1 \
        || { cat "$base/initdb.log" >&2; die "initdb failed"; }
    cat >>"$data/postgresql.conf" <<EOF

# taboor test cluster (tests/services/postgres.sh): disposable, so no durability.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    # 9>&-: the server must not inherit (and hold forever) the setup lock.
    if ! pg_ctl start -w -t 60 -l "$base/server.log" >/dev/null 9>&-; then
        tail -n 30 "$base/server.log" >&2 || true
        die "the server did not start (log: $base/server.log)"
    fi
fi

psql_admin <<SQL >/dev/null
SELECT 'CREATE ROLE $role LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') \gexec
SELECT 'CREATE DATABASE $database OWNER $role'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database') \gexec
SQL

echo "postgresql+psycopg://$role@127.0.0.1:$port/$database"
