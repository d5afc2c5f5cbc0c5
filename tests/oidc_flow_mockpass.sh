#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A full CorpPass code flow, headless, against @opengovsg/mockpass (npm) on
# loopback: private_key_jwt, ID token ES256 inside ECDH-ES+A256KW +
# A256CBC-HS512, legacy CorpPass claims (sub s=..,u=..,c=.., userInfo,
# entityInfo). tests/idp/login.mjs fills mockpass's own-user form.
set -u
. "$top_srcdir/tests/oidc_flow_common.sh"
mkdir -p "$T/store"

write_conf() {
    cat >"$T/checkup.conf" <<CONF
[store]
url = lmdb:$T/store
[provider corppass]
issuer = $1
client_id = checkup-corppass
profile = corppass
redirect_uri = $redirect
scopes = openid
signing_key = $T/sig.pem
encryption_key = $T/enc.pem
http_timeout = 5
CONF
}

write_conf https://placeholder.invalid
"$drive" "$T/checkup.conf" corppass rpjwks >"$T/rp.jwks" || exit 1
port=$(idp_start mockpass mockpass.mjs "$T/rp.jwks") || exit 1
write_conf "http://127.0.0.1:$port/corppass/v2"

out=$("$drive" "$T/checkup.conf" corppass begin) || exit 1
state=${out%% *}
url=${out#* }
if cb=$("$NODE" "$IDP_DIR/login.mjs" "$url" "$redirect" S9000002A) &&
    "$drive" "$T/checkup.conf" corppass callback "${cb#*\?}" "$state" >"$T/cp.id" &&
    expect "$T/cp.id" user_id=ef39a074-b64d-4990-a937-6f80772e2bb8 is_corppass=1 cp_nric_set=1 cp_cpuid=ef39a074-b64d-4990-a937-6f80772e2bb8 \
        cp_country=SG cp_entity_id=123456789D cp_entity_type=UEN cp_role=User \
        return_to=/after-login; then
    ok "mockpass CorpPass: JWE (ECDH-ES+A256KW, A256CBC-HS512) ID token verified, CorpPass fields parsed"
else
    not_ok "mockpass CorpPass login"
fi
if "$drive" "$T/checkup.conf" corppass callback "${cb#*\?}" "$state" >/dev/null 2>"$T/replay.err"; then
    not_ok "replayed CorpPass callback accepted"
else
    ok "replayed CorpPass callback refused"
fi

if [ "$failed" -ne 0 ]; then
    for f in "$T"/*.log; do echo "# $f:"; tail -n 20 "$f" | sed 's/^/#   /'; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
