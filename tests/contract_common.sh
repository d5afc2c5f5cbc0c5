# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/contract_*.sh: runs one store test program against a
# fresh store named by CHECKUP_TEST_STORE.
#
#   contract_lmdb PROGRAM    an LMDB environment in a mktemp directory
#   contract_redis PROGRAM   a redis-server of our own on a free loopback port
#   contract_cluster PROGRAM [tls]
#                            a Redis Cluster of our own (3 primaries, 3
#                            replicas, tests/lib/cluster.sh); with tls, TLS
#                            only (tls-cluster) and the ACL user "checkup"
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

contract_cluster() {
    . "$top_srcdir/tests/lib/redis.sh"
    . "$top_srcdir/tests/lib/cluster.sh"
    trap redis_stop_all EXIT
    if [ "${2:-}" = tls ]; then
        CL_TLS=1 CL_ACL=1 CL_CERTS=$CK_TEST_TMP/certs
        ck_tls_certs "$CL_CERTS" || exit 99
    fi
    cluster_start contract || exit 99
    if [ "${2:-}" = tls ]; then
        # The user in the URL, its password from a file, the test CA.
        # MONITOR (the one-round-trip check) needs a plain port: it runs
        # in tests/contract_cluster.sh, the client's commands are the same.
        CHECKUP_TEST_TLS_CA=$CL_CERTS/ca.crt CHECKUP_TEST_PASSWORD_FILE=$CL_APP_PW_FILE \
            CHECKUP_TEST_STORE="rediss+cluster://checkup@$CL_SEEDS/" \
            CHECKUP_TEST_NO_MONITOR=1 "$top_builddir/tests/$1"
        exit $?
    fi
    # MONITOR on every primary: a touch is one command on one of them.
    CHECKUP_TEST_MONITOR=$(cluster_primaries | sed 's/^/127.0.0.1:/' | tr '\n' ' ') \
        CHECKUP_TEST_STORE=$CL_URL "$top_builddir/tests/$1"
    exit $?
}
