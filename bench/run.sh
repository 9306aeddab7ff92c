#!/usr/bin/env bash
# The benchmark: native functions vs the best plain SQL vs the scan floor, side by side in one run.
#   bench/run.sh [--users N] [--reps N] [--only PREFIX[,PREFIX...]] [--workers 0,2] [--jit off,on]
# Generates about 20 events per user (default 500k users: about 10M events, the shape of the demo's
# data) in a throwaway server, runs every question of bench/questions.sql REPS times interleaved,
# at max_parallel_workers_per_gather = 0 and 2, with JIT off and on (PostgreSQL's default), and
# prints a markdown table of medians and ratios to the scan floor measured in the same run (paste
# it into docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

users=500000
reps=5
only=()
workers=0,2
jit=off,on
memory=on
while [ $# -gt 0 ]; do
    case "$1" in
    --users) users=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --only) only=(--only "$2"); shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --jit) jit=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    *) echo "usage: $0 [--users N] [--reps N] [--only QUESTION_PREFIX] [--workers 0,2] [--jit off,on] [--memory on|off]" >&2; exit 2 ;;
    esac
done

source bench/setup.sh

echo >&2
echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(psql -XAtc 'SELECT version()' | cut -d, -f1)"
echo "Command: bench/run.sh --users $users --reps $reps --workers $workers --jit $jit --memory $memory ${only[*]}"
echo
build/bench_driver bench/questions.sql --reps "$reps" --workers "$workers" --jit "$jit" --memory "$memory" "${only[@]}"
