# checkup: the admin and user tool.
bin_PROGRAMS += checkup
checkup_SOURCES = cli/checkup.c
checkup_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
checkup_LDADD = libcheckup.la $(OPENSSL_LIBS)
