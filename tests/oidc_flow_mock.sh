#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The relying party against tests/idp/mockop.mjs: configuration, callback
# rejections, key rotation, JWKS caching and token endpoint faults.
set -u
. "$top_srcdir/tests/idp/idp.sh"
trap idp_stop_all EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
CK_MOCKOP_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CK_MOCKOP_SECRET
port=$(idp_start mockop mockop.mjs) || exit 1
# The same provider over https, with a certificate made now for 127.0.0.1.
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
