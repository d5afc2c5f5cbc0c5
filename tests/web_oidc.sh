#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd's OIDC half end to end, driven by curl, with real providers on
# loopback: CorpPass through @opengovsg/mockpass, oidc-provider as CorpPass
# FAPI 2.0 (PAR, DPoP, private_key_jwt, JWE ID token) and a plain
# oidc-provider (back-channel and RP-initiated logout). tests/idp/login.mjs
# plays the person at the provider's pages. Then the bad inputs: a replayed
# callback, an unknown state, a callback without or with another browser's
# binding cookie, open-redirect rd; and a terminal login through /t/<code>.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/idp/idp.sh"
trap 'web_stop_all; idp_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
D=$CK_TEST_TMP/oidc
# tests/web_oidc_redis.sh runs all of it on a real redis-server.
STORE_URL="lmdb:$D/store"
STORE2_URL="lmdb:$D/store2"
if [ "${WEB_OIDC_REDIS-}" = 1 ]; then
    rport=$(redis_start oidc) || exit 1
    STORE_URL="redis://127.0.0.1:$rport/0"
    STORE2_URL="redis://127.0.0.1:$rport/1"
fi
BIND=__Host-checkup_login
CB="$WEB_ORIGIN/callback"
CP_ID=123456789D/ef39a074-b64d-4990-a937-6f80772e2bb8
FAPI_UUID=a3b2c1d0-0000-4000-8000-000000000001
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

# providers CORPPASS_ISSUER FAPI_ISSUER PLAIN_ISSUER: the config's provider lines.
providers() {
    printf '%s\n' "[provider corppass]" "issuer = $1" "client_id = checkup-corppass" \
        "profile = corppass" "redirect_uri = $CB" "scopes = openid" \
        "signing_key = $D/sig.pem" "encryption_key = $D/enc.pem" "http_timeout = 5" \
        "[provider fapi]" "issuer = $2" "client_id = checkup-fapi" "profile = corppass-fapi2" \
        "redirect_uri = $CB" "scopes = openid email user.identity" \
        "signing_key = $D/sig.pem" "encryption_key = $D/enc.pem" \
        "authentication_context_type = APP.CHECKUP" "userinfo = yes" "http_timeout = 5" \
        "[provider plain]" "issuer = $3" "client_id = checkup-plain" \
        "client_secret = $secret" "redirect_uri = $CB" "scopes = openid email profile" \
        "claim_clinic = clinic_id" "http_timeout = 5"
}

setup() {
    web_setup "$D" "$STORE_URL" "redirect_allowlist = /app/" "login_rate_limit = 100" ||
        return 1
    cp "$D/checkup.conf" "$D/base.conf"
    for k in sig enc; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$k.pem" \
            2>/dev/null && chmod 600 "$D/$k.pem" || return 1
    done
    # CorpPass identities map to users file records by the CorpPass uuid.
    printf '%s\n' "cpuser@example.org:*:doctor:clinic-9:cpuser::$CP_ID" \
        "fapiadmin@example.org:*:admin:clinic-3:fapiadmin::$FAPI_UUID" >> "$D/users"
}

# conf ISSUERS...: rewrites the configuration with these providers.
conf() {
    { cat "$D/base.conf"; providers "$@"; } > "$D/checkup.conf"
}

# begin PROVIDER RD NAME: GET /login/<provider>; the provider URL in $D/NAME.url,
# the binding cookie's value in $D/NAME.bind.
begin() {
    curl -s -o /dev/null -D "$D/$3.h" --max-time 10 \
        "http://127.0.0.1:$P/login/$1?rd=$(printf %s "$2" | sed 's|/|%2F|g')"
    sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$D/$3.h" > "$D/$3.url"
    sed -n "s/^[Ss]et-[Cc]ookie: $BIND=\([^;]*\);.*/\1/p" "$D/$3.h" > "$D/$3.bind"
    [ -s "$D/$3.url" ] && [ -s "$D/$3.bind" ]
}

# provider NAME LOGIN: the person at the provider; callback query in $D/NAME.q.
provider() {
    cb=$(CK_COOKIE_JAR="$D/$1.jar" "$NODE" "$IDP_DIR/login.mjs" "$(cat "$D/$1.url")" "$CB" "$2") ||
        return 1
    printf '%s\n' "${cb#*\?}" > "$D/$1.q"
}

# callback NAME [BIND]: GET /callback with the query and a binding cookie; status.
callback() {
    _b=${2-$(cat "$D/$1.bind")}
    curl -s -o "$D/$1.cb.body" -D "$D/$1.cb.h" -w '%{http_code}' --max-time 20 \
        ${_b:+-H "Cookie: $BIND=$_b"} "http://127.0.0.1:$P/callback?$(cat "$D/$1.q")"
}

session_of() {
    sed -n "s/^[Ss]et-[Cc]ookie: $WEB_COOKIE=\([^;]*\);.*/\1/p" "$D/$1.cb.h"
}

# who TOKEN: X-Checkup-User of /session, or the status when refused.
who() {
    curl -s -o /dev/null -D "$D/who.h" -w '%{http_code}' --max-time 10 \
        -H "Cookie: $WEB_COOKIE=$1" "http://127.0.0.1:$P/session" > "$D/who.code"
    if [ "$(cat "$D/who.code")" = 200 ]; then
        sed -n 's/^X-Checkup-User: \(.*\)\r$/\1/p;s/^X-Checkup-Auth-Method: \(.*\)\r$/method=\1/p' \
            "$D/who.h" | tr '\n' ' ' | sed 's/ $//'
    else
        cat "$D/who.code"
    fi
}

login_ok() {
    # login NAME PROVIDER USER RD
    begin "$2" "$4" "$1" && provider "$1" "$3" && [ "$(callback "$1")" = 200 ]
}

setup || { check "set-up" ok failed; web_summary; exit 1; }

# 1. The relying party's JWKS from checkupd itself registers the FAPI client.
conf https://placeholder.invalid https://placeholder.invalid https://placeholder.invalid
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT
curl -s -D "$D/jwks.h" -o "$D/rp.jwks" "http://127.0.0.1:$P/.well-known/jwks.json"
check "JWKS answers JSON" 1 "$(grep -ci '^content-type: application/json' "$D/jwks.h")"
check "JWKS: one sig and one enc key (shared key files not repeated)" '"sig" "enc"' \
    "$(grep -o '"use": *"[a-z]*"' "$D/rp.jwks" | sed 's/.*: *//' | tr '\n' ' ' | sed 's/ $//')"
check_nogrep "JWKS has no private part" '"d"' "$D/rp.jwks"
curl -s -o "$D/login.html" "http://127.0.0.1:$P/login?rd=/app/x"
check_grep "login page: a button per provider" 'href="/login/corppass?rd=%2Fapp%2Fx">Sign in with corppass' "$D/login.html"
check_grep "login page: FAPI provider button" 'Sign in with fapi' "$D/login.html"
web_stop ck

CK_OP_SECRET=$secret
export CK_OP_SECRET
mp=$(idp_start mockpass mockpass.mjs "$D/rp.jwks") || exit 1
fp=$(idp_start op-fapi op.mjs fapi "$CB" "$D/rp.jwks") || exit 1
pp=$(idp_start op-plain op.mjs plain "$CB") || exit 1
conf "http://127.0.0.1:$mp/corppass/v2" "http://127.0.0.1:$fp" "http://127.0.0.1:$pp"
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT

# 2. CorpPass through mockpass.
if login_ok cp corppass S9000002A /app/cp; then
    check_grep "mockpass CorpPass login: the page moves on to rd" \
        '<meta http-equiv="refresh" content="0;url=/app/cp">' "$D/cp.cb.body"
    tok=$(session_of cp)
    check "CorpPass session: mapped user, method corppass" "cpuser@example.org method=corppass" "$(who "$tok")"
    check "session cookie flags" 1 "$(grep -c "^Set-Cookie: $WEB_COOKIE=[^;]*; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=86400" "$D/cp.cb.h")"
    check "binding cookie cleared" 1 "$(grep -c "^Set-Cookie: $BIND=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0" "$D/cp.cb.h")"
    check "binding cookie: Lax, 10 minutes" 1 "$(grep -c "^Set-Cookie: $BIND=[0-9a-f]\{64\}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=600" "$D/cp.h")"
    check "replayed callback URL" 400 "$(callback cp)"
    check_grep "replay audited" '"reason":"unknown_state"' "$D/audit.jsonl"
    check_grep "replay page is clear" "unknown, expired or already used" "$D/cp.cb.body"
    echo "$tok" > "$D/cp.tok"
else
    check "mockpass CorpPass login" ok failed
fi

# 3. oidc-provider as CorpPass FAPI 2.0.
if login_ok fa fapi T16LL0001A /app/fapi; then
    check "FAPI 2.0 authorization URL is a PAR reference" 1 "$(grep -c 'request_uri=' "$D/fa.url")"
    check "FAPI 2.0 session: mapped by the CorpPass uuid" "fapiadmin@example.org method=corppass" \
        "$(who "$(session_of fa)")"
else
    check "oidc-provider FAPI 2.0 login" ok failed
    cat "$D/fa.cb.body"
fi

# 4. The binding cookie: another browser, none at all, an unknown state.
if begin corppass /app/b st && provider st S9000002A; then
    check "callback without the binding cookie" 400 "$(callback st '')"
    check_grep "missing binding audited" '"reason":"binding_missing"' "$D/audit.jsonl"
fi
if begin corppass /app/b st2 && provider st2 S9000002A; then
    check "callback with another browser's binding cookie" 400 "$(callback st2 "$(cat "$D/cp.bind")")"
    check_grep "foreign binding audited" '"reason":"binding_mismatch"' "$D/audit.jsonl"
fi
check "unknown state" 400 "$(status "http://127.0.0.1:$P/callback?code=abc&state=nosuchstate")"
check "callback without state" 400 "$(status "http://127.0.0.1:$P/callback?code=abc")"
check "malformed callback (bad escape)" 400 "$(status "http://127.0.0.1:$P/callback?code=%zz&state=x")"
check "provider error answer" 400 "$(status "http://127.0.0.1:$P/callback?error=access_denied&state=x")"
check "open redirect: rd to another host" 400 "$(status "http://127.0.0.1:$P/login/corppass?rd=https%3A%2F%2Fevil.example%2F")"
check "open redirect: //host" 400 "$(status "http://127.0.0.1:$P/login/corppass?rd=%2F%2Fevil.example")"
check "open redirect: rd outside the allowlist" 400 "$(status "http://127.0.0.1:$P/login/corppass?rd=%2Fadmin")"
# HEAD must neither start a provider login nor consume one.
curl -s -o /dev/null -I -D "$D/head.h" --max-time 10 "http://127.0.0.1:$P/login/corppass?rd=/app/x"
check "HEAD /login/<provider> is 405 with Allow: GET" "1 1" \
    "$(grep -c '^HTTP/1.1 405' "$D/head.h") $(grep -c '^[Aa]llow: GET' "$D/head.h")"
check "HEAD /callback" 405 "$(status "http://127.0.0.1:$P/callback?code=abc&state=x" -I)"
check "HEAD /login is still answered" 200 "$(status "http://127.0.0.1:$P/login" -I)"
check "unknown provider" 404 "$(status "http://127.0.0.1:$P/login/nosuch")"
check "GET /backchannel-logout" 405 "$(status "http://127.0.0.1:$P/backchannel-logout")"
check "back-channel logout without a token" 400 "$(status "http://127.0.0.1:$P/backchannel-logout" -d x=y)"
check "back-channel logout with a forged token" 400 "$(status "http://127.0.0.1:$P/backchannel-logout" \
    -d logout_token=eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.)"

# 5. Two sessions from one provider session; logout continues at the
# provider, whose back-channel logout token ends the other session. Plain
# OIDC, unmapped (user from the claims) and mapped through the users file
# by email (found again by the token's sub). FAPI 2.0: the provider's
# logout token is a JWE to checkupd's enc key, like its ID tokens.
# two_sessions NAME PROVIDER LOGIN PORT EXPECTED-WHO bcl|nobcl JWS|JWE
two_sessions() {
    bcl="$CK_IDP_TMP/$2.port.bcl"
    if ! { login_ok "$1a" "$3" "$4" /app/p && cp "$D/$1a.jar" "$D/$1b.jar" &&
        login_ok "$1b" "$3" "$4" /app/p; }; then
        check "$3: two logins" ok failed
        return
    fi
    before=$(cat "$bcl" 2>/dev/null | wc -l)
    t1=$(session_of "$1a")
    t2=$(session_of "$1b")
    check "$3: the second session" "$6" "$(who "$t2")"
    curl -s -o /dev/null -D "$D/lo.h" --max-time 10 -X POST -H "Origin: $WEB_ORIGIN" \
        -H "Cookie: $WEB_COOKIE=$t1" "http://127.0.0.1:$P/logout"
    lurl=$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$D/lo.h")
    check "$3: logout continues at the provider's end-session endpoint" \
        "http://127.0.0.1:$5/session/end" "${lurl%%\?*}"
    check "$3: logged-out session refused" 401 "$(who "$t1")"
    if ! CK_COOKIE_JAR="$D/$1a.jar" "$NODE" "$IDP_DIR/login.mjs" "$lurl" logout "$4" >/dev/null; then
        check "$3: RP-initiated logout at the provider" ok failed
        return
    fi
    [ "${7-}" = nobcl ] && return
    i=0
    while [ "$(cat "$bcl" 2>/dev/null | wc -l)" -le "$before" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    ltok=$(tail -n 1 "$bcl")
    check "$3: the logout token is a compact $8" "$8" \
        "$(printf '%s' "$ltok" | awk -F. '{ print NF == 5 ? "JWE" : NF == 3 ? "JWS" : "other" }')"
    code=$(status "http://127.0.0.1:$P/backchannel-logout" --data-urlencode "logout_token=$ltok")
    check "$3: back-channel logout accepted" 200 "$code"
    [ "$code" = 200 ] || tail -n 1 "$D/audit.jsonl" | sed 's/^/# /'
    check "$3: the other session ended by back-channel logout" 401 "$(who "$t2")"
    check "$3: replayed logout token" 400 "$(status "http://127.0.0.1:$P/backchannel-logout" \
        --data-urlencode "logout_token=$ltok")"
    check "$3: the CorpPass session is untouched" "cpuser@example.org method=corppass" \
        "$(who "$(cat "$D/cp.tok")")"
}
two_sessions p op-plain plain alice "$pp" "alice method=oidc" bcl JWS
printf '%s\n' "alice@clinic.example:*:nurse:clinic-5:calice::" >> "$D/users"
two_sessions m op-plain plain alice "$pp" "alice@clinic.example method=oidc" bcl JWS
two_sessions f op-fapi fapi T16LL0001A "$fp" "fapiadmin@example.org method=corppass" bcl JWE

# 6. An unmapped CorpPass identity gets no session.
printf '%s\n' "$(grep -v '^cpuser@' "$D/users")" > "$D/users.new" && chmod 600 "$D/users.new" &&
    mv "$D/users.new" "$D/users"
if begin corppass /app/u um && provider um S9000002A; then
    check "unmapped CorpPass identity refused" 403 "$(callback um)"
    check_grep "unmapped identity audited" '"reason":"not_mapped"' "$D/audit.jsonl"
fi

curl -s -o "$D/metrics" "http://127.0.0.1:$P/metrics"
check_grep "metrics: CorpPass sessions counted" 'method="corppass"' "$D/metrics"
check_grep "metrics: store up (${STORE_URL%%:*})" "checkup_store_up{backend=\"${STORE_URL%%:*}\"} 1" "$D/metrics"

web_stop ck
check "checkupd stops cleanly" 0 "$WEB_RC"

# Starting provider logins is rate limited per address like password logins.
# (A store of its own: this address has started many logins already.)
mkdir -p "$D/store2"
sed -e 's/^login_rate_limit = 100$/login_rate_limit = 2/' -e "s|^url = .*|url = $STORE2_URL|" \
    "$D/checkup.conf" > "$D/limit.conf"
web_start ck2 "$D/limit.conf" || exit 1
P=$WEB_PORT
check "rate limit: starts within the limit" "302 302" \
    "$(status "http://127.0.0.1:$P/login/plain") $(status "http://127.0.0.1:$P/login/plain")"
check "rate limit: one start too many" 429 "$(status "http://127.0.0.1:$P/login/plain")"
web_stop ck2

# 7. [audit] on_failure = deny with an audit file no one can write (its
# directory is a regular file): a provider login gets no session.
mkdir -p "$D/store3"
sed -e "s|^url = .*|url = $(printf %s "$STORE2_URL" | sed 's|store2$|store3|; s|/1$|/2|')|" \
    -e "s|^file = $D/audit.jsonl$|file = $D/users/audit.jsonl\non_failure = deny|" \
    "$D/checkup.conf" > "$D/deny.conf"
web_start ck3 "$D/deny.conf" || exit 1
P=$WEB_PORT
if begin plain /app/d dn && provider dn alice; then
    check "deny: provider login refused while the audit file is broken" 503 "$(callback dn)"
    check "deny: no session cookie" "" "$(session_of dn)"
fi
web_stop ck3
check_grep "deny: the refusal is logged" "reason=audit_unavailable" "$CK_TEST_TMP/ck3.log"
check "deny: the broken file said once" 1 "$(grep -c 'audit file: ' "$CK_TEST_TMP/ck3.log")"
# No secret in any log: codes, tokens, binding values, the NRIC.
for f in "$D"/*.q; do
    code=$(sed -n 's/.*code=\([^&]*\).*/\1/p' "$f")
    [ -n "$code" ] && check_nogrep "no authorization code in the log ($(basename "$f"))" "$code" "$CK_TEST_TMP/ck.log"
    [ -n "$code" ] && check_nogrep "no authorization code in the audit file ($(basename "$f"))" "$code" "$D/audit.jsonl"
done
for f in "$D"/*.bind; do
    check_nogrep "no binding value in the log ($(basename "$f"))" "$(cat "$f")" "$CK_TEST_TMP/ck.log"
done
check_nogrep "no session token in the log" "$(cat "$D/cp.tok")" "$CK_TEST_TMP/ck.log"
check_nogrep "no NRIC in the log" S9000002A "$CK_TEST_TMP/ck.log"
check_nogrep "no NRIC in the audit file" S9000002A "$D/audit.jsonl"
web_summary
