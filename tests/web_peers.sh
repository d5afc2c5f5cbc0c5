#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Two checkupd processes on one Redis: a session made by one is valid on
# the other, and a logout on one is seen by the other at once.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if [ -z "${REDIS_SERVER:-}" ]; then
    echo "redis-server is required (scripts/install-deps.sh installs it)"
    exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'web_stop_all; redis_stop_all' EXIT
port=$(redis_start peers) || exit 99
D=$CK_TEST_TMP/peers
web_setup "$D" "redis://127.0.0.1:$port/0" || exit 1
web_start one "$D/checkup.conf" || exit 1
P1=$WEB_PORT
web_start two "$D/checkup.conf" || exit 1
P2=$WEB_PORT
O="Origin: $WEB_ORIGIN"

A=$(web_login "$P1" alice@example.org "$WEB_PW_ALICE")
check "made on one, valid on two" 200 "$(status "http://127.0.0.1:$P2/session" -H "Cookie: $WEB_COOKIE=$A")"
check "logout on two" 303 "$(status "http://127.0.0.1:$P2/logout" -X POST -H "$O" -H "Cookie: $WEB_COOKIE=$A")"
check "seen by one at once" 401 "$(status "http://127.0.0.1:$P1/session" -H "Cookie: $WEB_COOKIE=$A")"

B=$(web_login "$P1" alice@example.org "$WEB_PW_ALICE")
C=$(web_login "$P2" alice@example.org "$WEB_PW_ALICE")
check "second session on two" 200 "$(status "http://127.0.0.1:$P2/session" -H "Cookie: $WEB_COOKIE=$C")"
check "logout/all on one" 303 "$(status "http://127.0.0.1:$P1/logout/all" -X POST -H "$O" -H "Cookie: $WEB_COOKIE=$B")"
check "two's session ended at once" 401 "$(status "http://127.0.0.1:$P2/session" -H "Cookie: $WEB_COOKIE=$C")"
check "one's session ended" 401 "$(status "http://127.0.0.1:$P1/session" -H "Cookie: $WEB_COOKIE=$B")"

# Lockout counters are shared too: failures on one lock the account on two.
i=0
while [ $i -lt 5 ]; do
    p=$P1
    [ $((i % 2)) -eq 1 ] && p=$P2
    status "http://127.0.0.1:$p/login" -H "$O" --data-urlencode email=bob@example.org \
        --data-urlencode "password=bad$i" >/dev/null
    i=$((i + 1))
done
check "lockout shared by both daemons" 403 "$(status "http://127.0.0.1:$P2/login" -H "$O" \
    --data-urlencode email=bob@example.org --data-urlencode "password=$WEB_PW_BOB")"
web_stop one
check "one stops cleanly" 0 "$WEB_RC"
web_stop two
check "two stops cleanly" 0 "$WEB_RC"
for t in "$A" "$B" "$C"; do
    check_nogrep "no token in one's log" "${t##*.}" "$CK_TEST_TMP/one.log"
    check_nogrep "no token in two's log" "${t##*.}" "$CK_TEST_TMP/two.log"
done
web_summary
