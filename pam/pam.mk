# SPDX-License-Identifier: BSD-3-Clause
# pam_checkup.so: thin entry points over a convenience library that the
# unit tests link too. Links libcheckup (store, tokens, users) and never
# libcurl or cjose.
noinst_LTLIBRARIES += libpamcheckup.la
libpamcheckup_la_SOURCES = \
	pam/cfg.h pam/cfg.c pam/module.h pam/ctx.c pam/auth.c pam/account.c pam/session.c \
	pam/termlogin.c pam/qr.c
libpamcheckup_la_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS) $(OPENSSL_CFLAGS) $(QRENCODE_CFLAGS)
libpamcheckup_la_LIBADD = libcheckup.la $(PAM_LIBS) $(OPENSSL_LIBS) $(QRENCODE_LIBS)

pammod_LTLIBRARIES += pam_checkup.la
pam_checkup_la_SOURCES = pam/pam_checkup.c
pam_checkup_la_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
pam_checkup_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-Wl,--version-script=$(top_srcdir)/pam/pam_checkup.map -Wl,-z,defs
pam_checkup_la_LIBADD = libpamcheckup.la $(PAM_LIBS)
EXTRA_pam_checkup_la_DEPENDENCIES = pam/pam_checkup.map
EXTRA_DIST += pam/pam_checkup.map

man8_MANS = docs/pam_checkup.8
EXTRA_DIST += docs/pam_checkup.8 conf/pam.d/checkup conf/pam.d/checkup-token \
	conf/pam.d/sshd-checkup
