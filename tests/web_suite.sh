# SPDX-License-Identifier: BSD-3-Clause
# The checkupd behaviour suite, run against one store by tests/web_lmdb.sh
# and tests/web_redis.sh. Source it after tests/web_common.sh and call
# web_suite DIR STORE_URL; it starts and stops its own daemons.

b64url() {
    base64 -w0 | tr '+/' '-_' | tr -d '='
}

web_suite_basic() {
    u="http://127.0.0.1:$P"
    O="Origin: $WEB_ORIGIN"
    check "GET /login" 200 "$(status "$u/login")"
    curl -s -D "$D/h" -o "$D/b" "$u/login"
    check_grep "login page has a CSP" "Content-Security-Policy: default-src 'none'" "$D/h"
    check_grep "login page is not cached" "Cache-Control: no-store" "$D/h"
    check_grep "HSTS on an https public URL" "Strict-Transport-Security: max-age=31536000; includeSubDomains" "$D/h"
    check_nogrep "login page has no script" "<script" "$D/b"
    check_grep "login page labels its fields" '<label for="password">' "$D/b"
    check "GET /healthz" 200 "$(status "$u/healthz")"

    # Cross-origin and origin-less POSTs are refused before anything else.
    check "POST /login without Origin" 403 "$(status "$u/login" \
        --data-urlencode email=alice@example.org --data-urlencode "password=$WEB_PW_ALICE")"
    check "POST /login from another origin" 403 "$(status "$u/login" -H "Origin: https://evil.example" \
        --data-urlencode email=alice@example.org --data-urlencode "password=$WEB_PW_ALICE")"
    check "POST /login with a same-origin Referer" 303 "$(status "$u/login" -H "Referer: $WEB_ORIGIN/login" \
        --data-urlencode email=alice@example.org --data-urlencode "password=$WEB_PW_ALICE")"
    check "wrong password" 401 "$(status "$u/login" -H "$O" \
        --data-urlencode email=alice@example.org --data-urlencode "password=nope-$WEB_PW_BOB")"
    check "unknown user" 401 "$(status "$u/login" -H "$O" \
        --data-urlencode email=nobody@example.org --data-urlencode "password=$WEB_PW_ALICE")"
    # A disabled account with its right password: the wrong-password answer.
    check "disabled account" 401 "$(status "$u/login" -H "$O" \
        --data-urlencode email=carol@example.org --data-urlencode "password=$WEB_PW_ALICE")"
    check_grep "disabled account audited" '"reason":"account_disabled"' "$D/audit.jsonl"
    check "empty form" 400 "$(status "$u/login" -H "$O" --data-urlencode email=)"

    # A good login: 303 to rd with the session cookie, flags exactly as specified.
    curl -s -o /dev/null -D "$D/h" -H "$O" --data-urlencode email=alice@example.org \
        --data-urlencode "password=$WEB_PW_ALICE" --data-urlencode rd=/app/page "$u/login"
    check "login answers 303" 1 "$(grep -c '^HTTP/1.1 303' "$D/h")"
    check_grep "login redirects to rd" "Location: /app/page" "$D/h"
    flags=$(sed -n "s/^Set-Cookie: $WEB_COOKIE=[^;]*\(;.*\)$/\1/p" "$D/h" | tr -d '\r')
    check "cookie flags" "; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=86400" "$flags"
    A=$(sed -n "s/^Set-Cookie: $WEB_COOKIE=\([^;]*\);.*/\1/p" "$D/h")
    echo "$A" >> "$D/tokens"
    check "token has three parts" 3 "$(echo "$A" | awk -F. '{print NF}')"
    # One event per fact: login_success once per login, then session_open
    # naming the new session (alice logged in twice so far).
    check "login_success once per login" 2 \
        "$(grep -c '"event":"login_success","user":"alice@example.org","method":"password"' "$D/audit.jsonl")"
    check "session_open names each new session" 2 \
        "$(grep '"event":"session_open".*"method":"password"' "$D/audit.jsonl" | grep -c '"sid":"')"

    # /session for auth_request: headers from the session.
    curl -s -o /dev/null -D "$D/h" -H "Cookie: other=1; $WEB_COOKIE=$A; x=y" "$u/session"
    check "/session with the cookie" 1 "$(grep -c '^HTTP/1.1 200' "$D/h")"
    check_grep "X-Checkup-User" "X-Checkup-User: alice@example.org" "$D/h"
    check_grep "X-Checkup-Email" "X-Checkup-Email: alice@example.org" "$D/h"
    check_grep "X-Checkup-Role" "X-Checkup-Role: doctor" "$D/h"
    check_grep "X-Checkup-Clinic" "X-Checkup-Clinic: clinic-7" "$D/h"
    check_grep "X-Checkup-Auth-Method" "X-Checkup-Auth-Method: email" "$D/h"
    check_grep "/session is not cached" "Cache-Control: no-store" "$D/h"
    check "/session with a Bearer token" 200 "$(status "$u/session" -H "Authorization: Bearer $A")"
    # A tool behind auth_request with its own Basic auth: the cookie still counts.
    check "Basic beside the cookie" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$A" \
        -H "Authorization: Basic Ym9iOmJvYg==")"
    check "Digest beside the cookie" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$A" \
        -H 'Authorization: Digest username="x"')"
    check "a broken Bearer beside the cookie" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$A" \
        -H "Authorization: Bearer ")"
    check "/session without anything" 401 "$(status "$u/session")"

    # /v1/users/me: JSON, JSON errors, CORS allowlist with credentials.
    curl -s -D "$D/h" -o "$D/b" -H "Cookie: $WEB_COOKIE=$A" -H "Origin: https://tool.example.org" \
        "$u/v1/users/me"
    check "/v1/users/me role" doctor "$(jq -r .role "$D/b")"
    check_grep "CORS origin allowed" "Access-Control-Allow-Origin: https://tool.example.org" "$D/h"
    check_grep "CORS with credentials" "Access-Control-Allow-Credentials: true" "$D/h"
    curl -s -D "$D/h" -o "$D/b" -H "Origin: https://evil.example" "$u/v1/users/me"
    check "/v1/users/me without a session" unauthorized "$(jq -r .error "$D/b")"
    check_nogrep "CORS refuses an unlisted origin" "Access-Control-Allow-Origin" "$D/h"
    check "CORS preflight" 204 "$(status "$u/v1/users/me" -X OPTIONS -H "Origin: https://tool.example.org")"

    # Logout: needs the same origin, ends the session, clears the cookie.
    check "logout without Origin" 403 "$(status "$u/logout" -X POST -H "Cookie: $WEB_COOKIE=$A")"
    check "still valid after a refused logout" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$A")"
    curl -s -o /dev/null -D "$D/h" -X POST -H "$O" -H "Cookie: $WEB_COOKIE=$A" "$u/logout"
    check_grep "logout clears the cookie" "Set-Cookie: $WEB_COOKIE=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0" "$D/h"
    check "after logout" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$A")"
    check "/v1/users/me after logout" 401 "$(status "$u/v1/users/me" -H "Cookie: $WEB_COOKIE=$A")"

    # Logout from all devices: one cookie ends the other.
    A=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
    B=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
    C=$(web_login "$P" bob@example.org "$WEB_PW_BOB")
    printf '%s\n%s\n%s\n' "$A" "$B" "$C" >> "$D/tokens"
    check "second device valid" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$B")"
    check "logout/all" 303 "$(status "$u/logout/all" -X POST -H "$O" -H "Cookie: $WEB_COOKIE=$A")"
    check "first device ended" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$A")"
    check "second device ended" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$B")"
    check "another user's session kept" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$C")"

    curl -s -o "$D/b" "$u/metrics"
    check_grep "metrics: created counter" "checkup_sessions_created_total" "$D/b"
    # A, B and the session of the Referer login above.
    check_grep "metrics: ended by revocation" 'checkup_sessions_ended_total{reason="revoked"} 3' "$D/b"
}

web_suite_bad_input() {
    u="http://127.0.0.1:$P"
    O="Origin: $WEB_ORIGIN"
    T=$(web_login "$P" bob@example.org "$WEB_PW_BOB")
    echo "$T" >> "$D/tokens"
    hdr=${T%%.*}
    rest=${T#*.}
    pay=${rest%%.*}
    sig=${rest#*.}
    # The same payload under other signatures and algorithms.
    flipped=$(printf '%s' "$sig" | tr 'A-Za-z' 'B-ZAb-za')
    none=$(printf '{"alg":"none","typ":"JWT"}' | b64url)
    check "forged signature" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$hdr.$pay.$flipped")"
    check "alg none" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$none.$pay.")"
    check "garbage cookie" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=%%%;;;===")"
    check "empty cookie" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=")"
    check "two session cookies" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$T; $WEB_COOKIE=$T")"
    check "Basic instead of Bearer" 401 "$(status "$u/session" -H "Authorization: Basic Ym9iOmJvYg==")"
    long=$(head -c 3000 /dev/zero | tr '\0' A)
    check "over-long token" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$long.$long.$long")"
    check "bare token shape" 401 "$(status "$u/session" -H "Authorization: Bearer a.b.c")"
    check "valid token still works" 200 "$(status "$u/session" -H "Authorization: Bearer $T")"

    big=$(head -c 60000 /dev/zero | tr '\0' a)
    check "oversized header" 431 "$(status "$u/session" -H "X-Big: $big")"
    head -c 100000 /dev/zero | tr '\0' a > "$D/body"
    check "oversized body" 413 "$(status "$u/login" -H "$O" --data-binary "@$D/body")"
    check "oversized chunked body" 413 "$(status "$u/login" -H "$O" -H "Transfer-Encoding: chunked" \
        --data-binary "@$D/body")"
    check "NUL in a form field" 400 "$(status "$u/login" -H "$O" --data "email=bob%00@example.org&password=x")"
    check "form sent as JSON" 400 "$(status "$u/login" -H "$O" -H "Content-Type: application/json" \
        --data '{"email":"bob@example.org"}')"
    check "over-long form field" 400 "$(status "$u/login" -H "$O" \
        --data-urlencode "email=$(head -c 2000 /dev/zero | tr '\0' a)" --data-urlencode password=x)"

    for rd in //evil.example https://evil.example/ '/\evil.example' 'http://localhost:8443/' \
        '/app/%0d%0aX: y' 'javascript:alert(1)' '/other' ' /app' '/app/../../x' '/app/%2e%2e/x' \
        '/app/..%2f..%2fx' '/app/x/..%5c..%5cy' '/app/..'; do
        check "open redirect $rd" 400 "$(status "$u/login" -H "$O" --data-urlencode email=bob@example.org \
            --data-urlencode "password=$WEB_PW_BOB" --data-urlencode "rd=$rd")"
    done
    check "GET /login?rd=//evil" 400 "$(status "$u/login?rd=//evil.example")"
    check "GET /login?rd=/app/../../x" 400 "$(status "$u/login?rd=/app/../../x")"
    check "GET /login/corppass?rd=/app/%2e%2e/x" 400 "$(status "$u/login/corppass?rd=/app/%252e%252e/x")"
    check "rd with a dot segment inside /app" 303 "$(status "$u/login" -H "$O" \
        --data-urlencode email=bob@example.org --data-urlencode "password=$WEB_PW_BOB" \
        --data-urlencode "rd=/app/a/../b")"
    check "allowlisted absolute rd" 303 "$(status "$u/login" -H "$O" --data-urlencode email=bob@example.org \
        --data-urlencode "password=$WEB_PW_BOB" --data-urlencode "rd=https://tool.example.org/x")"

    for p in /nope /session/x /login/corppass /t/abcd /v1/users; do
        check "unknown $p" 404 "$(status "$u$p")"
    done
    check "GET /callback without a login" 400 "$(status "$u/callback")"
    check "GET /backchannel-logout" 405 "$(status "$u/backchannel-logout")"
    check "no provider: an empty JWKS" '{"keys":[]}' "$(curl -s "$u/.well-known/jwks.json")"
    check "PUT /session" 405 "$(status "$u/session" -X PUT)"
    check "POST /session" 404 "$(status "$u/session" -X POST -H "$O")"
    check "logout/all without Origin" 403 "$(status "$u/logout/all" -X POST -H "Authorization: Bearer $T")"
    check "bob's session survived the bad input" 200 "$(status "$u/session" -H "Authorization: Bearer $T")"
}

# raw BYTES: "STATUS CLOSED RESPONSES" for bytes sent as they are (web_raw.py).
raw() {
    python3 "$top_srcdir/tests/web_raw.py" raw "$P" "$1"
}

# Framing a proxy might read otherwise, and request lines no client sends:
# 400 at once, and the connection closed (nothing after it is read);
# "closed" means within 2 s (web_raw.py's bound), where the head deadline
# alone would take 10.
web_suite_framing() {
    h='Host: x\r\n'
    check "Content-Length with Transfer-Encoding" "400 closed 1" \
        "$(raw "POST /login HTTP/1.1\r\n${h}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\n${h}\r\n")"
    check "Transfer-Encoding with Content-Length on a GET" "400 closed 1" \
        "$(raw "GET /healthz HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n")"
    check "two Content-Length" "400 closed 1" \
        "$(raw "POST /login HTTP/1.1\r\n${h}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab")"
    check "a transfer coding other than chunked" "400 closed 1" \
        "$(raw "POST /login HTTP/1.1\r\n${h}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")"
    check "control byte in the method" "400 closed 1" "$(raw "G\x01T /healthz HTTP/1.1\r\n${h}\r\n")"
    check "control byte in the target" "400 closed 1" "$(raw "GET /he\x01lthz HTTP/1.1\r\n${h}\r\n")"
    check "a request line that is not one" "400 closed 1" "$(raw "hello there\r\n\r\n")"
    check "a one-word request line" "400 closed 1" "$(raw 'GARBAGE\r\n\r\n')"
    check "binary bytes (TLS to the plain port)" "400 closed 1" \
        "$(raw '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03')"
    check "a line that starts with NUL" "400 closed 1" "$(raw '\x00\x01\x02\r\n')"
    check "a bad HTTP version" "400 closed 1" "$(raw "GET /healthz HTTP/x\r\n${h}\r\n")"
    # A sound request on the same connection is still answered and kept.
    check "chunked alone is fine" "404 open 1" \
        "$(raw "POST /nope HTTP/1.1\r\nOrigin: $WEB_ORIGIN\r\n${h}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")"
    check "keep-alive still works" "200 open 2" \
        "$(raw "GET /healthz HTTP/1.1\r\n${h}\r\nGET /healthz HTTP/1.1\r\n${h}\r\n")"
}

# A browser that logs in again: no second session beside the first.
web_suite_relogin() {
    u="http://127.0.0.1:$P"
    O="Origin: $WEB_ORIGIN"
    R=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
    echo "$R" >> "$D/tokens"
    curl -s -o /dev/null -D "$D/h" -H "Cookie: $WEB_COOKIE=$R" "$u/login?rd=/app/next"
    check "GET /login with a live session answers 303" 1 "$(grep -c '^HTTP/1.1 303' "$D/h")"
    check_grep "... on to rd" "Location: /app/next" "$D/h"
    check_nogrep "... without a new cookie" "Set-Cookie" "$D/h"
    check "GET /login with an ended session shows the form" 200 \
        "$(status "$u/login" -H "Cookie: $WEB_COOKIE=${R}x")"
    check "a Bearer token is not a browser's session" 200 \
        "$(status "$u/login" -H "Authorization: Bearer $R")"
    R2=$(curl -s -o /dev/null -D - -H "$O" -H "Cookie: $WEB_COOKIE=$R" \
        --data-urlencode email=alice@example.org --data-urlencode "password=$WEB_PW_ALICE" \
        "$u/login" | sed -n "s/^Set-Cookie: $WEB_COOKIE=\([^;]*\);.*/\1/p")
    echo "$R2" >> "$D/tokens"
    check "the new login's session" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$R2")"
    check "the replaced session ended" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$R")"
    check_grep "replacement audited" '"reason":"replaced_by_login"' "$D/audit.jsonl"
    # Another user's login in the same browser replaces it too.
    R3=$(web_login "$P" bob@example.org "$WEB_PW_BOB" -H "Cookie: $WEB_COOKIE=$R2")
    echo "$R3" >> "$D/tokens"
    check "another user's login ends the browser's session" 401 \
        "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$R2")"
    check "... and holds its own" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$R3")"
    # A failed login leaves the browser's session alone.
    check "a wrong password" 401 "$(status "$u/login" -H "$O" -H "Cookie: $WEB_COOKIE=$R3" \
        --data-urlencode email=bob@example.org --data-urlencode "password=nope")"
    check "... keeps the session" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$R3")"
}

# /metrics only for metrics_allow, judged on the client behind a trusted proxy.
web_suite_metrics_allow() {
    check "/metrics from loopback (default allow)" 200 "$(status "http://127.0.0.1:$P/metrics")"
    check "/metrics forwarded for a remote client" 403 \
        "$(status "http://127.0.0.1:$P/metrics" -H "X-Forwarded-For: 198.51.100.9")"
    check "/metrics forwarded for a loopback client" 200 \
        "$(status "http://127.0.0.1:$P/metrics" -H "X-Forwarded-For: 127.0.0.1")"
    check "/metrics outside metrics_allow" 403 "$(status "http://127.0.0.1:$Q/metrics")"
    check "/healthz stays open" 200 "$(status "http://127.0.0.1:$Q/healthz")"
}

# Lockout and rate limit, with client addresses from a trusted proxy.
web_suite_limits() {
    u="http://127.0.0.1:$P"
    O="Origin: $WEB_ORIGIN"
    i=0
    while [ $i -lt 5 ]; do
        status "$u/login" -H "$O" -H "X-Forwarded-For: 198.51.100.$i" \
            --data-urlencode email=bob@example.org --data-urlencode "password=bad$i" >/dev/null
        i=$((i + 1))
    done
    check "locked after 5 failures" 403 "$(status "$u/login" -H "$O" -H "X-Forwarded-For: 198.51.100.77" \
        --data-urlencode email=bob@example.org --data-urlencode "password=$WEB_PW_BOB")"
    check_grep "lock audited" '"event":"locked"' "$D/audit.jsonl"
    check_grep "client address from the trusted proxy" '"rhost":"198.51.100.3"' "$D/audit.jsonl"
    check "another user unaffected" 303 "$(status "$u/login" -H "$O" -H "X-Forwarded-For: 198.51.100.78" \
        --data-urlencode email=alice@example.org --data-urlencode "password=$WEB_PW_ALICE")"
    i=0
    last=
    while [ $i -lt 4 ]; do
        last=$(status "$u/login" -H "$O" -H "X-Forwarded-For: 192.0.2.1" \
            --data-urlencode "email=u$i@example.org" --data-urlencode "password=x")
        i=$((i + 1))
    done
    check "rate limit after 3 per minute" 429 "$last"
    check "other address not limited" 401 "$(status "$u/login" -H "$O" -H "X-Forwarded-For: 192.0.2.2" \
        --data-urlencode "email=x@example.org" --data-urlencode "password=x")"
}

# ended DESC TOKEN WORD: /session after the session ended: 401 that says
# why (body and X-Checkup-Session-End), and one audit event.
ended() {
    n0=$(grep -c "\"event\":\"session_$3\"" "$D/audit.jsonl")
    curl -s -o "$D/end.b" -D "$D/end.h" -H "Cookie: $WEB_COOKIE=$2" "$u/session"
    check "$1: 401" 1 "$(grep -c '^HTTP/1.1 401' "$D/end.h")"
    check_grep "$1: X-Checkup-Session-End" "X-Checkup-Session-End: $3" "$D/end.h"
    case $3 in
    expired_idle) check_grep "$1: told" "expired after 4 seconds of inactivity" "$D/end.b" ;;
    *) check_grep "$1: told" "reached its 14 seconds limit" "$D/end.b" ;;
    esac
    n1=$(grep -c "\"event\":\"session_$3\"" "$D/audit.jsonl")
    check "$1: audited once as session_$3" 1 "$((n1 - n0))"
}

# The inactivity timeout slides on every /session call. K idles out; L is
# kept alive until its absolute lifetime (14 s) ends it.
web_suite_keepalive() {
    u="http://127.0.0.1:$Q"
    K=$(web_login "$Q" alice@example.org "$WEB_PW_ALICE" -H "X-Forwarded-For: 203.0.113.5")
    L=$(web_login "$Q" alice@example.org "$WEB_PW_ALICE")
    printf '%s\n%s\n' "$K" "$L" >> "$D/tokens"
    sleep 2
    check "keep-alive 1" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$K")"
    status "$u/session" -H "Cookie: $WEB_COOKIE=$L" > /dev/null
    sleep 2
    check "keep-alive 2 (past the timeout from login)" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$K")"
    status "$u/session" -H "Cookie: $WEB_COOKIE=$L" > /dev/null
    sleep 2
    check "keep-alive 3" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$K")"
    status "$u/session" -H "Cookie: $WEB_COOKIE=$L" > /dev/null
    sleep 2.5
    check "keep-alive (second session)" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$L")"
    sleep 2.5
    check "keep-alive (second session, again)" 200 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$L")"
    ended "idle past the timeout" "$K" expired_idle
    check "then unknown" 401 "$(status "$u/session" -H "Cookie: $WEB_COOKIE=$K")"
    sleep 3.5
    ended "past the absolute lifetime" "$L" expired_lifetime
    check_grep "untrusted X-Forwarded-For ignored" '"rhost":"127.0.0.1"' "$D/audit.jsonl"
    check_nogrep "no address from an untrusted peer" '203.0.113.5' "$D/audit.jsonl"
}

web_suite_secrets() {
    for f in "$CK_TEST_TMP"/main.log "$CK_TEST_TMP"/main.log.prev "$CK_TEST_TMP"/short.log \
        "$D/audit.jsonl"; do
        while read -r t; do
            [ -n "$t" ] || continue
            sig=${t##*.}
            check_nogrep "no token in $(basename "$f")" "$sig" "$f"
        done < "$D/tokens"
        check_nogrep "no password in $(basename "$f")" "$WEB_PW_ALICE" "$f"
        check_nogrep "no bob password in $(basename "$f")" "$WEB_PW_BOB" "$f"
    done
}

web_suite() {
    D=$1
    web_setup "$D" "$2" "cors_origins = https://tool.example.org" \
        "redirect_allowlist = /app, https://tool.example.org/" \
        "trusted_proxies = 127.0.0.1/32, ::1" "login_rate_limit = 3" || return 1
    : > "$D/tokens"
    # A second daemon on the same store: short inactivity, no trusted proxy.
    # Its public_url is written as a person might (upper case, default
    # port, trailing '/'): browsers' Origin must still match it.
    sed -e 's/^login_rate_limit.*/login_rate_limit = 0/' -e 's/^trusted_proxies.*//' \
        -e "s|^public_url = .*|public_url = $(echo "$WEB_ORIGIN" | tr 'a-z' 'A-Z')/|" \
        -e 's|^\[daemon\]$|[daemon]\nmetrics_allow = 192.0.2.0/24|' "$D/checkup.conf" > "$D/short.conf"
    printf '%s\n' "[session]" "inactivity_timeout = 4" "absolute_lifetime = 14" >> "$D/short.conf"
    sed -i 's/^login_rate_limit = 3/login_rate_limit = 1000/' "$D/checkup.conf"
    web_start main "$D/checkup.conf" || return 1
    P=$WEB_PORT
    web_start short "$D/short.conf" || return 1
    Q=$WEB_PORT
    web_suite_basic
    web_suite_bad_input
    web_suite_framing
    web_suite_relogin
    web_suite_metrics_allow
    check "POST /login to a public_url in capitals" 303 "$(status "http://127.0.0.1:$Q/login" \
        -H "Origin: $WEB_ORIGIN" --data-urlencode email=bob@example.org \
        --data-urlencode "password=$WEB_PW_BOB")"
    sed -i 's/^login_rate_limit = 1000/login_rate_limit = 3/' "$D/checkup.conf"
    web_stop main
    web_start main "$D/checkup.conf" || return 1
    P=$WEB_PORT
    web_suite_limits
    web_suite_keepalive
    check "/healthz still fine" 200 "$(status "http://127.0.0.1:$P/healthz")"
    web_stop main
    check "SIGTERM: clean exit" 0 "$WEB_RC"
    web_stop short
    check "SIGTERM: clean exit (second)" 0 "$WEB_RC"
    web_suite_secrets
}
