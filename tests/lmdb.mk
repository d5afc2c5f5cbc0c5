# SPDX-License-Identifier: BSD-3-Clause
# The embedded LMDB store backend.
check_PROGRAMS += tests/test_lmdb
TESTS += tests/test_lmdb
tests_test_lmdb_SOURCES = tests/test_lmdb.c tests/lib/files.c tests/lib/files.h
tests_test_lmdb_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LMDB_CFLAGS)
tests_test_lmdb_LDADD = libcheckup.la $(LMDB_LIBS) $(CMOCKA_LIBS)

# Answered logouts survive SIGKILL of checkupd and of a PAM host process.
TESTS += tests/lmdb_crash.sh
EXTRA_DIST += tests/lmdb_crash.sh
