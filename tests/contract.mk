# SPDX-License-Identifier: BSD-3-Clause
# The store contract: one behavioural suite, plus concurrency and bad-input
# tests, each run unchanged against every backend by a wrapper script that
# sets CHECKUP_TEST_STORE (an LMDB temp dir, or a redis-server of its own).
check_PROGRAMS += tests/test_store_contract tests/test_store_race tests/test_store_input
TESTS += \
	tests/contract_lmdb.sh tests/contract_redis.sh \
	tests/contract_race_lmdb.sh tests/contract_race_redis.sh \
	tests/contract_input_lmdb.sh tests/contract_input_redis.sh
# The same suites on a Redis Cluster (3 primaries, 3 replicas; plain, and
# the contract over TLS as an ACL user): tests/lib/cluster.sh.
TESTS += \
	tests/contract_cluster.sh tests/contract_race_cluster.sh \
	tests/contract_input_cluster.sh tests/contract_cluster_tls.sh
EXTRA_DIST += tests/lib/cluster.sh \
	tests/contract_cluster.sh tests/contract_race_cluster.sh \
	tests/contract_input_cluster.sh tests/contract_cluster_tls.sh
EXTRA_DIST += \
	tests/contract_common.sh \
	tests/contract_lmdb.sh tests/contract_redis.sh \
	tests/contract_race_lmdb.sh tests/contract_race_redis.sh \
	tests/contract_input_lmdb.sh tests/contract_input_redis.sh

tests_test_store_contract_SOURCES = tests/test_store_contract.c tests/contract_common.h
tests_test_store_contract_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_store_contract_LDADD = libcheckup.la $(CMOCKA_LIBS) $(HIREDIS_LIBS)

tests_test_store_race_SOURCES = tests/test_store_race.c tests/contract_common.h
tests_test_store_race_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_store_race_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_store_input_SOURCES = tests/test_store_input.c tests/contract_common.h
tests_test_store_input_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_store_input_LDADD = libcheckup.la $(CMOCKA_LIBS)
