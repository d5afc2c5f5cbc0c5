#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Full flows, headless, against oidc-provider (npm) on loopback:
#  - a plain provider with client_secret_basic, code flow and device flow;
#  - configured like CorpPass FAPI 2.0: private_key_jwt (ES256), PKCE, PAR,
#    DPoP with server nonces, ID token encrypted ECDH-ES+A256KW + A256GCM.
# tests/idp/login.mjs plays the browser; tests/oidc_flow_drive is the RP.
set -u
. "$top_srcdir/tests/oidc_flow_common.sh"
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$T/store"

write_conf() {
    cat >"$T/checkup.conf" <<CONF
[store]
url = lmdb:$T/store
[provider plain]
issuer = $1
client_id = checkup-plain
client_secret = $secret
redirect_uri = $redirect
scopes = openid email profile
claim_clinic = clinic_id
http_timeout = 5
[provider fapi]
issuer = $2
client_id = checkup-fapi
profile = corppass-fapi2
redirect_uri = $redirect
scopes = openid email user.identity
signing_key = $T/sig.pem
encryption_key = $T/enc.pem
authentication_context_type = APP.CHECKUP
userinfo = yes
http_timeout = 5
CONF
}

# The RP's public JWKS for the FAPI client's registration.
write_conf https://placeholder.invalid https://placeholder.invalid
"$drive" "$T/checkup.conf" fapi rpjwks >"$T/rp.jwks" || exit 1
if grep -q '"d"' "$T/rp.jwks"; then not_ok "RP JWKS has a private part"; else ok "RP JWKS is public only"; fi

CK_OP_SECRET=$secret
export CK_OP_SECRET
plain_port=$(idp_start op-plain op.mjs plain "$redirect") || exit 1
fapi_port=$(idp_start op-fapi op.mjs fapi "$redirect" "$T/rp.jwks") || exit 1
write_conf "http://127.0.0.1:$plain_port" "http://127.0.0.1:$fapi_port"

# login PROVIDER USER OUT: begin, the browser's part, callback; identity in OUT.
login() {
    out=$("$drive" "$T/checkup.conf" "$1" begin) || return 1
    state=${out%% *}
    url=${out#* }
    echo "$url" >"$T/$1.url"
    cb=$(CK_COOKIE_JAR="$T/$1.jar" "$NODE" "$IDP_DIR/login.mjs" "$url" "$redirect" "$2") || return 1
    echo "${cb#*\?}" >"$T/$1.query"
    echo "$state" >"$T/$1.state"
    "$drive" "$T/checkup.conf" "$1" callback "${cb#*\?}" "$state" >"$3"
}

if login plain alice "$T/plain.id" &&
    expect "$T/plain.id" user_id=alice email=alice@clinic.example role=doctor clinic_id=c-17 \
        idp_sid_set=1 is_corppass=0 return_to=/after-login; then
    ok "oidc-provider, client_secret_basic: alice logged in"
else
    not_ok "oidc-provider, client_secret_basic"
fi
# Back-channel logout: alice signs out at the provider (RP-initiated, with
# her browser's cookies); the provider POSTs a logout token to the RP.
bcl="$CK_IDP_TMP/op-plain.port.bcl"
if lurl=$("$drive" "$T/checkup.conf" plain logout_url) &&
    CK_COOKIE_JAR="$T/plain.jar" "$NODE" "$IDP_DIR/login.mjs" "$lurl" logout alice >/dev/null; then
    i=0
    while [ ! -s "$bcl" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if "$drive" "$T/checkup.conf" plain bcl "$(head -n 1 "$bcl")" >"$T/bcl.out" 2>"$T/bcl.err" &&
        expect "$T/bcl.out" sid_set=1 sub=alice user_id=alice; then
        ok "oidc-provider back-channel logout token accepted: alice's session by sid"
    else
        not_ok "back-channel logout token: $(cat "$T/bcl.err")"
    fi
    if "$drive" "$T/checkup.conf" plain bcl "$(head -n 1 "$bcl")" >/dev/null 2>"$T/bcl2.err"; then
        not_ok "replayed logout token accepted"
    elif grep -q logout_replay "$T/bcl2.err"; then
        ok "replayed logout token refused"
    else
        not_ok "replayed logout token: $(cat "$T/bcl2.err")"
    fi
else
    not_ok "RP-initiated logout at oidc-provider"
fi
if grep -q 'code_challenge_method=S256' "$T/plain.url" && grep -q 'nonce=' "$T/plain.url"; then
    ok "authorization request has PKCE S256 and a nonce"
else
    not_ok "authorization request lacks PKCE or nonce"
fi
if "$drive" "$T/checkup.conf" plain callback "$(cat "$T/plain.query")" "$(cat "$T/plain.state")" \
        >/dev/null 2>"$T/replay.err"; then
    not_ok "replayed callback accepted"
elif grep -q unknown_state "$T/replay.err"; then
    ok "replayed callback refused: $(cat "$T/replay.err")"
else
    not_ok "replayed callback: $(cat "$T/replay.err")"
fi

if login fapi T16LL0001A "$T/fapi.id" &&
    expect "$T/fapi.id" user_id=T16LL0001A email=admin@clinic.example is_corppass=1 \
        cp_entity_id=T16LL0001A cp_entity_type=UEN cp_uuid=a3b2c1d0-0000-4000-8000-000000000001 \
        cp_cpuid=CP000001 cp_role=admin cp_nric_set=1; then
    ok "oidc-provider as CorpPass FAPI 2.0 (PAR, private_key_jwt, DPoP, JWE ID token): entity T16LL0001A logged in"
else
    not_ok "oidc-provider FAPI 2.0 login"
fi
if grep -q 'request_uri=' "$T/fapi.url" && ! grep -q 'code_challenge=' "$T/fapi.url"; then
    ok "FAPI 2.0 authorization URL carries only a PAR request_uri"
else
    not_ok "FAPI 2.0 authorization URL is not a PAR reference"
fi

# Device authorization grant: the RP polls while the user approves in a browser.
"$drive" "$T/checkup.conf" plain device >"$T/device.out" 2>"$T/device.err" &
dpid=$!
i=0
while ! grep -q '^DEVICE ' "$T/device.out" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
durl=$(sed -n 's/^DEVICE //p' "$T/device.out")
if [ -n "$durl" ] && "$NODE" "$IDP_DIR/login.mjs" "$durl" device alice >/dev/null &&
    wait "$dpid" && expect "$T/device.out" user_id=alice email=alice@clinic.example clinic_id=c-17; then
    ok "oidc-provider device flow (RFC 8628): alice logged in on the terminal"
else
    kill "$dpid" 2>/dev/null
    wait "$dpid" 2>/dev/null
    not_ok "device flow: $(cat "$T/device.err")"
fi

if [ "$failed" -ne 0 ]; then
    for f in "$T"/*.log; do echo "# $f:"; tail -n 20 "$f" | sed 's/^/#   /'; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
