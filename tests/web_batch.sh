#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd's keep-alives (/session, /v1/users/me) go through the touch pool:
# the token is checked on the request thread, and the pool's thread touches
# every queued session in one store call (one Redis pipeline, one LMDB
# write transaction). On the embedded store and on Redis:
#  - many keep-alives at once, each for its own session: every answer names
#    its own session's user (no answer goes to another request), a
#    logged-out session in the middle of them is refused every time;
#  - the pool's counters show the keep-alives went through it;
#  - a Redis that stops answering fails the batch closed (503, one log line
#    a batch), and the next keep-alives after it comes back succeed.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
# A Redis left stopped (SIGSTOP below) would not see redis_stop_all's SIGTERM.
trap 'if [ -n "${rpid:-}" ]; then kill -CONT "$rpid" 2>/dev/null; fi; web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

NSESS=24
ROUNDS=6

metric() {
    curl -s --max-time 5 "$U/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# ask KIND USER TOKEN: one keep-alive; prints "USER STATUS ANSWERED-USER".
ask() {
    if [ "$1" = me ]; then
        curl -s --max-time 20 -o "$D/me.$$.$3" -w '%{http_code}' \
            -H "Authorization: Bearer $3" "$U/v1/users/me" > "$D/st.$$.$3"
        printf '%s %s %s\n' "$2" "$(cat "$D/st.$$.$3")" \
            "$(sed -n 's/.*"user":"\([^"]*\)".*/\1/p' "$D/me.$$.$3")"
        rm -f "$D/me.$$.$3" "$D/st.$$.$3"
    else
        curl -s --max-time 20 -o /dev/null -D - -w 'STATUS %{http_code}\n' \
            -H "Cookie: $WEB_COOKIE=$3" "$U/session" |
            awk -v u="$2" '/^[Xx]-[Cc]heckup-[Uu]ser:/ { sub(/\r$/, "", $2); who = $2 }
                /^STATUS / { s = $2 } END { printf "%s %s %s\n", u, s, who }'
    fi
}

# burst KIND: every session asked at once, ROUNDS times; the answers in $D/answers.
burst() {
    : > "$D/answers"
    r=0
    while [ $r -lt $ROUNDS ]; do
        pids=
        while read -r user tok; do
            ask "$1" "$user" "$tok" >> "$D/answers" &
            pids="$pids $!"
        done < "$D/tokens"
        for p in $pids; do wait "$p"; done
        r=$((r + 1))
    done
}

one_store() {
    store=$1 url=$2
    D=$CK_TEST_TMP/batch-$store
    web_setup "$D" "$url" "threads = 4" "login_rate_limit = 100000" || exit 1
    web_start "batch-$store" "$D/checkup.conf" || exit 1
    U="http://127.0.0.1:$WEB_PORT"
    : > "$D/tokens"
    i=0
    while [ $i -lt $NSESS ]; do
        if [ $((i % 2)) -eq 0 ]; then
            u=alice@example.org t=$(web_login "$WEB_PORT" $u "$WEB_PW_ALICE")
        else
            u=bob@example.org t=$(web_login "$WEB_PORT" $u "$WEB_PW_BOB")
        fi
        [ -n "$t" ] && echo "$u $t" >> "$D/tokens"
        i=$((i + 1))
    done
    check "$store: $NSESS sessions made" $NSESS "$(wc -l < "$D/tokens")"
    # One of alice's sessions logged out: it must be refused in every burst.
    gone=$(sed -n '3s/^[^ ]* //p' "$D/tokens")
    check "$store: a logout" 303 "$(status "$U/logout" -X POST -H "Origin: $WEB_ORIGIN" \
        -H "Cookie: $WEB_COOKIE=$gone")"
    sed -i '3s/^[^ ]* /gone /' "$D/tokens"
    done0=$(metric 'checkupd_pool_done_total{pool="touch"}')

    for kind in session me; do
        burst $kind
        total=$(wc -l < "$D/answers")
        check "$store $kind: every keep-alive answered" $((NSESS * ROUNDS)) "$total"
        check "$store $kind: every live session answered 200 with its own user" 0 \
            "$(awk '$1 != "gone" && ($2 != 200 || $3 != $1)' "$D/answers" | wc -l)"
        check "$store $kind: the logged-out session refused every time" "$ROUNDS" \
            "$(awk '$1 == "gone" && $2 == 401 && $3 == ""' "$D/answers" | wc -l)"
    done
    done1=$(metric 'checkupd_pool_done_total{pool="touch"}')
    batches=$(metric checkupd_touch_batches_total)
    echo "# $store: $((done1 - done0)) keep-alives through the touch pool in" \
        "$batches batches (including the logins' cookie checks)"
    # On the embedded store a session touched this second already is
    # answered without the pool (a read); the rest go through it.
    if [ "$store" = redis ]; then
        check "$store: every keep-alive went through the touch pool" yes \
            "$([ $((done1 - done0)) -ge $((2 * NSESS * ROUNDS)) ] && echo yes || echo no)"
    else
        check "$store: keep-alives went through the touch pool" yes \
            "$([ $((done1 - done0)) -ge $NSESS ] && echo yes || echo no)"
    fi
    check "$store: no more batches than keep-alives" yes \
        "$([ "$batches" -ge 1 ] && [ "$batches" -le "$done1" ] && echo yes || echo no)"
}

one_store lmdb "lmdb:$CK_TEST_TMP/batch-lmdb/store"
web_stop batch-lmdb
check "lmdb: clean exit" 0 "$WEB_RC"

rport=$(redis_start batch) || exit 1
one_store redis "redis://127.0.0.1:$rport"

# ---- Redis stops answering: the batch fails closed, then recovers ----
rpid=$(cat "$CK_TEST_TMP/batch/redis.pid" 2>/dev/null || true)
if [ -n "$rpid" ] && kill -STOP "$rpid"; then
    tok=$(sed -n '1s/^[^ ]* //p' "$D/tokens")
    : > "$D/stalled"
    pids=
    for i in 1 2 3 4 5 6 7 8; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
            -H "Cookie: $WEB_COOKIE=$tok" "$U/session" >> "$D/stalled" &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p"; done
    kill -CONT "$rpid"
    check "stalled redis: every keep-alive refused with 503" 8 "$(grep -c '^503$' "$D/stalled")"
    check_grep "stalled redis: the batch's failure logged" "keep-alives)" \
        "$CK_TEST_TMP/batch-redis.log"
    ok=0
    for i in 1 2 3 4 5 6 7 8 9 10; do
        [ "$(status "$U/session" -H "Cookie: $WEB_COOKIE=$tok")" = 200 ] && ok=1 && break
        sleep 0.3
    done
    check "redis back: keep-alives succeed again" 1 "$ok"
else
    check "the test's redis-server can be stopped" yes no
fi
web_stop batch-redis
check "redis: clean exit" 0 "$WEB_RC"
check_nogrep "no token in the logs" "$tok" "$CK_TEST_TMP/batch-redis.log"
web_summary
