#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every checkup command end to end on a redis-server of our own.
: "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/cli_common.sh"
. "$top_srcdir/tests/lib/redis.sh"
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-cli.XXXXXX") || exit 99
trap 'ck_keep_audit "$d"; redis_stop_all; rm -rf "$d"' EXIT
port=$(redis_start cli) || exit 99
cli_suite "redis://127.0.0.1:$port/0"
