#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkup store copy and config check on a Redis Cluster of three primaries
# (no replicas) on loopback: sessions copied into the cluster spread over
# every primary, and the copy back out of it (SCAN on each primary in turn)
# finds every one; config check reports the shape, then a stopped primary
# as a problem.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if [ -z "${REDIS_SERVER:-}" ] && ! command -v redis-server >/dev/null; then
    echo "redis-server is required (scripts/install-deps.sh installs it)"
    exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT

ck=$top_builddir/checkup
fill=$top_builddir/tests/store_copy_fill
T=$CK_TEST_TMP
fail=0
bad() { echo "FAIL: $*"; fail=1; }

ports=""
for n in 1 2 3; do
    p=$(redis_start "node$n" "cluster-enabled yes" "cluster-config-file nodes.conf" \
        "cluster-node-timeout 2000") || exit 99
    ports="$ports $p"
done
# shellcheck disable=SC2086 # one port per word
set -- $ports
redis-cli --cluster create "127.0.0.1:$1" "127.0.0.1:$2" "127.0.0.1:$3" --cluster-yes \
    > "$T/create.log" 2>&1 || { cat "$T/create.log"; exit 99; }
i=0
until [ "$(redis-cli -p "$1" cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')" = ok ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "the cluster did not come up"; exit 99; }
    sleep 0.1
done
curl="redis+cluster://127.0.0.1:$2,127.0.0.1:$1/"

conf() { printf '[store]\nurl = %s\n' "$1" > "$2"; }
conf "lmdb:$T/from" "$T/from.conf"
conf "$curl" "$T/cluster.conf"
conf "lmdb:$T/back" "$T/back.conf"

"$fill" "$T/from.conf" 200 > "$T/fill.out" 2>&1 || { cat "$T/fill.out"; exit 1; }
"$ck" -c "$T/cluster.conf" store copy --from "lmdb:$T/from" --to "$curl" > "$T/in.out" 2>&1 ||
    bad "copy into the cluster: $(cat "$T/in.out")"
grep -q "200 sessions: 200 copied" "$T/in.out" || bad "copy in: $(cat "$T/in.out")"
for p in "$@"; do
    keys=$(redis-cli -p "$p" dbsize | tr -d '\r')
    [ "${keys:-0}" -gt 0 ] || bad "primary $p holds no key: the sessions did not spread"
done
"$ck" -c "$T/cluster.conf" store copy --from "$curl" --to "lmdb:$T/back" > "$T/out.out" 2>&1 ||
    bad "copy out of the cluster: $(cat "$T/out.out")"
grep -q "200 sessions: 200 copied" "$T/out.out" || bad "copy out (every primary): $(cat "$T/out.out")"
"$ck" -c "$T/cluster.conf" store copy --from "$curl" --to "lmdb:$T/back" --verify \
    > "$T/verify.out" 2>&1 || bad "verify: $(cat "$T/verify.out")"

"$ck" -c "$T/cluster.conf" config check > "$T/check.out" 2>&1
grep -q "^ok *redis cluster: 3 primaries, 0 replicas, 16384 of 16384 slots covered, 0 nodes unreachable" \
    "$T/check.out" || bad "config check: $(cat "$T/check.out")"
redis_stop node3
"$ck" -c "$T/cluster.conf" config check > "$T/check2.out" 2>&1 && bad "config check passed with a primary down"
grep -q "^FAIL *redis cluster: .*1 node unreachable (127.0.0.1:$3)" "$T/check2.out" ||
    bad "config check with a primary down: $(cat "$T/check2.out")"
grep -q "^FAIL *store.*127.0.0.1:$3" "$T/check2.out" || bad "ping did not name the primary that is down: $(cat "$T/check2.out")"
[ $fail = 0 ] && echo "ok: store copy and config check on a cluster"
exit $fail
