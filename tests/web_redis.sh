#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd on a real redis-server: the whole behaviour suite, then the
# store going away (fail closed: 503, never a session accepted unverified).
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if [ -z "${REDIS_SERVER:-}" ]; then
    echo "redis-server is required (scripts/install-deps.sh installs it)"
    exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/web_suite.sh"
trap 'web_stop_all; redis_stop_all' EXIT
port=$(redis_start web) || exit 99
url="redis://127.0.0.1:$port/0"
web_suite "$CK_TEST_TMP/redis" "$url" || check "suite set-up" ok failed

D=$CK_TEST_TMP/redis
web_start down "$D/checkup.conf" || check "start" ok failed
u="http://127.0.0.1:$WEB_PORT"
T=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE" -H "X-Forwarded-For: 203.0.113.99")
check "login before the outage" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$T")"
redis_stop web
check "/healthz with redis down" 503 "$(status "$u/healthz")"
check "/session with redis down fails closed" 503 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$T")"
check "a forged token costs no store trip" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$T"x)"
# /metrics is ck_metrics.h's rendering: an outage is a figure, not an error.
check "/metrics with redis down" 200 "$(status "$u/metrics")"
check "/metrics shows the store down" 'checkup_store_up{backend="redis"} 0' \
    "$(curl -s "$u/metrics" | grep '^checkup_store_up')"
redis_restart web
# Each worker thread reconnects on its next request, after its backoff
# (at most 2 s): service must be back within that, not at once.
h=503 i=0
while [ "$i" -lt 30 ]; do
    h=$(status "$u/healthz")
    [ "$h" = 200 ] && break
    sleep 0.1
    i=$((i + 1))
done
check "/healthz within 3 s after redis is back" 200 "$h"
web_stop down
check "clean exit" 0 "$WEB_RC"
check_nogrep "no token in the log" "${T##*.}" "$CK_TEST_TMP/down.log"
web_summary
