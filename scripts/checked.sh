#!/usr/bin/env bash
# The memory-checked run: pg_regress and the integration tests against a PostgreSQL 15 built with
# assertions from Debian's source (--enable-cassert: CLOBBER_FREED_MEMORY overwrites freed palloc
# memory, MEMORY_CONTEXT_CHECKING checks chunks on reset), so a use of freed memory shows as
# garbage, a failed assertion or a crash instead of passing by luck. The server log is searched
# for assertion failures and crashed backends.
# The checked build is cached in PPA_CHECKED_DIR (default /var/tmp/ppa-checked): the first run
# downloads and builds it (about 10 minutes on 2 cores), later runs take a few minutes.
# Run by hand, or by the test command with PPA_CHECKED=1. Last line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh

dir=${PPA_CHECKED_DIR:-/var/tmp/ppa-checked}
version=15.18
debian_version=15.18-0+deb12u1 # the main archive keeps this source; the security pool's 15.20 answers 404
prefix=$dir/install
sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi

if [ ! -x "$prefix/bin/pg_config" ]; then
    echo "== building PostgreSQL $version with assertions into $prefix"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev bison flex perl >/dev/null
    if ! apt-cache showsrc postgresql-15 2>/dev/null | grep -q "^Version: $debian_version"; then
        # A deb-src entry for the archive apt already uses.
        uri=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}')
        uri=${uri:-http://deb.debian.org/debian}
        printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' "$uri" \
            /usr/share/keyrings/debian-archive-keyring.gpg | $sudo tee /etc/apt/sources.list.d/ppa-deb-src.sources >/dev/null
        $sudo apt-get update -qq
    fi
    mkdir -p "$dir/src"
    (cd "$dir/src" && apt-get source --download-only "postgresql-15=$debian_version" >/dev/null 2>&1)
    rm -rf "$dir/src/postgresql-$version"
    tar -C "$dir/src" -xjf "$dir/src/postgresql-15_$version.orig.tar.bz2"
    (cd "$dir/src/postgresql-$version" &&
        ./configure --prefix="$prefix" --enable-cassert --enable-debug --without-icu --without-readline \
            --without-zlib CFLAGS="-O1 -g" >"$dir/configure.log" 2>&1 &&
        make -j"$(nproc)" -s >"$dir/make.log" 2>&1 &&
        make -s install >"$dir/install.log" 2>&1) || { tail -n 40 "$dir"/*.log; exit 1; }
    chmod -R a+rX "$dir"
fi
export PG_CONFIG=$prefix/bin/pg_config

echo "== extension built against $($PG_CONFIG --version) with assertions"
ext=$dir/ext
rm -rf "$ext"
mkdir -p "$ext"
git ls-files -z | xargs -0 cp --parents -t "$ext"
make -C "$ext" -s -j2 PG_CONFIG="$PG_CONFIG" >/dev/null
$sudo make -C "$ext" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target integration_tests -- --no-print-directory >/dev/null

export PPA_PORT=${PPA_CHECKED_PORT:-55434}
trap 'scripts/pgserver.sh stop' EXIT
source "$(scripts/pgserver.sh start test)"
log=/tmp/pg_product_analytics-$PPA_PORT/server.log

source scripts/counts.sh
passed=0
failed=0
echo "== pg_regress (assertions on)"
out=$(mktemp)
make -C "$ext" installcheck PG_CONFIG="$PG_CONFIG" >"$out" 2>&1 || true
grep -E '^(test| ) ' "$out" || cat "$out"
before=$failed
count_regress "$out"
[ "$failed" = "$before" ] || { [ -f "$ext/regression.diffs" ] && head -n 200 "$ext/regression.diffs"; }

echo "== integration tests (assertions on)"
psql -X -q -c "CREATE DATABASE integration"
psql -X -q -d integration -c "CREATE EXTENSION pg_product_analytics"
(cd build && TEST_PG_CONNINFO="host=$PGHOST port=$PGPORT user=postgres dbname=integration" \
    ctest -L integration --output-on-failure) >"$out" 2>&1 || true
tail -n 3 "$out"
before=$failed
count_ctest "$out"
[ "$failed" = "$before" ] || cat "$out"

echo "== report aggregates through psycopg2 (assertions on)"
TEST_PG_CONNINFO="host=$PGHOST port=$PGPORT user=postgres dbname=integration" \
    /usr/bin/python3 tests/integration/test_reports.py >"$out" 2>&1 || true
before=$failed
count_summary "$out"
[ "$failed" = "$before" ] || cat "$out"

echo "== server log: assertion failures and crashed backends"
if grep -nE 'TRAP:|terminated by signal|was terminated by|PANIC' "$log"; then
    failed=$((failed + 1))
else
    passed=$((passed + 1))
    echo "none"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
