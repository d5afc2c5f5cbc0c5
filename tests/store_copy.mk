# SPDX-License-Identifier: BSD-3-Clause
# checkup store copy: the same-store helper (unit), and moving live
# sessions, lockout state and counters between the embedded store and a
# redis-server of the test's own, through checkupd and the CLI.
check_PROGRAMS += tests/test_store_copy tests/store_copy_fill
TESTS += tests/test_store_copy tests/store_copy.sh
EXTRA_DIST += tests/store_copy.sh

tests_test_store_copy_SOURCES = tests/test_store_copy.c
tests_test_store_copy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_store_copy_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_store_copy_fill_SOURCES = tests/store_copy_fill.c
tests_store_copy_fill_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_store_copy_fill_LDADD = libcheckup.la $(OPENSSL_LIBS)
