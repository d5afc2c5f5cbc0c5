# SPDX-License-Identifier: BSD-3-Clause
# Tests of the Redis connection: URL parsing alone, then real servers
# (started by the .sh wrappers through tests/lib/redis.sh).
check_PROGRAMS += tests/test_redis_slot tests/test_redis_cluster tests/test_redis_cluster_faults \
	tests/test_redis_conn_url tests/test_redis_conn tests/test_redis_conn_tls \
	tests/test_redis_conn_sentinel
TESTS += tests/test_redis_slot tests/test_redis_cluster tests/test_redis_cluster_faults \
	tests/test_redis_conn_url tests/redis_conn.sh tests/redis_conn_tls.sh \
	tests/redis_conn_sentinel.sh tests/redis_cluster_copy.sh
EXTRA_DIST += tests/redis_conn.sh tests/redis_conn_tls.sh tests/redis_cluster_copy.sh \
	tests/redis_conn_sentinel.sh tests/test_redis_conn_util.h tests/lib/fake_cluster_node.py

tests_test_redis_conn_url_SOURCES = tests/test_redis_conn_url.c tests/lib/files.c tests/lib/files.h
tests_test_redis_conn_url_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_redis_conn_url_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_redis_conn_SOURCES = tests/test_redis_conn.c tests/test_redis_conn_util.h
tests_test_redis_conn_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_redis_conn_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_redis_conn_tls_SOURCES = tests/test_redis_conn_tls.c tests/test_redis_conn_util.h
tests_test_redis_conn_tls_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_redis_conn_tls_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_redis_conn_sentinel_SOURCES = tests/test_redis_conn_sentinel.c tests/test_redis_conn_util.h
tests_test_redis_conn_sentinel_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_redis_conn_sentinel_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_redis_slot_SOURCES = tests/test_redis_slot.c
tests_test_redis_slot_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_redis_slot_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_redis_cluster_SOURCES = tests/test_redis_cluster.c
tests_test_redis_cluster_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_redis_cluster_LDADD = libcheckup.la $(CMOCKA_LIBS) $(HIREDIS_LIBS)

tests_test_redis_cluster_faults_SOURCES = tests/test_redis_cluster_faults.c
tests_test_redis_cluster_faults_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_redis_cluster_faults_LDADD = libcheckup.la $(CMOCKA_LIBS)
