# Sourced by scripts/test.sh and scripts/checked.sh: adds what a log reports to the totals
# `passed` and `failed` (the caller sets both to 0 first). Each helper takes the log's path.

# ctest's summary line: "NN% tests passed, F tests failed out of T" (none: one failure).
count_ctest() {
    local line
    line=$(grep -E 'tests failed out of' "$1" | tail -n 1)
    if [[ "$line" =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
        passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[1]))
    else
        failed=$((failed + 1))
    fi
}

# pg_regress: one "ok" or "FAILED" line per test (none at all: one failure).
count_regress() {
    local ok bad
    ok=$(grep -cE '^(test| ) .* ok( |$)' "$1" || true)
    bad=$(grep -cE '^(test| ) .* FAILED' "$1" || true)
    if [ "$ok" = 0 ] && [ "$bad" = 0 ]; then bad=1; fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# A script's last line "N passed, N failed" (anything else: one failure).
count_summary() {
    local line
    line=$(tail -n 1 "$1")
    if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        failed=$((failed + 1))
    fi
}
