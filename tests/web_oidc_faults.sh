#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd when the identity provider fails: tests/idp/mockop.mjs answers
# the token endpoint with 400, 500, a redirect, a truncated or a 50 MB
# body, or not at all; discovery with 500, silence or another issuer; the
# JWKS with 500 or silence (also for the refetch that a key rotation
# forces at the callback). Every failed login leaves exactly one audit
# event, login_failure, with the fault's reason.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/idp/idp.sh"
trap 'web_stop_all; idp_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
D=$CK_TEST_TMP/faults
BIND=__Host-checkup_login
CB="$WEB_ORIGIN/callback"
CK_MOCKOP_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CK_MOCKOP_SECRET
mp=$(idp_start mockop mockop.mjs) || exit 1
OP="http://127.0.0.1:$mp"

ctl() {
    curl -s -o /dev/null -X POST --max-time 5 "$OP/ctl?$1"
}

# provider NAME [ISSUER]: a [provider] section (each name has its own
# cached discovery, so a discovery fault can be met afresh).
provider() {
    printf '%s\n' "[provider $1]" "issuer = ${2:-$OP}" "client_id = mock-client" \
        "client_secret = $CK_MOCKOP_SECRET" "redirect_uri = $CB" "scopes = openid" \
        "http_timeout = 2"
}

web_setup "$D" "lmdb:$D/store" "login_rate_limit = 1000" || exit 1
for p in mock disc d500 dhang jw; do provider "$p"; done >> "$D/checkup.conf"
provider gone http://127.0.0.1:9 >> "$D/checkup.conf"
# The mock's identity maps by email to a users file record.
printf '%s\n' "alice@clinic.example:*:doctor:c-17:calice::" >> "$D/users"
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT
A=$D/audit.jsonl
touch "$A"

# start PROVIDER: GET /login/<provider>; its status. The provider's URL in
# $D/url, the binding cookie in $D/bind.
start() {
    curl -s -o /dev/null -D "$D/start.h" -w '%{http_code}' --max-time 20 \
        "http://127.0.0.1:$P/login/$1"
    sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$D/start.h" > "$D/url"
    sed -n "s/^[Ss]et-[Cc]ookie: $BIND=\([^;]*\);.*/\1/p" "$D/start.h" > "$D/bind"
}

# login PROVIDER: start, the provider approves at once, GET /callback; the
# callback's status (or the start's when it failed).
login() {
    code=$(start "$1")
    [ "$code" = 302 ] || { echo "$code"; return; }
    q=$(curl -s -o /dev/null -w '%{redirect_url}' --max-time 10 "$(cat "$D/url")")
    curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
        -H "Cookie: $BIND=$(cat "$D/bind")" "http://127.0.0.1:$P/callback?${q#*\?}"
}

# fault DESC PROVIDER STATUS REASON: one login, its status, and exactly one
# new audit event: login_failure with REASON.
fault() {
    before=$(wc -l < "$A")
    got=$(login "$2")
    after=$(wc -l < "$A")
    check "$1: status" "$3" "$got"
    check "$1: one audit event" 1 "$((after - before))"
    last=$(tail -n 1 "$A")
    case $last in
    *'"event":"login_failure"'*"\"reason\":\"$4\""*) check "$1: login_failure $4" yes yes ;;
    *) check "$1: login_failure $4" yes "$last" ;;
    esac
}

code=$(login mock)
check "a good login first (fetches discovery and JWKS)" 200 "$code"
[ "$code" = 200 ] || sed 's/^/# /' "$A"
ctl token_mode=400
fault "token endpoint 400" mock 400 provider_token_error
ctl token_mode=500html
fault "token endpoint 500" mock 502 provider_unavailable
ctl token_mode=redirect
fault "token endpoint redirect" mock 502 provider_bad_response
ctl token_mode=truncated
fault "token endpoint malformed" mock 502 provider_bad_response
ctl token_mode=huge
fault "token endpoint 50 MB" mock 502 provider_bad_response
ctl token_mode=hang
fault "token endpoint silent" mock 502 provider_timeout
ctl token_mode=ok
# The key rotates and the refetch that the unknown kid forces times out.
ctl 'rotate=1&jwks_mode=hang'
fault "JWKS refetch silent" mock 502 jwks_unavailable
ctl jwks_mode=ok
# That refetch counts: another unknown kid within the minute is refused.
fault "unknown kid, refetched under a minute ago" mock 400 unknown_kid
ctl disc_issuer=https%3A%2F%2Fimpostor.example
fault "discovery names another issuer" disc 502 issuer_mismatch
ctl 'disc_issuer=&disc_mode=500'
fault "discovery 500" d500 502 provider_unavailable
ctl disc_mode=hang
fault "discovery silent" dhang 502 provider_timeout
ctl 'disc_mode=ok&jwks_mode=500'
fault "JWKS 500" jw 502 jwks_unavailable
ctl jwks_mode=ok
fault "provider unreachable" gone 502 provider_unavailable
check "one login_success, the good login's" 1 "$(grep -c '"event":"login_success"' "$A")"
web_stop ck
web_summary
