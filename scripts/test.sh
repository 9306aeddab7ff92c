#!/usr/bin/env bash
# Runs every test: core unit tests (ctest -L unit, also built with ASan and UBSan), a short
# libFuzzer run of every deserializer and text parser (scripts/fuzz.sh, PPA_FUZZ_SECONDS per
# target, default 5), pg_regress (make installcheck) and the libpqxx integration tests (ctest -L
# integration) against a throwaway server, and checks that every SQL example of README.md and
# docs/ is part of a regression test. With PPA_CHECKED=1 it also runs pg_regress and the
# integration tests against a PostgreSQL built with assertions (scripts/checked.sh). Installs what
# it needs.
# Exit status is non-zero when anything fails; the last line is "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh

export PPA_PORT=${PPA_TEST_PORT:-55433}
trap 'scripts/pgserver.sh stop' EXIT
source "$(scripts/pgserver.sh start test)"

passed=0
failed=0
source scripts/counts.sh
log=$(mktemp -d)

echo "== unit tests (core)"
(cd build && ctest -L unit --output-on-failure) >"$log/unit" 2>&1 || true
tail -n 3 "$log/unit"
count_ctest "$log/unit"
grep -q '100% tests passed' "$log/unit" || cat "$log/unit"

echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" >/dev/null
cmake --build build-sanitize -j2 --target unit_tests -- --no-print-directory >/dev/null
(cd build-sanitize && ctest -L unit --output-on-failure) >"$log/sanitize" 2>&1 || true
tail -n 3 "$log/sanitize"
count_ctest "$log/sanitize"
grep -q '100% tests passed' "$log/sanitize" || cat "$log/sanitize"

echo "== fuzzing (libFuzzer, ${PPA_FUZZ_SECONDS:-5} s per target)"
scripts/fuzz.sh "${PPA_FUZZ_SECONDS:-5}" >"$log/fuzz" 2>&1 || true
grep -E '^(ok|FAILED) ' "$log/fuzz" || tail -n 30 "$log/fuzz"
count_summary "$log/fuzz"

echo "== pg_regress"
make -s installcheck >"$log/regress" 2>&1 || true
grep -E '^(test| ) ' "$log/regress" || cat "$log/regress"
before=$failed
count_regress "$log/regress"
[ "$failed" = "$before" ] || { [ -f regression.diffs ] && cat regression.diffs; }

echo "== integration tests (libpqxx, live server)"
psql -X -q -c "CREATE DATABASE integration" -c "" >/dev/null
psql -X -q -d integration -c "CREATE EXTENSION pg_product_analytics"
(cd build && TEST_PG_CONNINFO="host=$PGHOST port=$PGPORT user=postgres dbname=integration" \
    ctest -L integration --output-on-failure) >"$log/integration" 2>&1 || true
tail -n 3 "$log/integration"
count_ctest "$log/integration"
grep -q '100% tests passed' "$log/integration" || cat "$log/integration"

echo "== report aggregates through psycopg2 (bound parameters, as Superset sends them)"
TEST_PG_CONNINFO="host=$PGHOST port=$PGPORT user=postgres dbname=integration" \
    /usr/bin/python3 tests/integration/test_reports.py >"$log/psycopg" 2>&1 || true
grep -v '^ok ' "$log/psycopg" || true
count_summary "$log/psycopg"

echo "== docs examples (each one in an expected regression output)"
python3 scripts/check_docs.py >"$log/docs" 2>&1 || true
grep -v '^ok ' "$log/docs"
count_summary "$log/docs"

if [ "${PPA_CHECKED:-0}" = 1 ]; then
    echo "== memory-checked run (PostgreSQL with assertions; scripts/checked.sh)"
    scripts/checked.sh >"$log/checked" 2>&1 || true
    grep -E '^(==|test | )|passed|FAILED|TRAP' "$log/checked" || true
    count_summary "$log/checked"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
