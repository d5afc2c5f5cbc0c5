#!/bin/sh
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
CK_MOCKOP_URL="http://127.0.0.1:$port"
CK_TEST_DIR=$CK_IDP_TMP
export CK_MOCKOP_URL CK_TEST_DIR
"$top_builddir/tests/test_oidc_flow"
