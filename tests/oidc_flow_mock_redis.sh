#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/oidc_flow_mock.sh with the Redis store: pending logins, the shared
# discovery/JWKS cache and logout jti counters in a real redis-server.
set -u
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

rport=$(redis_start oidc) || exit 1
CK_TEST_REDIS_URL="redis://127.0.0.1:$rport"
export CK_TEST_REDIS_URL
# A child shell, so that its EXIT trap stops the providers and ours Redis.
"${SHELL:-sh}" "$top_srcdir/tests/oidc_flow_mock.sh"
