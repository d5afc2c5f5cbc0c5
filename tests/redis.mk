# SPDX-License-Identifier: BSD-3-Clause
# Redis store backend tests: a cmocka program driven by a wrapper script that
# starts its own redis-server on a free loopback port.
check_PROGRAMS += tests/test_redis_store
TESTS += tests/redis_store.sh
EXTRA_DIST += tests/redis_store.sh
tests_test_redis_store_SOURCES = tests/test_redis_store.c
tests_test_redis_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(HIREDIS_CFLAGS) $(OPENSSL_CFLAGS)
# --wrap lets the test count the commands the backend sends.
tests_test_redis_store_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=ck_redis_command -Wl,--wrap=ck_redis_pipeline
tests_test_redis_store_LDADD = libcheckup.la $(CMOCKA_LIBS) $(HIREDIS_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/test_redis_store_peers
TESTS += tests/redis_store_peers.sh
EXTRA_DIST += tests/redis_store_peers.sh
tests_test_redis_store_peers_SOURCES = tests/test_redis_store_peers.c
tests_test_redis_store_peers_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_redis_store_peers_LDADD = libcheckup.la $(CMOCKA_LIBS)

# A full store (Redis at maxmemory, embedded store on a full disk and at its
# map size) still validates and ends sessions; refuses logins with "store full".
check_PROGRAMS += tests/test_store_full
TESTS += tests/store_full.sh
EXTRA_DIST += tests/store_full.sh
tests_test_store_full_SOURCES = tests/test_store_full.c tests/contract_common.h
tests_test_store_full_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(HIREDIS_CFLAGS) $(LMDB_CFLAGS)
# --wrap lets the test see that ends of sessions are synced.
tests_test_store_full_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=mdb_env_sync
tests_test_store_full_LDADD = libcheckup.la $(CMOCKA_LIBS) $(HIREDIS_LIBS) $(LMDB_LIBS)

# Standalone Redis with AOF: logouts then SIGKILL of redis-server, restart,
# nothing logged out comes back (appendfsync everysec and always, logouts/s).
check_PROGRAMS += tests/aof_burst
TESTS += tests/redis_aof_crash.sh
EXTRA_DIST += tests/redis_aof_crash.sh
tests_aof_burst_SOURCES = tests/aof_burst.c tests/contract_common.h
tests_aof_burst_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_aof_burst_LDADD = libcheckup.la $(OPENSSL_LIBS)
