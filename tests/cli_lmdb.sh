#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every checkup command end to end on the embedded store.
: "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/cli_common.sh"
. "$top_srcdir/tests/lib/audit.sh"
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-cli.XXXXXX") || exit 99
trap 'ck_keep_audit "$d"; rm -rf "$d"' EXIT
mkdir "$d/store" || exit 99
cli_suite "lmdb:$d/store"
