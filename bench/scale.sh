#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Redis at 1 million sessions against the same at 10 thousand (not part of
# make check). Run from the build directory:    sh ../bench/scale.sh
# It reuses bench/store_bench (see bench/store.sh) on a redis-server of its
# own on loopback, stopped by pid on exit. Sessions are 4 per user with all
# indexes and metrics, as checkup writes them. At each size:
#   bytes per session  used_memory grown since the empty server / sessions
#   touch/s            store_bench ops with 50 processes in flight, 10k
#                      sessions created, touched and deleted on top of the
#                      data set (median of 3)
#   GET/s              redis-benchmark GET at 50 in flight, the reference
#                      for what the server answers at all, same moment
#   metrics latency    the mean of 50 ck_store_metrics calls
# The last line is the RESULT (ratios are 1M / 10k).
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
make -C "$top_builddir" bench/store_bench >/dev/null
bench="$top_builddir/bench/store_bench"
BIG=${BIG:-1000000}
SMALL=${SMALL:-10000}

. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

port=$(redis_start scale)
url="redis://127.0.0.1:$port"
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
used_memory() { cli info memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'; }
median3() { sort -n | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

# measure SIZE: sets bps, touch, get, mus for the data set now in Redis.
measure() {
    bps=$(( ($(used_memory) - m0) / $1 ))
    ts="" gs=""
    for rep in 1 2 3; do
        ts="$ts $("$bench" ops "$url" 50 10000 | sed -n 's/^touch //p')"
        gs="$gs $(redis-benchmark -h 127.0.0.1 -p "$port" -t get -c 50 -n 100000 --csv \
            2>/dev/null | sed -n 's/^"GET","\([0-9.]*\)".*/\1/p')"
    done
    touch=$(printf '%s\n' $ts | median3)
    get=$(printf '%s\n' $gs | median3)
    mus=$("$bench" metrics "$url" 50 | sed -n 's/^metrics_us \([0-9.]*\).*/\1/p')
    echo "$1 sessions: $bps bytes/session, touch/s $touch (runs:$ts), GET/s $get (runs:$gs)," \
        "metrics $mus us ($(uptime | sed 's/.*load/load/'))"
}

m0=$(used_memory)
"$bench" fill "$url" "$SMALL" 8 >/dev/null
measure "$SMALL"
bps_s=$bps touch_s=$touch get_s=$get mus_s=$mus
t0=$(date +%s)
"$bench" fill "$url" $((BIG - SMALL)) 8 1000000 >/dev/null
echo "# filled to $BIG sessions in $(( $(date +%s) - t0 )) s"
measure "$BIG"
cli flushall >/dev/null
echo "RESULT bytes_per_session_10k=$bps_s bytes_per_session_1m=$bps touch_per_s_10k=$touch_s" \
    "touch_per_s_1m=$touch touch_1m_vs_10k=$(ratio "$touch" "$touch_s")" \
    "get_per_s_10k=$get_s get_per_s_1m=$get metrics_us_10k=$mus_s metrics_us_1m=$mus" \
    "metrics_1m_vs_10k=$(ratio "$mus" "$mus_s")"
