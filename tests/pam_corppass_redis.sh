#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The terminal-login PAM tests again with the pending logins and sessions
# in a real redis-server on loopback. The server is stopped by pid on exit.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if [ -z "${REDIS_SERVER:-}" ]; then
    echo "redis-server is required (scripts/install-deps.sh installs it)"
    exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
port=$(redis_start pamcp) || exit 99
CK_TEST_STORE_URL="redis://127.0.0.1:$port/0" "$top_builddir/tests/pam_corppass_pam"
