#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Standalone Redis with the append-only file: a burst of logouts, then
# SIGKILL of redis-server right after the last answer (tests/aof_burst
# sends it), a restart from the same directory, and a count of logged-out
# sessions that are valid again; once with "appendfsync everysec" (the
# sample's default) and once with "always", with logouts/s for both from
# the same run. Redis writes the AOF to the kernel before it answers, so a
# killed process loses nothing either way: what this shows is that no
# answered logout is lost by a crash of Redis alone. The fsync policy
# matters when the host itself goes down (power loss, kernel panic), which
# a test cannot do: there "everysec" can lose about the last second of
# writes (docs/operations.md). Every server is stopped by pid.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
trap redis_stop_all EXIT
N=${CK_AOF_SESSIONS:-2000}
for mode in everysec always; do
    port=$(redis_start "aof_$mode" "appendonly yes" "appendfsync $mode") || exit 1
    dir=$CK_TEST_TMP/aof_$mode
    url=redis://127.0.0.1:$port
    out=$("$top_builddir/tests/aof_burst" burst "$url" "$N" "$dir/sids" "$(cat "$dir/redis.pid")")
    check "$mode: $((N / 2)) logouts answered, then redis-server killed" 0 $?
    pid=$(cat "$dir/redis.pid")
    i=0
    while ck_alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    # A burst that failed before its kill leaves the server up: ours to stop.
    ck_alive "$pid" && kill -9 "$pid" 2>/dev/null
    rm -f "$dir/redis.pid"
    redis_restart "aof_$mode" || { check "$mode: restart from the same directory" 0 1; continue; }
    res=$("$top_builddir/tests/aof_burst" count "$url" "$dir/sids")
    echo "# appendfsync $mode: $out $res"
    check "$mode: no logged-out session valid again after SIGKILL and restart" \
        resurrected=0 "${res% *}"
    check "$mode: every other session live after the restart" "live=$((N - N / 2))" "${res#* }"
    redis_stop "aof_$mode"
done
web_summary
