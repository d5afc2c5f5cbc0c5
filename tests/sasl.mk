# SPDX-License-Identifier: BSD-3-Clause
# The OAUTHBEARER plugin: the message parser (cmocka, no libsasl2 needed),
# then the plugin through the real libsasl2: sasl2-bin's sample server and
# client, an in-process driver for what they cannot carry, and valgrind.
check_PROGRAMS += tests/test_sasl_parse
TESTS += tests/test_sasl_parse
tests_test_sasl_parse_SOURCES = tests/test_sasl_parse.c
tests_test_sasl_parse_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/sasl
tests_test_sasl_parse_LDADD = libcksaslparse.la $(CMOCKA_LIBS)

if HAVE_SASL
check_PROGRAMS += tests/sasl_drive
tests_sasl_drive_SOURCES = tests/sasl_drive.c
tests_sasl_drive_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS) $(OPENSSL_CFLAGS) -pthread
tests_sasl_drive_LDADD = libcheckup.la -lsasl2 $(OPENSSL_LIBS) -lpthread
EXTRA_tests_sasl_drive_DEPENDENCIES = sasl/libcheckup_sasl.la
TESTS += tests/sasl_sample.sh tests/sasl_valgrind.sh tests/sasl_symbols.sh
check_SCRIPTS += tests/sasl_drive$(EXEEXT) checkup$(EXEEXT) sasl/libcheckup_sasl.la
endif
EXTRA_DIST += tests/sasl_sample.sh tests/sasl_valgrind.sh tests/sasl_symbols.sh \
	tests/lib/sasl_env.sh

# The token login the PAM module and the plugin share (store/ck_login.h).
check_PROGRAMS += tests/test_login_token
TESTS += tests/test_login_token
tests_test_login_token_SOURCES = tests/test_login_token.c
tests_test_login_token_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_login_token_LDADD = libcheckup.la $(CMOCKA_LIBS)
