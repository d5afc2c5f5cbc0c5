# SPDX-License-Identifier: BSD-3-Clause
# bench/oidc: ID token validations per second against bare ECDH + ECDSA
# (sh bench/oidc.sh from the build directory). make check only runs it for
# a fraction of a second (bench/oidc_smoke.sh) to keep it building and working.
noinst_PROGRAMS += bench/oidc
bench_oidc_SOURCES = bench/oidc.c
bench_oidc_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/oidc $(CJOSE_CFLAGS) \
	$(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
bench_oidc_LDADD = liboidc.la libcheckup.la $(CJOSE_LIBS) $(JANSSON_LIBS) \
	$(OPENSSL_LIBS)
TESTS += bench/oidc_smoke.sh
EXTRA_DIST += bench/oidc.sh bench/oidc_smoke.sh
