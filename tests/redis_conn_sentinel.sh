#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Redis connection through Sentinel: a primary, a replica and three
# sentinels on loopback, all behind one password made up now.
set -u
. "$top_srcdir/tests/lib/redis.sh"
trap redis_stop_all EXIT
trap 'exit 1' INT TERM

pw=$(openssl rand -hex 12) || exit 1
primary=$(redis_start primary "requirepass $pw" "masterauth $pw" \
    "repl-diskless-sync-delay 0") || exit 1
replica=$(redis_start replica "requirepass $pw" "masterauth $pw" \
    "replicaof 127.0.0.1 $primary") || exit 1
sentinels=
for n in 1 2 3; do
    s=$(sentinel_start "sentinel$n" ckmaster "$primary" "requirepass $pw" \
        "sentinel auth-pass ckmaster $pw" "sentinel sentinel-pass $pw") || exit 1
    sentinels="$sentinels $s"
done

CK_SENTINEL_PORTS=${sentinels# }
CK_PRIMARY_PORT=$primary
CK_PRIMARY_DIR=$CK_TEST_TMP/primary
CK_REPLICA_PORT=$replica
CK_REDIS_PASSWORD=$pw
export CK_SENTINEL_PORTS CK_PRIMARY_PORT CK_PRIMARY_DIR CK_REPLICA_PORT CK_REDIS_PASSWORD
"$top_builddir/tests/test_redis_conn_sentinel"
