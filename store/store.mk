# libcheckup: configuration, the session store front and its backends.
noinst_LTLIBRARIES += libcheckup.la
libcheckup_la_SOURCES = \
	store/ck_store.h store/ck_config.h store/ck_clock.h store/backend.h \
	store/ck_text.h store/text.c \
	store/clock.c store/config.c store/store.c
libcheckup_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LMDB_CFLAGS) \
	$(HIREDIS_CFLAGS) $(INIH_CFLAGS)
libcheckup_la_LIBADD = $(OPENSSL_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(INIH_LIBS)
