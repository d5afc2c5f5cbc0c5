# SPDX-License-Identifier: BSD-3-Clause
# The host's password-check slots (store/hashslot.c), with no server.
check_PROGRAMS += tests/test_hashslot
TESTS += tests/test_hashslot

tests_test_hashslot_SOURCES = tests/test_hashslot.c
tests_test_hashslot_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_hashslot_LDADD = libcheckup.la $(CMOCKA_LIBS) -lpthread
EXTRA_DIST += tests/hashslot.mk
