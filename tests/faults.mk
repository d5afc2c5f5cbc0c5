# SPDX-License-Identifier: BSD-3-Clause
# tests/faults.sh: the fault scenarios of bench/faults.sh, shortened to
# seconds (Redis restart, Sentinel failover, a slow Redis, a full and a
# read-only embedded store), with bounds generous enough for a busy machine.
TESTS += tests/faults.sh
EXTRA_DIST += tests/faults.sh
check_SCRIPTS += bench/load_gen$(EXEEXT)

# tests/faults_wait.sh: [store] wait_replicas against a replica behind a
# lagging link (tests/lib/lag_relay.py) and a Sentinel failover.
TESTS += tests/faults_wait.sh
EXTRA_DIST += tests/faults_wait.sh tests/lib/lag_relay.py bench/faults_lagged.sh
check_PROGRAMS += tests/wait_drive
tests_wait_drive_SOURCES = tests/wait_drive.c
tests_wait_drive_LDADD = libcheckup.la

# tests/cluster_reshard.sh, tests/cluster_failover.sh: a Redis Cluster
# (tests/lib/cluster.sh) resharded, and a primary killed, under load.
TESTS += tests/cluster_reshard.sh tests/cluster_failover.sh
EXTRA_DIST += tests/cluster_reshard.sh tests/cluster_failover.sh
