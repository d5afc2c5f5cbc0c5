#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Fuzzes every target of tests/fuzz/ckfuzz for a while and counts crashes.
#
#   bench/fuzz.sh [-s SECONDS] [-j JOBS] [-m] [TARGET...]
#     -s  seconds per target (default $FUZZ_SECONDS, else 600)
#     -j  targets fuzzed at once (default: the number of CPUs)
#     -m  afterwards, merge what each run found into tests/fuzz/corpus/TARGET/
#         (libFuzzer -merge=1: only inputs that add coverage, at most 8 KiB)
#
# Builds (or brings up to date) the libFuzzer program in build/fuzzbench
# (CC=clang --enable-fuzzing; not build/fuzz, which scripts/test.sh remakes).
# Each target's working corpus stays in build/fuzzbench/corpus/TARGET so that
# a later run continues from it; crash, leak, timeout and out-of-memory
# inputs go to build/fuzzbench/artifacts/TARGET/. libFuzzer stops a target at its
# first finding, so crashes counts the targets that found one.
# Ends with: RESULT fuzz_targets=<n> fuzz_seconds_each=<s> crashes=<n>
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${FUZZ_SECONDS:-600}
jobs=$(nproc 2>/dev/null || echo 1)
merge=0
while getopts s:j:m opt; do
    case $opt in
    s) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    m) merge=1 ;;
    *) echo "usage: $0 [-s SECONDS] [-j JOBS] [-m] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

b=$top/build/fuzzbench
if [ ! -f "$b/Makefile" ]; then
    [ -x "$top/configure" ] || autoreconf -fi
    mkdir -p "$b"
    (cd "$b" && "$top/configure" CC=clang --enable-fuzzing --quiet) >&2
fi
(cd "$b" && make -j"$jobs" tests/fuzz/ckfuzz) >&2
bin=$b/tests/fuzz/ckfuzz
targets=${*:-$(CK_FUZZ_TARGET=list "$bin")}
n=$(echo $targets | wc -w)
echo "fuzzing $n target(s) for ${secs}s each, $jobs at a time: $targets"

run_one() {     # run_one TARGET: fuzz, then write TARGET's status file
    t=$1
    mkdir -p "$b/corpus/$t" "$b/artifacts/$t" "$b/tmp/$t"
    set +e
    TMPDIR=$b/tmp/$t CK_FUZZ_TARGET=$t "$bin" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$b/artifacts/$t/" "$b/corpus/$t" "$top/tests/fuzz/corpus/$t" \
        > "$b/$t.log" 2>&1
    echo $? > "$b/$t.rc"
    set -e
    rm -rf "$b/tmp/$t"
}

# A simple pool: start up to $jobs runs, wait for the batch, go on.
set -- $targets
while [ $# -gt 0 ]; do
    pids=""
    i=0
    while [ $# -gt 0 ] && [ "$i" -lt "$jobs" ]; do
        run_one "$1" &
        pids="$pids $!"
        shift
        i=$((i + 1))
    done
    for p in $pids; do wait "$p" || true; done
done

crashes=0
for t in $targets; do
    rc=$(cat "$b/$t.rc" 2>/dev/null || echo 99)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$b/$t.log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$b/$t.log" | tail -n 1 | cut -d' ' -f2)
    size=$(ls "$b/corpus/$t" | wc -l)
    if [ "$rc" -eq 0 ]; then
        echo "target=$t runs=${runs:-?} cov=${cov:-?} corpus=$size crash=0"
    else
        crashes=$((crashes + 1))
        echo "target=$t runs=${runs:-?} cov=${cov:-?} corpus=$size crash=1 (exit $rc)"
        grep -E '^(==[0-9]+==|SUMMARY|ckfuzz:)' "$b/$t.log" | head -n 5 | sed 's/^/    /'
        ls "$b/artifacts/$t" | sed "s|^|    artifact: $b/artifacts/$t/|"
    fi
    if [ "$merge" -eq 1 ]; then
        CK_FUZZ_TARGET=$t "$bin" -merge=1 -max_len=8192 -artifact_prefix="$b/artifacts/$t/" \
            "$top/tests/fuzz/corpus/$t" "$b/corpus/$t" > "$b/$t.merge.log" 2>&1 ||
            echo "    merge failed: see $b/$t.merge.log"
    fi
done
echo "RESULT fuzz_targets=$n fuzz_seconds_each=$secs crashes=$crashes"
