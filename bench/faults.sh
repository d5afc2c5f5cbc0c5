#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Fault scenarios under load against checkupd (not part of make check; the
# shortened version is tests/faults.sh). Run from the build directory:
#     sh ../bench/faults.sh [redis_restart sentinel_failover sentinel_failover_lagged
#                            slow_redis disk]
# FAULT_LOAD_S (default 40) seconds of load per scenario, FAULT_OUTAGE_S
# (default 3) of fault, FAULT_VUS (50) users at FAULT_KEEPALIVE (0.5 s),
# FAULT_ATT (10) attackers, FAULT_K (50) sessions made before the fault,
# [store] command_timeout_ms = FAULT_TIMEOUT_MS (250). The disk scenario
# mounts a 16 MiB tmpfs and needs root; without it, it is skipped (here only).
# Each scenario ends with RESULT scenario=<name> lost_sessions=<n>
# accepted_unverified=<n> recovery_s=<s> and more fields (bench/faults_common.sh).
# sentinel_failover_lagged (bench/faults_lagged.sh): a replica LAG_DELAY_MS
# (50) behind its primary, 1,000 logouts and 500 logins through the store,
# the primary killed right after the last answer, with [store] wait_replicas
# 1 then 0: RESULT ... resurrected_logouts=<n> lost_logins=<n>.
# Everything started here is stopped by pid on exit.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
make -C "$top_builddir" checkupd checkup bench/load_gen tests/wait_drive >/dev/null || exit 1

. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/load_common.sh"
. "$top_srcdir/bench/faults_lagged.sh"
. "$top_srcdir/bench/faults_common.sh"
trap 'fault_stop_all; web_stop_all; fault_umount; redis_stop_all' EXIT
trap 'exit 1' INT TERM

rc=0
for s in ${*:-redis_restart sentinel_failover sentinel_failover_lagged slow_redis disk}; do
    echo "== $s ($(uptime | sed 's/.*load/load/'))"
    if [ "$s" = disk ] && [ "$(id -u)" -ne 0 ]; then
        echo "SKIP scenario=disk_full and readonly_dir: mounting a tmpfs needs root"
        continue
    fi
    "fault_$s"
    st=$?
    if [ $st -eq 2 ]; then
        echo "SKIP scenario=disk_full and readonly_dir: mount -t tmpfs failed"
    elif [ $st -ne 0 ]; then
        echo "scenario $s could not run" >&2
        rc=1
    fi
    fault_stop_all
    web_stop_all
done
exit $rc
