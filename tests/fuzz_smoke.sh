#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The libFuzzer build (configure CC=clang --enable-fuzzing): every target of
# tests/fuzz/ckfuzz fuzzed briefly from its seed corpus. Any crash, leak,
# sanitizer report, timeout or broken property fails the test; the input
# that did it is printed (base64) and left in the log directory.
#   CK_FUZZ_SMOKE_SECONDS  seconds per target (default 10)
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
secs=${CK_FUZZ_SMOKE_SECONDS:-10}
bin=$top_builddir/tests/fuzz/ckfuzz
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-fuzz-smoke-XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
fails=0
targets=$(CK_FUZZ_TARGET=list "$bin")
[ -n "$targets" ] || { echo "FAIL: ckfuzz lists no targets"; exit 1; }
for t in $targets; do
    seeds=$top_srcdir/tests/fuzz/corpus/$t
    if [ ! -d "$seeds" ]; then
        echo "FAIL: $t: no seed corpus in $seeds"; fails=$((fails + 1)); continue
    fi
    # libFuzzer writes what it finds into the first corpus directory: ours.
    mkdir -p "$d/$t/corpus" "$d/$t/tmp"
    set +e
    TMPDIR=$d/$t/tmp CK_FUZZ_TARGET=$t "$bin" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$d/$t/" "$d/$t/corpus" "$seeds" > "$d/$t/log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/$t/log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "ok: $t: ${runs:-?} runs in ${secs}s, no crash"
    else
        echo "FAIL: $t: libFuzzer exit $rc"
        grep -E '^(==[0-9]+==|SUMMARY|ckfuzz:|.*runtime error)' "$d/$t/log" | head -n 20
        for a in "$d/$t"/crash-* "$d/$t"/leak-* "$d/$t"/timeout-* "$d/$t"/oom-*; do
            [ -f "$a" ] || continue
            echo "input $(basename "$a") (base64):"; base64 "$a" | head -n 20
        done
        fails=$((fails + 1))
    fi
done
echo "$fails target(s) failed"
[ "$fails" -eq 0 ]
