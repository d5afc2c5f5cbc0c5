#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Redis connection against a real redis-server (plain TCP, ACL user).
set -u
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

port=$(redis_start plain "user app on >p@ss:w/rd% ~* +@all") || exit 1
CK_REDIS_PORT=$port
CK_REDIS_DIR=$CK_TEST_TMP/plain
export CK_REDIS_PORT CK_REDIS_DIR
"$top_builddir/tests/test_redis_conn"
