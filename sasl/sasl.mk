# SPDX-License-Identifier: BSD-3-Clause
# libcheckup_sasl.so: the Cyrus SASL OAUTHBEARER plugin. Like the PAM
# module it links libcheckup (store, tokens, users) and never libcurl or
# cjose. The message parser is a library of its own, built with or without
# libsasl2: the unit test and the fuzz program link it.
noinst_LTLIBRARIES += libcksaslparse.la
libcksaslparse_la_SOURCES = sasl/oauthbearer.h sasl/parse.c
libcksaslparse_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
libcksaslparse_la_LIBADD = $(OPENSSL_LIBS)

if HAVE_SASL
sasl2plugin_LTLIBRARIES += sasl/libcheckup_sasl.la
sasl_libcheckup_sasl_la_SOURCES = sasl/cks.h sasl/plugin.c sasl/server.c sasl/client.c \
	sasl/state.c
sasl_libcheckup_sasl_la_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS) $(OPENSSL_CFLAGS) -pthread
sasl_libcheckup_sasl_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-Wl,--version-script=$(top_srcdir)/sasl/checkup_sasl.map -Wl,-z,defs
sasl_libcheckup_sasl_la_LIBADD = libcksaslparse.la libcheckup.la $(OPENSSL_LIBS) -lpthread
EXTRA_sasl_libcheckup_sasl_la_DEPENDENCIES = sasl/checkup_sasl.map
man8_MANS += docs/checkup_sasl.8
endif
EXTRA_DIST += sasl/checkup_sasl.map docs/checkup_sasl.8
