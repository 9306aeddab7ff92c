#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the demo, the tests and the benchmark.
#   scripts/pgserver.sh start [test|bench]   initdb + start (fresh each time), print the env file path
#   scripts/pgserver.sh stop                 stop and delete the cluster
#   scripts/pgserver.sh env                  print the env file path of the running cluster
# Port: PPA_PORT (default 55432). Everything lives under /tmp/pg_product_analytics-$PPA_PORT:
# data, unix socket, log. Loopback only. Run as root, the server runs as the `postgres` OS user.
# `source "$(scripts/pgserver.sh env)"` sets PGHOST, PGPORT, PGUSER, PGDATABASE for psql and libpq.
set -euo pipefail

cmd=${1:-}
profile=${2:-test}
port=${PPA_PORT:-55432}
base=/tmp/pg_product_analytics-$port
bindir=$(${PG_CONFIG:-pg_config} --bindir) # PG_CONFIG: another PostgreSQL (the checked build)

as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        (cd /tmp && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

running() {
    [ -f "$base/data/postmaster.pid" ] && as_server_user "$bindir/pg_ctl" -D "$base/data" status >/dev/null 2>&1
}

case "$cmd" in
start)
    if running; then
        as_server_user "$bindir/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$base"
    mkdir -p "$base/data" "$base/socket"
    chmod 755 "$base" "$base/socket"
    chmod 700 "$base/data"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$base"; fi
    as_server_user "$bindir/initdb" -D "$base/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log"; exit 1; }
    # Settings for throwaway use: no durability; JIT off so timings do not depend on compilation.
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$base/socket'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "jit = off"
        echo "max_wal_size = '4GB'"
        echo "max_worker_processes = 8"
        echo "max_parallel_workers = 4"
        if [ "$profile" = bench ]; then
            # The benchmark's 10M events fit in shared buffers; hash aggregation never spills.
            echo "shared_buffers = '3GB'"
            echo "work_mem = '1GB'"
        else
            echo "shared_buffers = '256MB'"
            echo "work_mem = '64MB'"
        fi
    } >>"$base/data/postgresql.conf"
    as_server_user "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w start >/dev/null ||
        { cat "$base/server.log"; exit 1; }
    cat >"$base/env" <<ENV
export PGHOST=$base/socket
export PGPORT=$port
export PGUSER=postgres
export PGDATABASE=postgres
ENV
    echo "$base/env"
    ;;
stop)
    if running; then
        as_server_user "$bindir/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$base"
    ;;
env)
    running || { echo "no cluster running on port $port" >&2; exit 1; }
    echo "$base/env"
    ;;
*)
    echo "usage: $0 start [test|bench] | stop | env" >&2
    exit 2
    ;;
esac
