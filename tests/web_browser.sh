#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Chromium (Debian, headless) driven by playwright-core logs in through
# nginx with email and password, and with CorpPass through mockpass and
# oidc-provider as CorpPass FAPI 2.0; checks the cookies as stored, reaches
# the dummy tool, logs out and is refused; "log out from all devices" in one
# browser context ends the other's session. playwright-core comes from
# tests/browser/package-lock.json (npm ci by scripts/install-deps.sh).
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/idp/idp.sh"
trap 'nginx_stop_all; web_stop_all; idp_stop_all; redis_stop_all' EXIT
: "${CHROMIUM:=$(command -v chromium || true)}"
for tool in "$NGINX" node "$CHROMIUM"; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "$tool is required (scripts/install-deps.sh installs it)"; exit 1; }
done

# The source tree may be read-only and without node_modules (distcheck):
# the script runs from the build tree beside a link to the node_modules
# scripts/install-deps.sh installed (here or in $CK_NODE_TREE).
nm=
for d in "$top_srcdir" "${CK_NODE_TREE:-}"; do
    [ -n "$d" ] && [ -d "$d/tests/browser/node_modules/playwright-core" ] &&
        { nm=$(cd "$d/tests/browser/node_modules" && pwd); break; }
done
[ -n "$nm" ] ||
    { echo "tests/browser/node_modules is not installed: run scripts/install-deps.sh"; exit 1; }
B="$top_builddir/tests/browser"
mkdir -p "$B"
if [ "$(cd "$B" && pwd -P)" != "$(cd "$top_srcdir/tests/browser" && pwd -P)" ]; then
    for f in package.json package-lock.json login.mjs; do
        cp "$top_srcdir/tests/browser/$f" "$B/$f" || exit 1
    done
    ln -sfn "$nm" "$B/node_modules" || exit 1
fi

# Identity providers on loopback, registered with https://localhost:NP/callback
# once nginx has its port: mockpass (CorpPass) and oidc-provider as CorpPass
# FAPI 2.0. What this prints goes into checkupd's configuration.
providers() {
    _k=$CK_IDP_TMP/rp
    mkdir -p "$_k"
    for _t in sig enc; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$_k/$_t.pem" \
            2>/dev/null && chmod 600 "$_k/$_t.pem" || return 1
    done
    _p() {
        printf '%s\n' "[provider corppass]" "issuer = $1" "client_id = checkup-corppass" \
            "profile = corppass" "redirect_uri = $WEB_ORIGIN/callback" "scopes = openid" \
            "signing_key = $_k/sig.pem" "encryption_key = $_k/enc.pem" "http_timeout = 5" \
            "[provider fapi]" "issuer = $2" "client_id = checkup-fapi" \
            "profile = corppass-fapi2" "redirect_uri = $WEB_ORIGIN/callback" \
            "scopes = openid email user.identity" "signing_key = $_k/sig.pem" \
            "encryption_key = $_k/enc.pem" "authentication_context_type = APP.CHECKUP" \
            "userinfo = yes" "http_timeout = 5"
    }
    { printf '%s\n' "[store]" "url = lmdb:$_k/store"; _p https://x.invalid https://x.invalid; } \
        > "$_k/rp.conf"
    mkdir -p "$_k/store"
    "$top_builddir/tests/oidc_flow_drive" "$_k/rp.conf" fapi rpjwks > "$_k/rp.jwks" || return 1
    _mp=$(idp_start mockpass mockpass.mjs "$_k/rp.jwks") || return 1
    _fp=$(idp_start op-fapi op.mjs fapi "$WEB_ORIGIN/callback" "$_k/rp.jwks") || return 1
    _p "http://127.0.0.1:$_mp/corppass/v2" "http://127.0.0.1:$_fp"
}

idp_dir || exit 1
WEB_FRONT_HOOK=providers
web_front || exit 1
printf '%s\n' "cpuser@example.org:*:doctor:clinic-9:cpuser::123456789D/ef39a074-b64d-4990-a937-6f80772e2bb8" \
    "fapiadmin@example.org:*:admin:clinic-3:fapiadmin::a3b2c1d0-0000-4000-8000-000000000001" \
    >> "$CK_TEST_TMP/ngx/users"
BASE="https://localhost:$NP" CHROMIUM="$CHROMIUM" EMAIL=alice@example.org \
    PASSWORD="$WEB_PW_ALICE" PROVIDERS='[{"name":"corppass","login":"S9000002A","user":"cpuser@example.org"},
{"name":"fapi","login":"T16LL0001A","user":"fapiadmin@example.org"}]' node "$B/login.mjs"
rc=$?
web_stop ck
[ "$WEB_RC" = 0 ] || { echo "not ok - checkupd exit status $WEB_RC"; rc=1; }
if grep -qF "$WEB_PW_ALICE" "$CK_TEST_TMP/ck.log" "$CK_TEST_TMP/ngx/audit.jsonl"; then
    echo "not ok - a password reached a log"
    rc=1
fi
exit $rc
