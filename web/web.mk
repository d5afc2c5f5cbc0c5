# checkupd: the HTTP daemon (libmicrohttpd) over libcheckup.
sbin_PROGRAMS += checkupd
checkupd_SOURCES = web/checkupd.h web/checkupd.c web/conf.c web/http.c web/routes.c \
	web/login.c web/metrics.c
checkupd_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
checkupd_LDADD = libcheckup.la $(MHD_LIBS) $(OPENSSL_LIBS) $(JANSSON_LIBS) -lpthread

man8_MANS += docs/checkupd.8
EXTRA_DIST += docs/checkupd.8
