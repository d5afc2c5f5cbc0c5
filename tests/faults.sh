#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The fault scenarios of bench/faults.sh, shortened to seconds: a Redis
# restart (AOF on), a Sentinel failover, a slow Redis (CLIENT PAUSE, DEBUG
# SLEEP) and the embedded store on a full (to its last block, and the store
# to its last allocated page), then read-only, tmpfs. Each runs
# under a little load with forged and logged-out cookies replayed, and must
# lose no session, accept no unverified cookie, refuse quickly (503) while
# the store is away and recover within generous bounds. Mounting the tmpfs
# needs root: anyone else runs this test in a user namespace (unshare -rm)
# where they are root. Everything started here is stopped by pid.
set -u

if [ "$(id -u)" -ne 0 ] && [ -z "${CK_FAULTS_USERNS:-}" ]; then
    CK_FAULTS_USERNS=1 exec unshare -rm sh "$0" "$@" ||
        { echo "not ok - unshare -rm failed: the disk scenario needs root or a user namespace"; exit 1; }
fi

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/load_common.sh"
. "$top_srcdir/bench/faults_lagged.sh"
FAULT_LOAD_S=8 FAULT_VUS=8 FAULT_ATT=4 FAULT_K=6 FAULT_OUTAGE_S=1 FAULT_FULL_LOGINS=20
. "$top_srcdir/bench/faults_common.sh"
trap 'fault_stop_all; web_stop_all; fault_umount; redis_stop_all' EXIT
trap 'exit 1' INT TERM

le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && a >= 0 && a <= b)}' && echo yes || echo "no ($1 > $2)"; }

# common NAME RECOVERY_BOUND: the checks every scenario shares.
common() {
    check "$1: no session lost" 0 "$F_LOST"
    check "$1: no forged or logged-out cookie accepted" 0 "$F_UNVERIFIED"
    check "$1: no error, hang or unexpected answer under load" 0 "$F_ERRORS"
    check "$1: checkupd still running" 0 "$F_CRASHED"
    check "$1: service back within $2 s" yes "$(le "$F_RECOVERY" "$2")"
}

fault_redis_restart || check "redis_restart ran" 0 1
common redis_restart 10
check "redis_restart: refused with 503 while Redis is down" 503 "$F_PROBE_STATUS"
check "redis_restart: refused quickly" yes "$(le "$F_PROBE_MS" 2000)"
check "redis_restart: requests refused during the outage" yes "$(le 1 "$F_REFUSED")"

fault_sentinel_failover || check "sentinel_failover ran" 0 1
common sentinel_failover 30
check "sentinel_failover: refused with 503 while no primary answers" 503 "$F_PROBE_STATUS"

fault_slow_redis || check "slow_redis ran" 0 1
common slow_redis 10
check "slow_redis: a paused Redis answers 503" 503 "$F_PAUSE_STATUS"
check "slow_redis: a sleeping Redis answers 503" 503 "$F_PROBE_STATUS"
# Keep-alives only: a refused login may first wait for a CPU to hash on.
check "slow_redis: keep-alives fail at the command timeout, not later" yes \
    "$(le "$F_MAX_REFUSED_ME_MS" $((FAULT_TIMEOUT_MS * 8)))"
check "slow_redis: memory stays bounded (RSS growth in KiB)" yes "$(le "$F_RSS_KB" 65536)"
check "slow_redis: threads stay bounded" yes "$(le "$F_THREADS_MAX" 16)"

fault_disk
rc=$?
check "disk scenario ran (tmpfs mounted)" 0 "$rc"
common disk_full 10
check "disk_full: logins answered 303 or 503, nothing else" 0 "${F_FULL_OTHER:-x}"
check "disk_full: the file system was full" 0 "${F_DF_AVAIL:-x}"
check "disk_full: an existing session validates on the full disk" 200 "$F_PROBE_STATUS"
check "disk_full: a logout on the full disk answers 303" 303 "${F_FULL_LOGOUT:-x}"
check "disk_full: the logged-out session is gone" 401 "${F_FULL_LOGGED_OUT:-x}"
check "disk_full: logins on the full disk are refused" "$FAULT_FULL_LOGINS" "${F_FULL_503:-x}"
check "disk_full: the log has the store full line" yes "$(le 1 "${F_FULL_LOG:-0}")"
check "disk_full: never raw errno text in the log" 0 "${F_RAW_LOG:-x}"
check "disk_full: the store reads clean afterwards (mdb_stat)" 1 "${F_MDB_OK:-0}"
check "readonly_dir: no session lost" 0 "${F_RO_LOST:-x}"
check "readonly_dir: a start on a read-only store is refused" refused "${F_RO_START:-x}"
check "readonly_dir: it says why" yes \
    "$(echo "${F_RO_MSG:-}" | grep -q 'Read-only' && echo yes || echo no)"
check "readonly_dir: back within 10 s once writable" yes "$(le "$F_RECOVERY" 10)"
web_summary
