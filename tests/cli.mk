# SPDX-License-Identifier: BSD-3-Clause
# checkup (the CLI) end to end on both stores, the metrics/alerts and
# anomaly units on both stores, and the man page.
check_PROGRAMS += tests/cli_units tests/cli_workload
TESTS += tests/cli_lmdb.sh tests/cli_redis.sh tests/cli_units_lmdb.sh \
	tests/cli_units_redis.sh tests/cli_man.sh tests/cli_pam_bind.sh
EXTRA_DIST += tests/cli_common.sh tests/cli_lmdb.sh tests/cli_redis.sh \
	tests/cli_units_lmdb.sh tests/cli_units_redis.sh tests/cli_man.sh tests/cli_pam_bind.sh

tests_cli_units_SOURCES = tests/cli_units.c tests/contract_common.h
tests_cli_units_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_cli_units_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_cli_workload_SOURCES = tests/cli_workload.c
tests_cli_workload_LDADD = libcheckup.la

check_SCRIPTS += checkup$(EXEEXT) tests/pam_drive$(EXEEXT) pam_checkup.la

# keys --provider and config check against providers started by the test
# (tests/idp/mockop.mjs); cli_keys checks that a rotation keeps what the
# old relying-party keys made working.
check_PROGRAMS += tests/cli_keys
TESTS += tests/cli_oidc.sh
EXTRA_DIST += tests/cli_oidc.sh
tests_cli_keys_SOURCES = tests/cli_keys.c $(OIDC_TEST_UTIL)
tests_cli_keys_CFLAGS = $(OIDC_TEST_CFLAGS)
tests_cli_keys_LDADD = $(OIDC_TEST_LIBS)
