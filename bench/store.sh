#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Store benchmark (not part of make check). Run from the build directory:
#     sh ../bench/store.sh
# It builds bench/store_bench, starts its own redis-server on a free
# loopback port (tests/lib/redis.sh) and an LMDB store in a temp dir, and
# stops and removes both on exit.
#
# For each backend: ops/s of create, touch and delete with 1 and 50
# operations in flight. 50 in flight = 50 worker processes, each with its
# own store handle (its own Redis connection, or LMDB environment handle),
# each waiting for its reply: no pipelining. Then for Redis, in the same
# run: redis-benchmark GET at the same concurrencies, used_memory per
# session (100k sessions, 4 per user, all indexes and metrics included),
# and the latency of ck_store_metrics at 10k and at 1M sessions, and
# logout/s with [store] wait_replicas = 1 against 0 on a primary + replica.
# The last line is the RESULT.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
make -C "$top_builddir" bench/store_bench >/dev/null
bench="$top_builddir/bench/store_bench"

. "$top_srcdir/tests/lib/redis.sh"
# The embedded store's home is /run/checkup, a tmpfs: measure it on one.
lmdb_base=${CK_BENCH_LMDB_BASE:-/dev/shm}
[ -d "$lmdb_base" ] && [ -w "$lmdb_base" ] || lmdb_base=${TMPDIR:-/tmp}
lmdb_dir=$(mktemp -d "$lmdb_base/ck-bench-lmdb.XXXXXX")
cleanup() {
    redis_stop_all
    rm -rf "$lmdb_dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

port=$(redis_start bench)
url="redis://127.0.0.1:$port"
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
used_memory() { cli info memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)$/\1/p'; }
field() { sed -n "s/^$1 //p"; }
get_rps() {
    redis-benchmark -h 127.0.0.1 -p "$port" -t get -c "$1" -n "$2" --csv 2>/dev/null |
        sed -n 's/^"GET","\([0-9.]*\)".*/\1/p'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

n1=20000
n50=100000

median3() { sort -n | sed -n 2p; }

echo "# backend concurrency create/s touch/s delete/s  (50 in flight = 50 processes, no pipelining)"
echo "# redis rows: median of 3 runs, each followed by redis-benchmark GET at the same concurrency"
for conc in 1 50; do
    n=$n1
    [ "$conc" = 50 ] && n=$n50
    cs="" ts="" ds="" gs="" rtt=""
    for rep in 1 2 3; do
        cli flushall >/dev/null
        out=$("$bench" ops "$url" "$conc" "$n" "$port")
        cs="$cs $(echo "$out" | field create)"
        ts="$ts $(echo "$out" | field touch)"
        ds="$ds $(echo "$out" | field delete)"
        rtt=$(echo "$out" | field touch_rtt)
        us=$(echo "$out" | field touch_server_us)
        gs="$gs $(get_rps "$conc" $((n * 2)))"
    done
    c=$(printf '%s\n' $cs | median3)
    t=$(printf '%s\n' $ts | median3)
    d=$(printf '%s\n' $ds | median3)
    get=$(printf '%s\n' $gs | median3)
    echo "redis $conc $c $t $d  (touch/s runs:$ts; GET/s runs:$gs; touch/GET $(ratio "$t" "$get"); client commands per touch $rtt; server us per touch $us)"
    eval "touch_$conc=\$t get_$conc=\$get rtt_$conc=\$rtt"
done

# The same comparison without our client: redis-benchmark itself sends the
# touch EVALSHA (one session copied under a printable key), so only the
# server-side cost of the script differs from GET.
cli flushall >/dev/null
CK_BENCH_TIMEOUT_MS=10000 "$bench" fill "$url" 1 1 >/dev/null
tag=$(cli eval "local k = redis.call('SCAN', 0, 'MATCH', 'ck:s:*', 'COUNT', 100)[2][1]
local b = string.match(k, '^ck:s:{([^}]*)}')
redis.call('SET', 'ck:s:{' .. b .. '}BENCH', redis.call('GET', k), 'EX', 3600)
return b" 0)
sha=$(cli script load "$("$bench" touch-script)")
ss=""
for rep in 1 2 3; do
    ss="$ss $(redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n 200000 --csv evalsha "$sha" 3 \
        "ck:s:{$tag}BENCH" "ck:m:{$tag}" "ck:mz:{$tag}" "$(date +%s)" 1200 1 "ck:u:{$tag}" BENCH \
        2>/dev/null | sed -n 's/^"[^"]*","\([0-9.]*\)".*/\1/p')"
done
sget=$(get_rps 50 200000)
st=$(printf '%s\n' $ss | median3)
echo "# redis-benchmark as the client, 50 in flight: touch EVALSHA/s $st (runs:$ss), GET/s $sget: server-side touch/GET $(ratio "$st" "$sget")"

for conc in 1 50; do
    n=$n1
    [ "$conc" = 50 ] && n=$n50
    rm -rf "${lmdb_dir:?}"/*
    if out=$("$bench" ops "lmdb:$lmdb_dir" "$conc" "$n" 2>&1); then
        echo "lmdb $conc $(echo "$out" | field create) $(echo "$out" | field touch) $(echo "$out" | field delete)"
    else
        echo "lmdb $conc unavailable: $(echo "$out" | tail -n 1)"
    fi
done

# Logouts with [store] wait_replicas = 1 against without, on a primary with
# one replica (both on loopback), 1 and 50 in flight, alternating runs.
wp=$(redis_start waitp)
wr=$(redis_start waitr "replicaof 127.0.0.1 $wp")
until redis-cli -p "$wp" info replication | grep -q 'connected_slaves:1'; do sleep 0.1; done
for conc in 1 50; do
    n=20000
    d0="" d1=""
    for rep in 1 2 3; do
        for w in 0 1; do
            redis-cli -p "$wp" flushall >/dev/null
            redis-cli -p "$wp" wait 1 2000 >/dev/null
            out=$(CK_BENCH_WAIT_REPLICAS=$w "$bench" ops "redis://127.0.0.1:$wp" "$conc" "$n")
            v=$(echo "$out" | field delete)
            if [ "$w" = 0 ]; then d0="$d0 $v"; else d1="$d1 $v"; fi
        done
    done
    l0=$(printf '%s\n' $d0 | median3)
    l1=$(printf '%s\n' $d1 | median3)
    echo "# logout/s at $conc in flight, primary + 1 replica: wait_replicas=0 $l0 (runs:$d0)," \
        "wait_replicas=1 $l1 (runs:$d1): with/without $(ratio "$l1" "$l0")"
    if [ "$conc" = 1 ]; then wait_ratio_1=$(ratio "$l1" "$l0"); else wait_ratio_50=$(ratio "$l1" "$l0"); fi
done
echo "# (replica on port $wr)"
redis_stop waitr
redis_stop waitp

# Memory: 100k sessions, 4 per user, on an empty server.
cli flushall >/dev/null
m0=$(used_memory)
CK_BENCH_TIMEOUT_MS=10000 "$bench" fill "$url" 100000 8 >/dev/null
m1=$(used_memory)
bps=$(( (m1 - m0) / 100000 ))
echo "# used_memory before $m0, after 100k sessions $m1: $bps bytes per session"

# Metrics latency at 10k and at 1M sessions (the same data set, grown).
cli flushall >/dev/null
CK_BENCH_TIMEOUT_MS=10000 "$bench" fill "$url" 10000 8 >/dev/null
m10k=$("$bench" metrics "$url" 50 | sed -n 's/^metrics_us \([0-9.]*\).*/\1/p')
CK_BENCH_TIMEOUT_MS=10000 "$bench" fill "$url" 990000 8 1000000 >/dev/null
line=$("$bench" metrics "$url" 50)
m1m=$(echo "$line" | sed -n 's/^metrics_us \([0-9.]*\).*/\1/p')
echo "# metrics latency: ${m10k} us at 10k sessions, ${m1m} us at 1M sessions ($line)"
cli flushall >/dev/null

echo "# touch/GET at 1 in flight: $(ratio "$touch_1" "$get_1") ($touch_1 / $get_1); RESULT uses 50 in flight ($touch_50 / $get_50)"
echo "RESULT touch_rtt=$rtt_1 touch_vs_get=$(ratio "$touch_50" "$get_50") bytes_per_session=$bps metrics_10k_vs_1m=$(ratio "$m1m" "$m10k") logout_wait_vs_nowait=$wait_ratio_50 logout_wait_vs_nowait_1=$wait_ratio_1"
