#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Redis connection over TLS: certificates are made now, in the test's
# temp dir, and three TLS-only servers are started on loopback.
set -u
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

certs=$CK_TEST_TMP/certs
ck_tls_certs "$certs" || exit 1
mkdir -p "$certs/cadir" && cp "$certs/ca.crt" "$certs/cadir/" &&
    openssl rehash "$certs/cadir" || exit 1

CK_TLS_PORT=$(redis_start_tls tls "$certs") || exit 1
CK_MTLS_PORT=$(redis_start_tls mtls "$certs" "tls-auth-clients yes") || exit 1
CK_TLS12_PORT=$(redis_start_tls tls12 "$certs" 'tls-protocols "TLSv1.2"') || exit 1
CK_TLS_DIR=$certs
CK_TLS_CADIR=$certs/cadir
export CK_TLS_PORT CK_MTLS_PORT CK_TLS12_PORT CK_TLS_DIR CK_TLS_CADIR
"$top_builddir/tests/test_redis_conn_tls"
