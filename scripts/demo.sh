#!/usr/bin/env bash
# The main job: install dependencies, build and install the extension, start a throwaway
# PostgreSQL, load deterministic sample events (50k users, about 1M events over 90 days), and print
# the reports. PPA_KEEP=1 leaves the server running and prints how to connect to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh

export PPA_PORT=${PPA_DEMO_PORT:-55432}
if [ "${PPA_KEEP:-0}" != 1 ]; then trap 'scripts/pgserver.sh stop' EXIT; fi
env_file=$(scripts/pgserver.sh start test)
source "$env_file"

echo "Loading sample events ..."
psql -X -q -c "CREATE EXTENSION pg_product_analytics"
psql -X -q -v users="${PPA_DEMO_USERS:-50000}" -v seed=0.42 -f scripts/generate_events.sql >/dev/null
psql -X -q -f scripts/demo_report.sql

if [ "${PPA_KEEP:-0}" = 1 ]; then
    echo
    echo "The server keeps running: source $env_file && psql"
    echo "Stop it with: PPA_PORT=$PPA_PORT scripts/pgserver.sh stop"
fi
