# SPDX-License-Identifier: BSD-3-Clause
# Session tags and their Redis keys, with no server: the formats' known
# answers, the table of the new tags' hash tags, and the spread of keys
# over Cluster primaries.
check_PROGRAMS += tests/test_tags
TESTS += tests/test_tags

tests_test_tags_SOURCES = tests/test_tags.c
tests_test_tags_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) $(HIREDIS_CFLAGS)
tests_test_tags_LDADD = libcheckup.la $(CMOCKA_LIBS) $(OPENSSL_LIBS)
EXTRA_DIST += tests/tags.mk scripts/gen-redis-tags.py
