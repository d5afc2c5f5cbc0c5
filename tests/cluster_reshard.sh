#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Resharding a Redis Cluster under load. checkupd on a 3-primary,
# 3-replica cluster (tests/lib/cluster.sh) serves bench/load_gen in strict
# mode (logins, keep-alives, logouts, and attackers replaying forged and
# logged-out cookies) while redis-cli --cluster reshard moves a third of
# one primary's slots, keys and all, to another, and --cluster rebalance
# moves them back. The store follows the MOVED and ASK redirections
# itself, so:
#   - no request fails (strict mode: any answer but the expected one);
#   - no session is lost: those made before (through checkupd and, many
#     more, through the store by tests/wait_drive) all stay valid;
#   - no forged or logged-out cookie is accepted;
#   - the load ran for the whole of the resharding, and keys did move.
# Everything started here is stopped by pid.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/load_common.sh"
gen_stop() { [ -n "${GEN:-}" ] && kill "$GEN" 2>/dev/null && wait "$GEN" 2>/dev/null; GEN=; }
trap 'gen_stop; web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM
WAIT_DRIVE="$top_builddir/tests/wait_drive"
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && a >= 0 && a <= b)}' && echo yes || echo "no ($1 > $2)"; }
D=$CK_TEST_TMP/rs

cluster_start rs || { check "a 3-primary, 3-replica cluster converges" ok failed; exit 1; }
load_setup "$D" "$CL_URL" 12 "login_rate_limit = 0" "per_ip_connection_limit = 0" ||
    { check "checkupd setup on the cluster" 0 1; exit 1; }
web_start rs "$D/checkup.conf" || { check "checkupd starts on the cluster" 0 1; exit 1; }
load_login_many "$WEB_PORT" "$D" 10 || check "10 logins through checkupd before the load" 0 1
BEFORE=$(load_count_alive "$WEB_PORT" "$D")
check "10 sessions valid before the resharding" 10 "$BEFORE"
"$WAIT_DRIVE" "$D/checkup.conf" make 3000 "$D/sids" > /dev/null
check "3000 sessions made through the store before the resharding" 3000 \
    "$(wc -l < "$D/sids" 2>/dev/null || echo 0)"

# Strict mode: 8 users, 4 attackers, a keep-alive every 0.3 s, a new
# session every 3 s; 22 s in all, longer than the resharding below.
"$top_builddir/bench/load_gen" -u "http://127.0.0.1:$WEB_PORT" -o "$WEB_ORIGIN" -p "$D/pw" \
    -n 8 -a 4 -r 1 -H 20 -d 1 -k 0.3 -s 3 -t 10 > "$D/gen.txt" 2> "$D/gen.err" &
GEN=$!
sleep 2

set -- $(cluster_primaries)
FROM=$1 TO=$2
FROM_ID=$(cl_cli "$FROM" cluster myid | tr -d '\r')
TO_ID=$(cl_cli "$TO" cluster myid | tr -d '\r')
SLOT=$(cl_cli "$FROM" cluster shards | tr -d '\r' | awk -v p="$FROM" '
    $0 == "slots" { getline lo; getline hi; next } prev == "port" && $0 == p { print lo; exit }
    { prev = $0 }')
t0=$(date +%s)
cl_cli "$FROM" --cluster reshard "127.0.0.1:$FROM" --cluster-from "$FROM_ID" \
    --cluster-to "$TO_ID" --cluster-slots 1800 --cluster-yes > "$D/reshard.out" 2>&1
check "redis-cli --cluster reshard succeeds" 0 "$?"
MOVED_SLOTS=$(grep -c '^Moving slot' "$D/reshard.out")
MOVED_KEYS=$(grep '^Moving slot' "$D/reshard.out" | tr -cd . | wc -c)
echo "# reshard: $MOVED_SLOTS slots, $MOVED_KEYS keys moved from $FROM to $TO in $(( $(date +%s) - t0 )) s"
check "1800 slots moved" 1800 "$MOVED_SLOTS"
check "keys moved with them" yes "$([ "$MOVED_KEYS" -gt 100 ] && echo yes || echo "no ($MOVED_KEYS)")"
check "slot $SLOT is served by its new primary" "$TO" "$(cluster_primary_of_slot "$SLOT")"
cl_cli "$FROM" --cluster rebalance "127.0.0.1:$FROM" --cluster-yes > "$D/rebalance.out" 2>&1
check "redis-cli --cluster rebalance succeeds" 0 "$?"
REBAL_SLOTS=$(grep -c '^Moving' "$D/rebalance.out")
echo "# rebalance: $REBAL_SLOTS moves in $(( $(date +%s) - t0 )) s since the reshard began"
check "rebalance moved slots back" yes "$([ "$REBAL_SLOTS" -gt 0 ] && echo yes || echo "no")"
check "the load still ran when the rebalancing ended" yes \
    "$(kill -0 "$GEN" 2>/dev/null && echo yes || echo "no (make the load longer)")"
cluster_wait_ok 20 || check "the cluster converges after the rebalancing" ok failed

wait "$GEN"
GEN=
LOAD_GEN=$(sed -n 's/^GEN //p' "$D/gen.txt")
echo "# load: $LOAD_GEN"
grep -v '^load_gen: t=' "$D/gen.err" >&2
check "the load generator reported" yes "$([ -n "$LOAD_GEN" ] && echo yes || echo no)"
check "no request failed during the resharding" 0 "$(gen_field errors)"
check "no request refused during the resharding" 0 "$(gen_field refused)"
check "no forged or logged-out cookie accepted" 0 "$(gen_field accepted_unverified)"
check "no session of the load answered 401" 0 "$(gen_field me_401)"
check "keep-alives ran" yes "$(awk -v r="$(gen_field me_per_s)" 'BEGIN {print (r > 5) ? "yes" : "no (" r "/s)"}')"
check "logins ran" yes "$(awk -v r="$(gen_field logins_per_s)" 'BEGIN {print (r > 0.5) ? "yes" : "no (" r "/s)"}')"
check "no session made through checkupd before was lost" "$BEFORE" "$(load_count_alive "$WEB_PORT" "$D")"
R=$("$WAIT_DRIVE" "$D/checkup.conf" count "$D/sids" 10)
echo "# sessions made through the store: $R"
check "no session made through the store before was lost" "valid=3000 gone=0" "$R"
web_stop rs
check "checkupd stops cleanly" 0 "$WEB_RC"
web_summary
