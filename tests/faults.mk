# SPDX-License-Identifier: BSD-3-Clause
# tests/faults.sh: the fault scenarios of bench/faults.sh, shortened to
# seconds (Redis restart, Sentinel failover, a slow Redis, a full and a
# read-only embedded store), with bounds generous enough for a busy machine.
TESTS += tests/faults.sh
EXTRA_DIST += tests/faults.sh
check_SCRIPTS += bench/load_gen$(EXEEXT)
