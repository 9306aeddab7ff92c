#!/usr/bin/env bash
# Fuzzes every deserializer of an aggregate state and every text parser of the core with
# libFuzzer (clang++, AddressSanitizer, UndefinedBehaviorSanitizer), seeded with valid
# serializations. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET ...]] (default 60 s, every
# target). The test command runs it for a few seconds per target; run it long by hand.
# Corpora grow in build-fuzz/corpus/<target> (PPA_FUZZ_DIR: another directory); crashing inputs land
# in build-fuzz/findings/<target>.
# Prints one line per target (executions, findings) and a last line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

seconds=${1:-60}
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(retention funnel session_stats period_retention lifecycle active_periods cohort min_max_by
             funnel_report active_users lifecycle_report session_report
             retention_report sequence next_node funnel_modes period_unit sequence_pattern funnel_options
             funnel_options_report)
fi

out=${PPA_FUZZ_DIR:-build-fuzz}
mkdir -p "$out"
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -Isrc -Wall -Wextra -Werror -Wno-unused-function)
core=(src/core/*.cpp)
# The core objects once, instrumented for coverage and the sanitizers.
objs=()
for f in "${core[@]}"; do
    o="$out/$(basename "${f%.cpp}").o"
    if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ -n "$(find src/core -name '*.hpp' -newer "$o" | head -n 1)" ]; then
        clang++ "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$f" -o "$o"
    fi
    objs+=("$o")
done
clang++ "${flags[@]}" -DPPA_FUZZ_SEEDS -fsanitize=address,undefined tests/fuzz/fuzz_targets.cpp "${objs[@]}" \
    -o "$out/seeds"

passed=0
failed=0
for t in "${targets[@]}"; do
    clang++ "${flags[@]}" -DPPA_FUZZ_TARGET="$t" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        tests/fuzz/fuzz_targets.cpp "${objs[@]}" -o "$out/fuzz_$t"
    mkdir -p "$out/corpus/$t" "$out/findings/$t"
    "$out/seeds" "$t" "$out/corpus/$t"
    log="$out/fuzz_$t.log"
    status=0
    "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/findings/$t/" "$out/corpus/$t" >"$log" 2>&1 || status=$?
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -n 1)
    findings=$(find "$out/findings/$t" -type f | wc -l)
    if [ "$status" = 0 ] && [ "$findings" = 0 ]; then
        passed=$((passed + 1))
        echo "ok      fuzz $t: ${runs:-0} executions in ${seconds} s, 0 findings"
    else
        failed=$((failed + 1))
        echo "FAILED  fuzz $t: ${runs:-0} executions, $findings findings (exit $status; see $log)"
        tail -n 30 "$log"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
