# SPDX-License-Identifier: BSD-3-Clause
# libcheckup: configuration, the session model and the store front, tokens,
# the users file, lockout, audit and metrics; the backends add their sources
# from store/lmdb/lmdb.mk and store/redis/redis.mk. No PAM, HTTP or OIDC in
# here.
noinst_LTLIBRARIES += libcheckup.la
libcheckup_la_SOURCES = \
	store/ck_store.h store/ck_config.h store/ck_clock.h store/backend.h \
	store/forkcheck.h \
	store/ck_text.h store/text.c \
	store/ck_encode.h store/encode.c \
	store/clock.c store/config.c store/store.c \
	store/ck_token.h store/token.c \
	store/ck_users.h store/users.c store/users_int.h store/users_index.c \
	store/ck_lockout.h store/lockout.c \
	store/ck_login.h store/login.c \
	store/ck_hashslot.h store/hashslot.c \
	store/ck_audit.h store/audit.c \
	store/ck_secfile.h store/secfile.c \
	store/ck_terminal.h store/terminal.c \
	store/ck_metrics.h store/metrics_fmt.c \
	store/ck_anomaly.h store/anomaly.c \
	store/ck_copy.h store/copy.c
libcheckup_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(LMDB_CFLAGS) \
	$(HIREDIS_CFLAGS) $(INIH_CFLAGS) $(JANSSON_CFLAGS) $(CRYPT_CFLAGS)
libcheckup_la_LIBADD = $(OPENSSL_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) $(INIH_LIBS) \
	$(JANSSON_LIBS) $(CRYPT_LIBS)
