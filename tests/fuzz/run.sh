#!/bin/sh
# run.sh BUILD SECONDS test|keep NAME... - for each fuzz target NAME:
# replay its regression inputs (tests/fuzz/regress/NAME), then fuzz it for
# SECONDS from its seeds (tests/fuzz/corpus/NAME) and regression inputs.
# Prints one "ok"/"not ok" line per check, as tests/run.sh counts them,
# and the fuzzer's own output only on a failure, each line behind "# ".
# "test" grows a scratch corpus removed at the end; "keep" grows
# BUILD/corpus/NAME, kept for the next run. A finding is saved in
# BUILD/findings/NAME/ (crash-*, leak-*, timeout-*, oom-*): once the bug
# is fixed, move it to tests/fuzz/regress/NAME/.
build=$1
seconds=$2
mode=$3
shift 3
fails=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export UBSAN_OPTIONS=print_stacktrace=1
log=$scratch/log

show() { sed 's/^/# /' "$log" | tail -n 60; }

for name in "$@"; do
    bin=$build/fuzz_$name
    seeds=tests/fuzz/corpus/$name
    regress=tests/fuzz/regress/$name
    findings=$build/findings/$name
    mkdir -p "$findings"
    if [ "$mode" = keep ]; then
        corpus=$build/corpus/$name
    else
        corpus=$scratch/corpus-$name
    fi
    mkdir -p "$corpus"

    set -- "$regress"/*
    if [ -e "$1" ]; then
        if "$bin" "$@" >"$log" 2>&1; then
            echo "ok - fuzz_$name: $# regression inputs replay clean"
        else
            echo "not ok - fuzz_$name: a regression input fails again"
            show
            fails=$((fails + 1))
        fi
    fi

    dict=
    [ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
    dirs=$corpus
    for d in "$seeds" "$regress"; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    # shellcheck disable=SC2086 # $dict and $dirs are lists of words
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$findings/" $dict $dirs \
        >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "ok - fuzz_$name: $seconds s, ${execs:-?} execs, no finding"
    else
        found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "not ok - fuzz_$name: finding in ${found:-$findings}"
        show
        fails=$((fails + 1))
    fi
done
[ "$fails" -eq 0 ]
