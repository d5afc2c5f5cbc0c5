#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# nginx (Debian) with auth_request in front of a static dummy page and of
# checkupd, over TLS with a CA made now: the page is reachable with the
# session cookie, and without it nginx redirects to the login page.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'nginx_stop_all; web_stop_all; redis_stop_all' EXIT
command -v "$NGINX" >/dev/null 2>&1 || { echo "nginx is required (scripts/install-deps.sh)"; exit 1; }

web_front || exit 1
D=$CK_TEST_TMP/ngx
dir="$CK_TEST_TMP/nginx-front"
N="https://localhost:$NP"
K="--cacert $CK_TEST_TMP/certs/ca.crt"
# shellcheck disable=SC2086
check "page without a cookie redirects" 302 "$(status "$N/app/index.html" $K)"
# shellcheck disable=SC2086
loc=$(curl -s -o /dev/null -w '%{redirect_url}' $K "$N/app/index.html")
check "to the login page with rd" "$N/login?rd=/app/index.html" "$loc"
# shellcheck disable=SC2086
check "login page through nginx" 200 "$(status "$N/login?rd=/app/index.html" $K)"
# shellcheck disable=SC2086
hdrs=$(curl -s -o /dev/null -D - $K -H "Origin: $N" --data-urlencode email=alice@example.org \
    --data-urlencode "password=$WEB_PW_ALICE" --data-urlencode rd=/app/index.html "$N/login")
T=$(printf '%s' "$hdrs" | sed -n "s/^[Ss]et-[Cc]ookie: $WEB_COOKIE=\([^;]*\);.*/\1/p")
check "login through nginx sets the cookie" 3 "$(echo "$T" | awk -F. '{print NF}')"
# shellcheck disable=SC2086
curl -s -D "$CK_TEST_TMP/h" -o "$CK_TEST_TMP/b" $K -H "Cookie: $WEB_COOKIE=$T" "$N/app/index.html"
check "page with the cookie" 1 "$(grep -c '^HTTP/1.1 200' "$CK_TEST_TMP/h")"
check_grep "the dummy page" "internal tool" "$CK_TEST_TMP/b"
check_grep "nginx got the user from checkupd" "X-Seen-User: alice@example.org" "$CK_TEST_TMP/h"
check_grep "and the role" "X-Seen-Role: doctor" "$CK_TEST_TMP/h"
check_grep "audit sees the client behind nginx" '"rhost":"127.0.0.1"' "$D/audit.jsonl"
# shellcheck disable=SC2086
check "forged cookie refused" 302 "$(status "$N/app/index.html" $K -H "Cookie: $WEB_COOKIE=${T}x")"
# shellcheck disable=SC2086
check "logout through nginx" 303 "$(status "$N/logout" $K -X POST -H "Origin: $N" -H "Cookie: $WEB_COOKIE=$T")"
# shellcheck disable=SC2086
check "page after logout redirects" 302 "$(status "$N/app/index.html" $K -H "Cookie: $WEB_COOKIE=$T")"
nginx_stop front
web_stop ck
check "checkupd stops cleanly" 0 "$WEB_RC"
check_nogrep "no token in checkupd's log" "${T##*.}" "$CK_TEST_TMP/ck.log"
check_nogrep "no token in nginx's access log" "${T##*.}" "$dir/access.log"
check_nogrep "no token in nginx's error log" "${T##*.}" "$dir/error.log"
web_summary
