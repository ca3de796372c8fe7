#!/bin/sh
# run.sh BUILD TEST... - run the cmocka unit tests and the end-to-end
# scripts, then print one closing line "N passed, N failed".
# cmocka's own summary lines are counted; a binary that dies before its
# summary counts as one failure.
build=$1
shift
passed=0
failed=0
status=0

count() { # count LOGFILE: add the log's cmocka or ok/not ok results
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
    p2=$(grep -c '^ok ' "$1")
    f2=$(grep -c '^not ok ' "$1")
    passed=$((passed + ${p:-0} + p2))
    failed=$((failed + ${f:-0} + f2))
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    echo "== $t"
    if ! "$build/tests/$t" >"$log" 2>&1; then
        status=1
        grep -q '^\[  FAILED  \]' "$log" || failed=$((failed + 1))
    fi
    cat "$log"
    count "$log"
done
for s in tests/e2e_*.sh; do
    echo "== $s"
    if ! sh "$s" "$build/pmbot" >"$log" 2>&1; then
        status=1
        grep -q '^not ok ' "$log" || failed=$((failed + 1))
    fi
    cat "$log"
    count "$log"
done
# each fuzz target ($FUZZ, from the Makefile): its regression inputs and a
# few seconds of fuzzing (tests/fuzz/run.sh)
for f in $FUZZ; do
    echo "== fuzz_$f"
    if ! sh tests/fuzz/run.sh build/fuzz 3 test "$f" >"$log" 2>&1; then
        status=1
        grep -q '^not ok ' "$log" || failed=$((failed + 1))
    fi
    cat "$log"
    count "$log"
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
