#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# [store] wait_replicas against a replica 50 ms behind its primary (the
# replication stream goes through tests/lib/lag_relay.py), three sentinels,
# and the primary killed (SIGKILL) right after the last answer:
#   - wait_replicas = 1: no answered logout comes back and no answered
#     login is lost after the failover;
#   - wait_replicas = 0: some answered logouts come back (today's
#     behaviour without WAIT: the test can tell the two apart);
#   - the replica stopped (SIGSTOP): logouts and logins answer "not
#     durable" within about wait_timeout_ms, none is reported done, the
#     CLI exits 1 saying so, checkupd answers 503 and clears the cookie,
#     and the audit says why;
#   - bad wait_replicas / wait_timeout_ms values are configuration errors.
# Everything started here is stopped by pid.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/faults_lagged.sh"
trap 'web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

CK="$top_builddir/checkup"
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && a >= 0 && a <= b)}' && echo yes || echo "no ($1 > $2)"; }

# ---- configuration ---------------------------------------------------------
for bad in "wait_replicas = -1" "wait_replicas = 17" "wait_replicas = x" \
           "wait_timeout_ms = 0" "wait_timeout_ms = 10001"; do
    printf '%s\n' "[store]" "url = redis://127.0.0.1:1/0" "$bad" > "$CK_TEST_TMP/bad.conf"
    "$CK" -c "$CK_TEST_TMP/bad.conf" config check > "$CK_TEST_TMP/bad.out" 2>&1
    check "config: '$bad' is refused" 1 "$?"
    check_grep "config: '$bad' is named in the message" "${bad%% *}" "$CK_TEST_TMP/bad.out"
done

# ---- failover with a lagging replica ----------------------------------------
lag_failover_run w1 1 1000 500 || check "wait_replicas=1 scenario ran" 0 1
echo "# wait_replicas=1: $LAG_CHURN"
check "wait_replicas=1: every logout answered done" 1000 "$(field logout_ok "$LAG_CHURN")"
check "wait_replicas=1: every login answered done" 500 "$(field login_ok "$LAG_CHURN")"
check "wait_replicas=1: no logged-out session valid again after the failover" 0 "$LAG_RESURRECTED"
check "wait_replicas=1: no answered login lost in the failover" 0 "$LAG_LOST"

lag_failover_run w0 0 1000 500 || check "wait_replicas=0 scenario ran" 0 1
echo "# wait_replicas=0: $LAG_CHURN resurrected=$LAG_RESURRECTED lost=$LAG_LOST"
check "wait_replicas=0: some logged-out sessions are valid again (the test can fail)" yes \
    "$([ "${LAG_RESURRECTED:-0}" -gt 0 ] && echo yes || echo "no ($LAG_RESURRECTED)")"

# ---- a stopped replica: WAIT times out ---------------------------------------
lag_pair st 0 || check "stopped-replica setup ran" 0 1
SC="$CK_TEST_TMP/st.conf"
printf '%s\n' "[store]" "url = redis://127.0.0.1:$LAG_P/0" "wait_replicas = 1" \
    "wait_timeout_ms = 300" "command_timeout_ms = 500" "[audit]" \
    "file = $CK_TEST_TMP/st.audit" > "$SC"
# The sessions are made with a long wait: on a busy machine a healthy
# replica can take more than 300 ms to confirm, and that is not under test.
sed 's/^wait_timeout_ms = .*/wait_timeout_ms = 10000/' "$SC" > "$CK_TEST_TMP/st-make.conf"
"$WAIT_DRIVE" "$CK_TEST_TMP/st-make.conf" make 20 "$CK_TEST_TMP/st.sids" > /dev/null
check "stopped replica: 20 sessions made before the stop" 20 "$(wc -l < "$CK_TEST_TMP/st.sids")"
kill -STOP "$LAG_RPID"
R=$("$WAIT_DRIVE" "$SC" churn "$CK_TEST_TMP/st.sids" 5 4 0 "$CK_TEST_TMP/st.res")
echo "# stopped replica: $R"
check "stopped replica: no logout reported done" 0 "$(field logout_ok "$R")"
check "stopped replica: every logout says not durable" 20 "$(field logout_not_durable "$R")"
check "stopped replica: no login reported done" 0 "$(field login_ok "$R")"
check "stopped replica: every login refused as not durable" 5 "$(field login_not_durable "$R")"
# wait_timeout_ms (300) + command timeout (500) at worst, with slack for a busy machine.
check "stopped replica: answers within the timeouts (ms)" yes "$(le "$(field max_ms "$R")" 2000)"
check "stopped replica: it did wait for the replica (ms)" yes \
    "$(le 250 "$(field max_ms "$R")")"
# The refused logins' sessions were deleted again (only the 20 made before remain, ended).
check "stopped replica: a refused login leaves no session behind" 0 \
    "$(redis-cli -p "$LAG_P" --scan --pattern 'ck:u:*' | while read -r k; do
        redis-cli -p "$LAG_P" zcard "$k"; done | awk '{s += $1} END {print s + 0}')"

# The CLI: exit 1, and the message says what it means.
printf '%s\n' "[users]" "file = $CK_TEST_TMP/st.users" >> "$SC"
: > "$CK_TEST_TMP/st.users"
"$CK" -c "$SC" sessions revoke-user wait1@example.org > "$CK_TEST_TMP/cli.out" 2>&1
check "stopped replica: checkup sessions revoke-user exits 1" 1 "$?"
check_grep "stopped replica: the CLI says the revocation may not survive a failover" \
    "may not survive a failover" "$CK_TEST_TMP/cli.out"
check_grep "stopped replica: the CLI's audit event says why" '"not_durable"' \
    "$CK_TEST_TMP/st.audit"
# A lockout clear is a change the replicas must confirm too.
lid=$(printf %s locked@example.org | sha256sum | cut -c1-32)
redis-cli -p "$LAG_P" hset "ck:f:lk:u:$lid" n 1 e $(( $(date +%s) + 3600 )) > /dev/null
"$CK" -c "$SC" lockout clear locked@example.org > "$CK_TEST_TMP/lock.out" 2>&1
check "stopped replica: checkup lockout clear exits 1" 1 "$?"
check_grep "stopped replica: it says the lockout change may not survive a failover" \
    "lockout change may not survive a failover" "$CK_TEST_TMP/lock.out"

# checkupd: a login refused, a logout answered 503 with the cookie cleared.
kill -CONT "$LAG_RPID"
web_setup "$CK_TEST_TMP/web" "redis://127.0.0.1:$LAG_P/0" "[store]" "wait_replicas = 1" \
    "wait_timeout_ms = 300" || check "checkupd setup" 0 1
web_start st "$CK_TEST_TMP/web/checkup.conf" || check "checkupd started" 0 1
TOK=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE")
check "checkupd: a login with the replica up succeeds" yes "$([ -n "$TOK" ] && echo yes || echo no)"
kill -STOP "$LAG_RPID"
check "checkupd: a login with the replica stopped is refused" 503 \
    "$(status "http://127.0.0.1:$WEB_PORT/login" -H "Origin: $WEB_ORIGIN" \
        --data-urlencode "email=bob@example.org" --data-urlencode "password=$WEB_PW_BOB")"
curl -s -o /dev/null -D "$CK_TEST_TMP/logout.h" -w '%{http_code}\n' --max-time 10 -X POST \
    -H "Origin: $WEB_ORIGIN" -H "Cookie: $WEB_COOKIE=$TOK" \
    "http://127.0.0.1:$WEB_PORT/logout" > "$CK_TEST_TMP/logout.code"
check "checkupd: /logout answers 503 when the replicas did not confirm" 503 \
    "$(cat "$CK_TEST_TMP/logout.code")"
check "checkupd: the 503 still clears the cookie" yes \
    "$(grep -qi "^set-cookie: $WEB_COOKIE=;.*max-age=0" "$CK_TEST_TMP/logout.h" && echo yes || echo no)"
check_grep "checkupd: the log says the logout may not survive a failover" \
    "may not survive a failover" "$CK_TEST_TMP/st.log"
check "checkupd: the logout's audit event carries the reason" 1 \
    "$(grep '"event":"logout"' "$CK_TEST_TMP/web/audit.jsonl" | grep -c '"not_durable"')"
check "checkupd: the refused login's audit event carries the reason" 1 \
    "$(grep '"session_open"' "$CK_TEST_TMP/web/audit.jsonl" | grep -c '"not_durable"')"
kill -CONT "$LAG_RPID"
# The JSON logout (a Bearer token) says the same: 503 not_durable. The
# workers report changes unconfirmed for a second after a failed WAIT:
# log in again once that has passed.
i=0
TOK=
while [ -z "$TOK" ] && [ $i -lt 20 ]; do
    sleep 0.3
    TOK=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE")
    i=$((i + 1))
done
check "checkupd: logins work again once the replica is back" yes \
    "$([ -n "$TOK" ] && echo yes || echo no)"
kill -STOP "$LAG_RPID"
curl -s -o "$CK_TEST_TMP/api.body" -w '%{http_code}\n' --max-time 10 -X POST \
    -H "Authorization: Bearer $TOK" "http://127.0.0.1:$WEB_PORT/v1/auth/logout" \
    > "$CK_TEST_TMP/api.code"
check "checkupd: /v1/auth/logout answers 503 when the replicas did not confirm" 503 \
    "$(cat "$CK_TEST_TMP/api.code")"
check_grep "checkupd: ... with error not_durable" '"error":"not_durable"' "$CK_TEST_TMP/api.body"
kill -CONT "$LAG_RPID"
web_summary
