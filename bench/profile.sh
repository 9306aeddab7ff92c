#!/usr/bin/env bash
# Where the time of each benchmark question's native variants goes: perf profiles on the
# benchmark's data, one markdown table row per variant (the "Profiles" section of docs/benchmarks.md).
#   bench/profile.sh [--users N] [--only PREFIX[,PREFIX...]]
# Workers 0, JIT off; each query runs twice under `perf record -a` (bench/profile.py).
set -euo pipefail
cd "$(dirname "$0")/.."

users=500000
only=()
while [ $# -gt 0 ]; do
    case "$1" in
    --users) users=$2; shift 2 ;;
    --only) only=(--only "$2"); shift 2 ;;
    *) echo "usage: $0 [--users N] [--only QUESTION_PREFIX[,...]]" >&2; exit 2 ;;
    esac
done

if ! command -v perf >/dev/null; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi

source bench/setup.sh

echo
echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(psql -XAtc 'SELECT version()' | cut -d, -f1)"
echo "Command: bench/profile.sh --users $users ${only[*]}"
echo
python3 bench/profile.py bench/questions.sql "${only[@]}"
