# checkup: the admin and user tool.
bin_PROGRAMS += checkup
checkup_SOURCES = cli/checkup.c cli/cli.h cli/cli_users.c cli/cli_sessions.c cli/cli_ops.c \
	cli/cli_login.c
checkup_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
checkup_LDADD = libcheckup.la $(OPENSSL_LIBS)

# The figures and alerts of "checkup metrics" and /metrics, and anomaly
# detection: part of libcheckup, so the daemon reuses them.
libcheckup_la_SOURCES += \
	store/ck_metrics.h store/metrics_fmt.c \
	store/ck_anomaly.h store/anomaly.c

dist_man1_MANS = docs/checkup.1
