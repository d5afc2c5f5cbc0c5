# SPDX-License-Identifier: BSD-3-Clause
# JOSE unit tests: ID tokens (JWE + JWS), key sets, RP keys, client
# assertions, DPoP proofs, CorpPass claims. Keys are generated at run time.
OIDC_TEST_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/oidc $(CMOCKA_CFLAGS) \
	$(CJOSE_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
OIDC_TEST_LIBS = liboidc.la libcheckup.la $(CMOCKA_LIBS) $(CJOSE_LIBS) \
	$(JANSSON_LIBS) $(OPENSSL_LIBS)
OIDC_TEST_UTIL = tests/oidc_jose_util.h tests/oidc_jose_util.c

check_PROGRAMS += tests/oidc_idtoken tests/oidc_jose
TESTS += tests/oidc_idtoken tests/oidc_jose
tests_oidc_idtoken_SOURCES = tests/oidc_idtoken.c $(OIDC_TEST_UTIL)
tests_oidc_idtoken_CFLAGS = $(OIDC_TEST_CFLAGS)
tests_oidc_idtoken_LDADD = $(OIDC_TEST_LIBS)
tests_oidc_jose_SOURCES = tests/oidc_jose.c $(OIDC_TEST_UTIL)
tests_oidc_jose_CFLAGS = $(OIDC_TEST_CFLAGS)
tests_oidc_jose_LDADD = $(OIDC_TEST_LIBS)

# The fuzz target "jose" (tests/fuzz/fuzz.mk runs it; seeds in
# tests/fuzz/corpus/jose/). This fragment is included after fuzz.mk.
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_jose.c
FUZZ_CODE += $(liboidc_la_SOURCES)
FUZZ_CODE_LIBS += liboidc.la
FUZZ_DEP_CFLAGS += $(CJOSE_CFLAGS) -I$(top_srcdir)/oidc
FUZZ_DEP_LIBS += $(CJOSE_LIBS) $(CURL_LIBS)
