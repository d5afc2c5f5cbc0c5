#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Redis Cluster benchmark (not part of make check). Run from the build
# directory:
#     sh ../bench/cluster.sh
# It builds bench/store_bench, starts a 3-primary, 3-replica cluster
# (tests/lib/cluster.sh) and one standalone redis-server on loopback, and
# stops them all (by pid) on exit. In one run:
#   - touch/s at 50 in flight (50 processes, one store handle each, no
#     pipelining) on the cluster and on the lone server, median of 3;
#   - client commands per touch and MOVED/ASK redirections per 1,000
#     touches, summed over the primaries (INFO commandstats and
#     errorstats) after the create phase has warmed every handle's slot map;
#   - keys per primary at 100k sessions (4 per user; DBSIZE of each
#     primary): max/mean, and used_memory per session over the primaries.
# The last line is the RESULT.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
make -C "$top_builddir" bench/store_bench >/dev/null
bench="$top_builddir/bench/store_bench"

. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/cluster.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

field() { sed -n "s/^$1 //p"; }
median3() { sort -n | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
info_field() { cl_cli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3:\([0-9]*\)$/\1/p"; }

cluster_start bench
prims=$(cluster_primaries)
ports=$(printf '%s\n' $prims | paste -sd, -)
single=$(redis_start single)
flush_cluster() {
    for p in $prims; do cl_cli "$p" flushall >/dev/null; done
    cluster_wait_ok 30 >/dev/null
}
echo "# cluster: primaries $ports (3 replicas), lone server $single; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

n=100000
cs="" ss="" rtt="" redir="" srtt=""
for rep in 1 2 3; do
    flush_cluster
    out=$(CK_BENCH_TIMEOUT_MS=10000 "$bench" ops "$CL_URL" 50 "$n" "$ports")
    cs="$cs $(echo "$out" | field touch)"
    rtt="$rtt $(echo "$out" | field touch_rtt)"
    redir="$redir $(echo "$out" | field touch_redirects_per_1000)"
    redis-cli -p "$single" flushall >/dev/null
    out=$(CK_BENCH_TIMEOUT_MS=10000 "$bench" ops "redis://127.0.0.1:$single" 50 "$n" "$single")
    ss="$ss $(echo "$out" | field touch)"
    srtt="$srtt $(echo "$out" | field touch_rtt)"
done
ct=$(printf '%s\n' $cs | median3)
st=$(printf '%s\n' $ss | median3)
crtt=$(printf '%s\n' $rtt | sort -n | tail -n 1)
credir=$(printf '%s\n' $redir | sort -n | tail -n 1)
echo "# touch/s at 50 in flight: cluster (3 primaries) $ct (runs:$cs), one primary alone $st (runs:$ss): cluster/alone $(ratio "$ct" "$st")"
echo "# client commands per touch: cluster$rtt (the most is reported), alone$srtt"
echo "# MOVED+ASK per 1,000 touches after warm-up:$redir (the most is reported)"

# Keys and memory at 100k sessions, 4 per user.
flush_cluster
m0=0
for p in $prims; do m0=$((m0 + $(info_field "$p" memory used_memory))); done
CK_BENCH_TIMEOUT_MS=10000 "$bench" fill "$CL_URL" 100000 8 >/dev/null
m1=0 keys=""
for p in $prims; do
    m1=$((m1 + $(info_field "$p" memory used_memory)))
    keys="$keys $(cl_cli "$p" dbsize | tr -d '\r')"
done
bal=$(printf '%s\n' $keys | awk '{ s += $1; if ($1 > m) m = $1 } END { printf "%.3f", m / (s / NR) }')
bps=$(( (m1 - m0) / 100000 ))
echo "# 100k sessions: keys per primary$keys (max/mean $bal); used_memory over the primaries $m0 -> $m1: $bps bytes per session"
flush_cluster

echo "RESULT cluster_touch_rtt=$crtt redirects_per_1000=$credir slot_balance=$bal touch_per_s_cluster=$ct touch_per_s_alone=$st bytes_per_session=$bps"
