# SPDX-License-Identifier: BSD-3-Clause
# pam_checkup.so through the real libpam (pam_wrapper + libpamtest), the
# token and users-file units, and a full cycle under valgrind.
check_PROGRAMS += tests/test_token tests/test_users tests/test_pam tests/test_pam_units
TESTS += tests/test_token tests/test_users tests/test_pam tests/test_pam_units

tests_test_token_SOURCES = tests/test_token.c tests/lib/files.c tests/lib/files.h
tests_test_token_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_test_token_LDADD = libcheckup.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
# --wrap lets test_claims_fast_path count the JSON parses.
tests_test_token_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=json_loadb

tests_test_users_SOURCES = tests/test_users.c
tests_test_users_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_users_LDADD = libcheckup.la $(CMOCKA_LIBS) -lpthread

# The users file's index (lookups, rebuilds, damaged and lying indexes).
check_PROGRAMS += tests/test_users_index
TESTS += tests/test_users_index
tests_test_users_index_SOURCES = tests/test_users_index.c
tests_test_users_index_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_users_index_LDADD = libcheckup.la $(CMOCKA_LIBS)

tests_test_pam_SOURCES = tests/test_pam.c tests/lib/files.c tests/lib/files.h tests/lib/pamconv.c tests/lib/pamconv.h
tests_test_pam_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PAM_CFLAGS) $(PAMTEST_CFLAGS)
tests_test_pam_LDADD = libcheckup.la $(CMOCKA_LIBS) $(PAMTEST_LIBS) $(PAM_LIBS)
# The module's internals, from its convenience library.
tests_test_pam_units_SOURCES = tests/test_pam_units.c
tests_test_pam_units_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PAM_CFLAGS) \
	-I$(top_srcdir)/pam
tests_test_pam_units_LDADD = libpamcheckup.la $(CMOCKA_LIBS)

# The module must be built before its test runs.
EXTRA_tests_test_pam_DEPENDENCIES = pam_checkup.la

# A driver for the script tests and the demo (built by "make": the demo uses it).
noinst_PROGRAMS += tests/pam_drive
tests_pam_drive_SOURCES = tests/pam_drive.c tests/lib/pamconv.c tests/lib/pamconv.h
tests_pam_drive_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
tests_pam_drive_LDADD = $(PAM_LIBS)

TESTS += tests/pam_valgrind.sh tests/pam_cli.sh tests/pam_redis.sh tests/pam_symbols.sh tests/pam_bind_touch.sh
EXTRA_DIST += tests/pam_valgrind.sh tests/pam_cli.sh tests/pam_redis.sh tests/pam_symbols.sh tests/lib/pam_env.sh \
	tests/pam_bind_touch.sh
check_SCRIPTS += tests/pam_drive$(EXEEXT) checkup$(EXEEXT) pam_checkup.la
# The sanitizer build runs the cycle without valgrind (see the script).
AM_TESTS_ENVIRONMENT += CK_SANITIZERS='$(SANITIZER_CFLAGS)'; export CK_SANITIZERS;

# Terminal logins (method=corppass / oidc): ck_terminal on both stores, and
# the PAM conversation with the test playing checkupd's part.
check_PROGRAMS += tests/pam_corppass_store tests/pam_corppass_pam tests/pam_corppass_qr
TESTS += tests/pam_corppass_pam tests/pam_corppass_qr tests/pam_corppass_store_lmdb.sh \
	tests/pam_corppass_store_redis.sh tests/pam_corppass_redis.sh
EXTRA_DIST += tests/pam_corppass_store_lmdb.sh tests/pam_corppass_store_redis.sh \
	tests/pam_corppass_redis.sh
tests_pam_corppass_store_SOURCES = tests/pam_corppass_store.c tests/contract_common.h
tests_pam_corppass_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_pam_corppass_store_LDADD = libcheckup.la $(CMOCKA_LIBS)
tests_pam_corppass_pam_SOURCES = tests/pam_corppass_pam.c tests/lib/files.c tests/lib/files.h
tests_pam_corppass_pam_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PAM_CFLAGS) $(PAMTEST_CFLAGS)
tests_pam_corppass_pam_LDADD = libcheckup.la $(CMOCKA_LIBS) $(PAMTEST_LIBS) $(PAM_LIBS)
EXTRA_tests_pam_corppass_pam_DEPENDENCIES = pam_checkup.la
check_SCRIPTS += tests/pam_corppass_store$(EXEEXT) tests/pam_corppass_pam$(EXEEXT)
tests_pam_corppass_qr_SOURCES = tests/pam_corppass_qr.c
tests_pam_corppass_qr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PAM_CFLAGS) $(QRENCODE_CFLAGS) \
	-I$(top_srcdir)/pam
tests_pam_corppass_qr_LDADD = libpamcheckup.la $(CMOCKA_LIBS) $(QRENCODE_LIBS)
