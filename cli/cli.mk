# SPDX-License-Identifier: BSD-3-Clause
# checkup: the admin and user tool.
bin_PROGRAMS += checkup
checkup_SOURCES = cli/checkup.c cli/cli.h cli/cli_users.c cli/cli_sessions.c cli/cli_ops.c \
	cli/cli_login.c cli/cli_keys.c cli/cli_provider.c cli/cli_lockout.c \
	cli/cli_store.c
# The relying-party keys and the providers' discovery come from liboidc.
checkup_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oidc
checkup_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
checkup_LDADD = liboidc.la libcheckup.la $(JANSSON_LIBS) $(OPENSSL_LIBS)

dist_man1_MANS = docs/checkup.1
