#!/bin/sh
# tests/test_oidc_flow against tests/idp/mockop.mjs with the Redis store:
# pending logins, the shared discovery/JWKS cache and logout jti counters
# in a real redis-server.
set -u
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/idp/idp.sh"
cleanup() {
    idp_stop_all
    redis_stop_all
}
trap cleanup EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
rport=$(redis_start oidc) || exit 1
CK_TEST_REDIS_URL="redis://127.0.0.1:$rport"
CK_MOCKOP_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CK_MOCKOP_SECRET CK_TEST_REDIS_URL
port=$(idp_start mockop mockop.mjs) || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$CK_IDP_TMP/tls.key" -out "$CK_IDP_TMP/tls.crt" 2>/dev/null || exit 1
tls_port=$(idp_start mockop-tls mockop.mjs "$CK_IDP_TMP/tls.crt" "$CK_IDP_TMP/tls.key") || exit 1
CK_MOCKOP_URL="http://127.0.0.1:$port"
CK_MOCKOP_TLS_URL="https://127.0.0.1:$tls_port"
CK_MOCKOP_CA="$CK_IDP_TMP/tls.crt"
CK_TEST_DIR=$CK_IDP_TMP
export CK_MOCKOP_URL CK_MOCKOP_TLS_URL CK_MOCKOP_CA CK_TEST_DIR
"$top_builddir/tests/test_oidc_flow"
