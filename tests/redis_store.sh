#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Redis store backend specifics against a redis-server of our own on
# loopback; a second server is started and stopped to get a port where
# nothing listens. Every server is stopped by pid on exit.
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
port=$(redis_start store) || exit 99
dead=$(redis_start dead) || exit 99
redis_stop dead
CHECKUP_TEST_REDIS_PORT=$port CHECKUP_TEST_DEAD_PORT=$dead \
    "$top_builddir/tests/test_redis_store"
