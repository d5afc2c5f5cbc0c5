#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd on the embedded store: the whole behaviour suite, driven by curl.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/web_suite.sh"
trap 'web_stop_all; redis_stop_all' EXIT
web_suite "$CK_TEST_TMP/lmdb" "lmdb:$CK_TEST_TMP/lmdb/store" || check "suite set-up" ok failed
web_summary
