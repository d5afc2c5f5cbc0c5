# SPDX-License-Identifier: BSD-3-Clause
# checkupd: the HTTP daemon (libmicrohttpd) over libcheckup. Everything but
# main() is a convenience library that the unit tests link too.
noinst_LTLIBRARIES += libcheckupd.la
libcheckupd_la_SOURCES = web/checkupd.h web/runtime.c web/conf.c web/http.c web/guard.c \
	web/routes.c web/login.c web/oidc.c web/terminal.c web/pool.c
libcheckupd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oidc
libcheckupd_la_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
libcheckupd_la_LIBADD = liboidc.la libcheckup.la $(MHD_LIBS) $(OPENSSL_LIBS) $(JANSSON_LIBS) -lpthread

sbin_PROGRAMS += checkupd
checkupd_SOURCES = web/checkupd.c
checkupd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oidc
checkupd_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
checkupd_LDADD = libcheckupd.la $(MHD_LIBS)

man8_MANS += docs/checkupd.8
EXTRA_DIST += docs/checkupd.8
