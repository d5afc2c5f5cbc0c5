#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The JSON API for programs and single-page tools: POST /v1/auth/login
# (JSON or a form), GET /v1/users/me with the Bearer token, POST
# /v1/auth/logout and /v1/auth/logout-all, with the same lockout, rate
# limit, audit and cross-site rules as the form login. A real checkupd on
# the embedded store.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
trap web_stop_all EXIT INT TERM
for tool in curl jq node; do
    command -v "$tool" > /dev/null || { echo "FAIL: $tool is required (scripts/install-deps.sh)"; exit 1; }
done
d=$CK_TEST_TMP/api
TOOL=https://tool.example.org
web_setup "$d" "lmdb:$d/store" "cors_origins = $TOOL" "login_rate_limit = 1000" || exit 99
web_start api "$d/checkup.conf" || exit 99
u=http://127.0.0.1:$WEB_PORT
J='Content-Type: application/json'

# post PATH BODY [CURL-ARGS...]: "STATUS BODY", headers in $d/h.
post() {
    _p=$1 _b=$2
    shift 2
    curl -s -D "$d/h" -o "$d/b" -w '%{http_code}' --max-time 10 -d "$_b" "$@" "$u$_p" > "$d/code"
    echo "$(cat "$d/code") $(cat "$d/b")"
}
login_json() {
    printf '{"email":"%s","password":"%s"}' "$1" "$2"
}
hdr() { tr -d '\r' < "$d/h" | sed -n "s/^$1: //Ip"; }

# --- login ---------------------------------------------------------------
out=$(post /v1/auth/login "$(login_json alice@example.org "$WEB_PW_ALICE")" -H "$J")
check "JSON login: 200" 200 "${out%% *}"
body=${out#* }
tok=$(echo "$body" | jq -r .token)
check "JSON login: a token" yes "$([ "${#tok}" -gt 40 ] && echo yes || echo no)"
cookie=$(hdr set-cookie | sed -n "s/^$WEB_COOKIE=\([^;]*\);.*/\1/p")
check "JSON login: the same token as the session cookie" "$tok" "$cookie"
check "JSON login: the user" "alice@example.org doctor clinic-7 email" \
    "$(echo "$body" | jq -r '[.user.email, .user.role, .user.clinic, .user.auth_method] | join(" ")')"
check "JSON login: no password or hash in the answer" 0 "$(grep -c "correct\|\\\$y\\\$" "$d/b")"
me=$(curl -s -H "Authorization: Bearer $tok" "$u/v1/users/me")
check "GET /v1/users/me with the Bearer token" alice@example.org "$(echo "$me" | jq -r .email)"
# expiresAt is the idle expiry: what /v1/users/me reports, less the
# second or two its own touch may have moved it.
got=$(date -u -d "$(echo "$body" | jq -r .expiresAt)" +%s)
lag=$(( $(echo "$me" | jq -r .expires) - got ))
check "expiresAt is the session's idle expiry (moved ${lag}s by the touch since)" yes \
    "$([ "$lag" -ge 0 ] && [ "$lag" -le 2 ] && echo yes || echo no)"
want=$(date -u -d "@$(echo "$me" | jq -r .deadline)" +%Y-%m-%dT%H:%M:%SZ)
check "absoluteExpiresAt is its deadline" "$want" "$(echo "$body" | jq -r .absoluteExpiresAt)"

out=$(post /v1/auth/login "$(login_json alice@example.org 'not it')" -H "$J")
check "wrong password: 401 invalid_credentials" "401 invalid_credentials" \
    "${out%% *} $(echo "${out#* }" | jq -r .error)"
out=$(post /v1/auth/login "$(login_json nobody@example.org 'not it')" -H "$J")
check "unknown user: the same 401" "401 invalid_credentials" \
    "${out%% *} $(echo "${out#* }" | jq -r .error)"
out=$(post /v1/auth/login "$(login_json carol@example.org "$WEB_PW_ALICE")" -H "$J")
check "disabled account, right password: the same 401" 401 "${out%% *}"

# --- what a hostile or careless caller sends --------------------------------
for bad in '[1]' '"x"' '{}' '{"email":"alice@example.org"}' \
           '{"email":"alice@example.org","password":7}' \
           '{"email":"alice@example.org","password":null}' \
           '{"email":"alice@example.org","email":"bob@example.org","password":"x"}' \
           '{"email":"alice@example.org","password":"a\u0000b"}' '{"email":' 'not json'; do
    out=$(post /v1/auth/login "$bad" -H "$J")
    check "400 bad_request: $bad" "400 bad_request" "${out%% *} $(echo "${out#* }" | jq -r .error)"
done
long=$(head -c 2000 /dev/zero | tr '\0' a)
out=$(post /v1/auth/login "$(login_json "$long@example.org" x)" -H "$J")
check "an email longer than the form's field: 400" 400 "${out%% *}"
big=$(head -c 70000 /dev/zero | tr '\0' a)
out=$(post /v1/auth/login "{\"email\":\"a\",\"password\":\"$big\"}" -H "$J")
check "a body over body_max: 413" 413 "${out%% *}"
out=$(post /v1/auth/login "$(login_json alice@example.org "$WEB_PW_ALICE")" -H 'Content-Type: text/plain')
check "JSON sent as text/plain (a cross-site form can): 415" 415 "${out%% *}"
out=$(post /v1/auth/login "$(login_json alice@example.org "$WEB_PW_ALICE")" \
    -H "$J" -H 'Origin: https://evil.example')
check "JSON from an origin not in cors_origins: 403" "403 cross_origin" \
    "${out%% *} $(echo "${out#* }" | jq -r .error)"
out=$(post /v1/auth/login "$(login_json alice@example.org "$WEB_PW_ALICE")" -H "$J" -H "Origin: $TOOL")
check "JSON from a listed origin: 200" 200 "${out%% *}"
check "  with CORS credentials for it" "$TOOL true" \
    "$(hdr access-control-allow-origin) $(hdr access-control-allow-credentials)"
code=$(curl -s -o /dev/null -D "$d/h" -w '%{http_code}' -X OPTIONS -H "Origin: $TOOL" \
    -H 'Access-Control-Request-Method: POST' "$u/v1/auth/login")
check "preflight from a listed origin: POST and Content-Type" "204 GET, POST|Authorization, Content-Type" \
    "$code $(hdr access-control-allow-methods)|$(hdr access-control-allow-headers)"
out=$(post /v1/auth/login "email=alice%40example.org&password=$(echo "$WEB_PW_ALICE" | sed 's/ /+/g')")
check "a form without Origin (another site's form): 403" 403 "${out%% *}"
out=$(post /v1/auth/login "email=alice%40example.org&password=$(echo "$WEB_PW_ALICE" | sed 's/ /+/g')" \
    -H "Origin: $WEB_ORIGIN")
check "a form from our pages: 200 JSON" "200 alice@example.org" \
    "${out%% *} $(echo "${out#* }" | jq -r .user.email)"
out=$(post /v1/auth/login "email=bob%40example.org&email=alice%40example.org&password=$(echo "$WEB_PW_ALICE" | sed 's/ /+/g')" \
    -H "Origin: $WEB_ORIGIN")
check "a form with email twice: 400, as duplicate JSON members" "400 bad_request" \
    "${out%% *} $(echo "${out#* }" | jq -r .error)"

# --- logout --------------------------------------------------------------
t2=$(post /v1/auth/login "$(login_json alice@example.org "$WEB_PW_ALICE")" -H "$J" | cut -d' ' -f2- | jq -r .token)
out=$(post /v1/auth/logout '' -H "Authorization: Bearer $tok")
check "logout with the Bearer token: 1 ended" '200 {"ended":1}' "$out"
check "  and the cookie cleared" yes "$(hdr set-cookie | grep -q "^$WEB_COOKIE=;.*Max-Age=0" && echo yes || echo no)"
check "the token no longer works" 401 "$(status "$u/v1/users/me" -H "Authorization: Bearer $tok")"
out=$(post /v1/auth/logout '' -H "Authorization: Bearer $tok")
check "logout again: nothing left to end" '200 {"ended":0}' "$out"
out=$(post /v1/auth/logout '')
check "logout without a token: 401" 401 "${out%% *}"
out=$(post /v1/auth/logout '' -H "Cookie: $WEB_COOKIE=$t2" -H 'Origin: https://evil.example')
check "logout by cookie from another site: 403" 403 "${out%% *}"
check "  and the session lives on" 200 "$(status "$u/v1/users/me" -H "Authorization: Bearer $t2")"
out=$(post /v1/auth/logout-all '' -H "Cookie: $WEB_COOKIE=$t2" -H 'Origin: https://evil.example' \
    -H 'Authorization: Basic Zm9vOmJhcg==')
check "logout-all by cookie from another site, with Basic credentials for a proxy: 403" 403 "${out%% *}"
check "  and the session lives on" 200 "$(status "$u/v1/users/me" -H "Authorization: Bearer $t2")"
n_before=$(curl -s -H "Authorization: Bearer $t2" "$u/v1/users/me" > /dev/null;
    "$top_builddir/checkup" -c "$d/checkup.conf" sessions list --user alice@example.org | grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}')
out=$(post /v1/auth/logout-all '' -H "Cookie: $WEB_COOKIE=$t2" -H "Origin: $WEB_ORIGIN")
check "logout-all by cookie from our pages ends all of alice's sessions" "200 $n_before" \
    "${out%% *} $(echo "${out#* }" | jq -r .ended)"
check "  none left" 0 "$("$top_builddir/checkup" -c "$d/checkup.conf" sessions list \
    --user alice@example.org | grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}')"

# --- lockout -------------------------------------------------------------
# Last: the failures here lock this address too (deny = 5).
i=0
while [ $i -lt 5 ]; do
    post /v1/auth/login "$(login_json bob@example.org 'wrong guess')" -H "$J" > /dev/null
    i=$((i + 1))
done
out=$(post /v1/auth/login "$(login_json bob@example.org "$WEB_PW_BOB")" -H "$J")
check "after 5 failures the right password is refused: 403 locked" "403 locked" \
    "${out%% *} $(echo "${out#* }" | jq -r .error)"

# --- audit, and no secret in the log --------------------------------------
check_grep "audit: login_success" '"event":"login_success"' "$d/audit.jsonl"
check_grep "audit: login_failure" '"event":"login_failure"' "$d/audit.jsonl"
check_grep "audit: logout_all" '"event":"logout_all"' "$d/audit.jsonl"
web_stop api
for f in "$CK_TEST_TMP/api.log" "$d/audit.jsonl"; do
    check_nogrep "no password in $(basename "$f")" "$WEB_PW_ALICE" "$f"
    check_nogrep "no token in $(basename "$f")" "$tok" "$f"
done

# --- rate limit, in JSON ---------------------------------------------------
web_setup "$d/rl" "lmdb:$d/rl/store" "login_rate_limit = 2" || exit 99
web_start rl "$d/rl/checkup.conf" || exit 99
u=http://127.0.0.1:$WEB_PORT
post /v1/auth/login "$(login_json alice@example.org x)" -H "$J" > /dev/null
post /v1/auth/login "$(login_json alice@example.org x)" -H "$J" > /dev/null
out=$(post /v1/auth/login "$(login_json alice@example.org "$WEB_PW_ALICE")" -H "$J")
check "over login_rate_limit: 429 rate_limited, Retry-After" "429 rate_limited 60" \
    "${out%% *} $(echo "${out#* }" | jq -r .error) $(hdr retry-after)"
web_stop rl

# The design's k6 script (bench/load.k6.js) speaks this API: it parses as
# a module, and names exactly these paths.
cp "$top_srcdir/bench/load.k6.js" "$d/load.k6.mjs"
out=$(node --check "$d/load.k6.mjs" 2>&1)
check "bench/load.k6.js parses${out:+: $out}" 0 $?
check "bench/load.k6.js uses /v1/auth/login, /v1/users/me, /v1/auth/logout" \
    "/v1/auth/login /v1/auth/logout /v1/users/me" \
    "$(grep -o '/v1/[a-z/]*' "$d/load.k6.mjs" | sort -u | tr '\n' ' ' | sed 's/ $//')"
web_summary
