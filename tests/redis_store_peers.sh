#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Redis store over TLS (certificates made now, in the test's temp dir)
# and through Sentinel: a TLS-only server, a plain primary and a sentinel
# watching it, all on loopback and stopped by pid on exit.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

certs=$CK_TEST_TMP/certs
ck_tls_certs "$certs" || exit 99
CK_TLS_PORT=$(redis_start_tls tls "$certs") || exit 99
primary=$(redis_start primary) || exit 99
CK_SENTINEL_PORT=$(sentinel_start sentinel ckmaster "$primary") || exit 99
CK_TLS_DIR=$certs
export CK_TLS_PORT CK_TLS_DIR CK_SENTINEL_PORT
"$top_builddir/tests/test_redis_store_peers"
