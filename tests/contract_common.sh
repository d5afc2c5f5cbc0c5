# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/contract_*.sh: runs one store test program against a
# fresh store named by CHECKUP_TEST_STORE.
#
#   contract_lmdb PROGRAM    an LMDB environment in a mktemp directory
#   contract_redis PROGRAM   a redis-server of our own on a free loopback port
#
# Exits with the program's status; 99 (a hard error) when the store cannot
# be set up, so a missing redis-server never passes as a skip.

: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

contract_lmdb() {
    ck_dir=$(mktemp -d "${TMPDIR:-/tmp}/ck-contract.XXXXXX") || exit 99
    trap 'rm -rf "$ck_dir"' EXIT
    CHECKUP_TEST_STORE="lmdb:$ck_dir" "$top_builddir/tests/$1"
    exit $?
}

contract_redis() {
    . "$top_srcdir/tests/lib/redis.sh"
    trap redis_stop_all EXIT
    ck_port=$(redis_start contract) || exit 99
    CHECKUP_TEST_STORE="redis://127.0.0.1:$ck_port" "$top_builddir/tests/$1"
    exit $?
}
