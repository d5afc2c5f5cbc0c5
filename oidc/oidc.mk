# SPDX-License-Identifier: BSD-3-Clause
# liboidc: the OIDC / CorpPass client library. The JOSE half (keys, JWE
# and JWS, ID tokens, CorpPass claims) is listed here; the protocol half
# appends its sources with +=.
noinst_LTLIBRARIES += liboidc.la
liboidc_la_SOURCES = \
	oidc/ck_jose.h oidc/jose_internal.h oidc/jose_util.c oidc/jose_jwks.c \
	oidc/jose_jwe.c oidc/rpkeys.c \
	oidc/ck_idtoken.h oidc/idtoken.c oidc/corppass.c
liboidc_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oidc
liboidc_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS) \
	$(CJOSE_CFLAGS) $(CURL_CFLAGS)
liboidc_la_LIBADD = libcheckup.la $(CJOSE_LIBS) $(JANSSON_LIBS) \
	$(OPENSSL_LIBS) $(CURL_LIBS)
