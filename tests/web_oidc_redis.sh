#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/web_oidc.sh on a real redis-server: the browser binding, the
# single-use callback, the back-channel logout index and the rate limit
# through the Redis store.
if [ -z "${REDIS_SERVER:-}" ]; then
    echo "redis-server is required (scripts/install-deps.sh installs it)"
    exit 1
fi
: "${top_srcdir:?run through make check}"
WEB_OIDC_REDIS=1
. "$top_srcdir/tests/web_oidc.sh"
