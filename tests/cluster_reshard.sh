#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Resharding a Redis Cluster under load. checkupd on a 3-primary,
# 3-replica cluster (tests/lib/cluster.sh), as the ACL user "checkup" of
# conf/redis/checkup-auth.conf, serves bench/load_gen in strict
# mode (logins, keep-alives, logouts, and attackers replaying forged and
# logged-out cookies), and tests/wait_drive logs in and out through the
# store from 8 threads, round after round, while redis-cli --cluster
# reshard moves 1000 slots, keys and all, from one primary to another and
# --cluster rebalance moves them back. The store follows the MOVED and
# ASK redirections itself, so:
#   - no request fails (strict mode: any answer but the expected one);
#   - no session is lost: those made before (through checkupd and, many
#     more, through the store) and during all stay valid;
#   - no forged or logged-out cookie is accepted, no logged-out session
#     is valid afterwards;
#   - the load ran for the whole of the resharding, and keys did move.
# Everything started here is stopped by pid.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/cluster.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/load_common.sh"
D=$CK_TEST_TMP/rs
gen_stop() { [ -n "${GEN:-}" ] && kill "$GEN" 2>/dev/null && wait "$GEN" 2>/dev/null; GEN=; }
churn_stop() { [ -n "${CHURN:-}" ] && touch "$D/churn.stop" && wait "$CHURN" 2>/dev/null; CHURN=; }
trap 'gen_stop; churn_stop; web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM
WAIT_DRIVE="$top_builddir/tests/wait_drive"
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# sum NAME FILE: NAME= summed over the lines of FILE.
sum() { awk -F"$1=" '{split($2, a, " "); s += a[1]} END {print s + 0}' "$2"; }

# As the ACL user "checkup" of the sample ACL: ASKING must be granted.
CL_ACL=1
cluster_start rs || { check "a 3-primary, 3-replica cluster converges" ok failed; exit 1; }
URL="redis+cluster://checkup@$CL_SEEDS/"
load_setup "$D" "$URL" 16 "login_rate_limit = 0" "per_ip_connection_limit = 0" \
    "[store]" "password_file = $CL_APP_PW_FILE" ||
    { check "checkupd setup on the cluster" 0 1; exit 1; }
web_start rs "$D/checkup.conf" || { check "checkupd starts on the cluster" 0 1; exit 1; }
load_login_many "$WEB_PORT" "$D" 10 || check "10 logins through checkupd before the load" 0 1
BEFORE=$(load_count_alive "$WEB_PORT" "$D")
check "10 sessions valid before the resharding" 10 "$BEFORE"
printf '%s\n' "[store]" "url = $URL" "password_file = $CL_APP_PW_FILE" > "$D/store.conf"
"$WAIT_DRIVE" "$D/store.conf" make 3000 "$D/sids" > /dev/null
check "3000 sessions made through the store before the resharding" 3000 \
    "$(wc -l < "$D/sids" 2>/dev/null || echo 0)"

# Strict mode: 10 users, 4 attackers, a keep-alive every 0.1 s, a new
# session every 3 s; 22 s in all, longer than the resharding below.
"$top_builddir/bench/load_gen" -u "http://127.0.0.1:$WEB_PORT" -o "$WEB_ORIGIN" -p "$D/pw" \
    -n 10 -a 4 -r 1 -H 20 -d 1 -k 0.1 -s 3 -t 10 > "$D/gen.txt" 2> "$D/gen.err" &
GEN=$!
sleep 2
# Through the store, round after round until the resharding is over:
# 500 logins, and the logouts of the round before's, from 4 threads.
churn_rounds() {
    _prev=-
    _r=0
    while [ ! -e "$D/churn.stop" ] && [ $_r -lt 100 ]; do
        _r=$((_r + 1))
        "$WAIT_DRIVE" "$D/store.conf" churn "$_prev" 500 4 0 "$D/churn$_r" >> "$D/churn.txt" ||
            echo "churn round $_r failed" >> "$D/churn.txt"
        _prev=$D/churn$_r.in
        sleep 0.2
    done
}
churn_rounds &
CHURN=$!

# shellcheck disable=SC2046
set -- $(cluster_primaries)
FROM=$1 TO=$2
FROM_ID=$(cl_cli "$FROM" cluster myid | tr -d '\r')
TO_ID=$(cl_cli "$TO" cluster myid | tr -d '\r')
SLOT=$(cl_cli "$FROM" cluster shards | tr -d '\r' | awk -v p="$FROM" '
    $0 == "slots" { getline lo; getline hi; next } prev == "port" && $0 == p { print lo; exit }
    { prev = $0 }')
t0=$(date +%s)
cl_cli "$FROM" --cluster reshard "127.0.0.1:$FROM" --cluster-from "$FROM_ID" \
    --cluster-to "$TO_ID" --cluster-slots 1000 --cluster-yes \
    > "$D/reshard.out" 2>&1
check "redis-cli --cluster reshard succeeds" 0 "$?"
MOVED_SLOTS=$(grep -c '^Moving slot' "$D/reshard.out")
MOVED_KEYS=$(grep '^Moving slot' "$D/reshard.out" | tr -cd . | wc -c)
echo "# reshard: $MOVED_SLOTS slots, $MOVED_KEYS keys moved from $FROM to $TO in $(( $(date +%s) - t0 )) s"
check "1000 slots moved" 1000 "$MOVED_SLOTS"
check "keys moved with them" yes "$([ "$MOVED_KEYS" -gt 100 ] && echo yes || echo "no ($MOVED_KEYS)")"
check "slot $SLOT is served by its new primary" "$TO" "$(cluster_primary_of_slot "$SLOT")"
# Every node must know of the move before redis-cli rebalances.
cluster_wait_ok 20 || check "the cluster converges after the reshard" ok failed
cl_cli "$FROM" --cluster rebalance "127.0.0.1:$FROM" --cluster-yes \
    > "$D/rebalance.out" 2>&1
check "redis-cli --cluster rebalance succeeds" 0 "$?"
echo "# rebalance: done $(( $(date +%s) - t0 )) s after the reshard began"
check "rebalance moved slots back" yes "$(grep -q 'Moving [0-9]* slots' "$D/rebalance.out" && echo yes || echo no)"
check "redis-cli reported no error" "" "$(grep -h 'ERR' "$D/reshard.out" "$D/rebalance.out")"
check "the load still ran when the rebalancing ended" yes \
    "$(kill -0 "$GEN" 2>/dev/null && echo yes || echo "no (make the load longer)")"
cluster_wait_ok 20 || check "the cluster converges after the rebalancing" ok failed
churn_stop
redirects() {
    for _p in $CL_PORTS; do cl_cli "$_p" info errorstats; done | tr -d '\r' |
        awk -F'[:=,]' -v e="errorstat_$1" '$1 == e { s += $3 } END { print s + 0 }'
}
echo "# redirections answered during the test: MOVED $(redirects MOVED), ASK $(redirects ASK), TRYAGAIN $(redirects TRYAGAIN)"

ROUNDS=$(grep -c '^logout_ok=' "$D/churn.txt")
echo "# through the store during the resharding, $ROUNDS rounds:"
echo "#   slowest answer $(awk -F'max_ms=' '{split($2, a, " "); if (a[1] > m) m = a[1]} END {print m + 0}' \
    "$D/churn.txt") ms"
check "store: the rounds ran all through the resharding" yes \
    "$([ "$ROUNDS" -ge 3 ] && echo yes || echo "no ($ROUNDS)")"
check "store: no round failed" 0 "$(grep -c 'failed' "$D/churn.txt")"
check "store: every login answered done" "$((ROUNDS * 500))" "$(sum login_ok "$D/churn.txt")"
check "store: every logout answered done" "$(((ROUNDS - 1) * 500))" \
    "$(sum logout_ok "$D/churn.txt")"
cat "$D"/churn[0-9]*.out > "$D/all.out"
R=$("$WAIT_DRIVE" "$D/store.conf" count "$D/all.out" 10)
check "store: no logged-out session valid afterwards" "valid=0 gone=$(((ROUNDS - 1) * 500))" "$R"
R=$("$WAIT_DRIVE" "$D/store.conf" count "$D/churn$ROUNDS.in" 10)
check "store: the last round's sessions valid afterwards" "valid=500 gone=0" "$R"

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
check "keep-alives ran" yes "$(awk -v r="$(gen_field me_per_s)" 'BEGIN {print (r > 20) ? "yes" : "no (" r "/s)"}')"
check "logins ran" yes "$(awk -v r="$(gen_field logins_per_s)" 'BEGIN {print (r > 0.5) ? "yes" : "no (" r "/s)"}')"
check "no session made through checkupd before was lost" "$BEFORE" "$(load_count_alive "$WEB_PORT" "$D")"
R=$("$WAIT_DRIVE" "$D/store.conf" count "$D/sids" 10)
echo "# sessions made through the store: $R"
check "no session made through the store before was lost" "valid=3000 gone=0" "$R"
web_stop rs
check "checkupd stops cleanly" 0 "$WEB_RC"
web_summary
