# SPDX-License-Identifier: BSD-3-Clause
# Install tree, man pages and deployment samples.
TESTS += tests/install.sh tests/man.sh tests/ops_samples.sh tests/monitoring.sh tests/ops_samples_run.sh
EXTRA_DIST += tests/install.sh tests/man.sh tests/ops_samples.sh tests/monitoring.sh tests/ops_samples_run.sh tests/ops.mk
check_SCRIPTS += checkup$(EXEEXT) tests/pam_drive$(EXEEXT) pam_checkup.la
# tests/install.sh runs "make install DESTDIR=..." in this build tree and
# needs the directories configure chose.
AM_TESTS_ENVIRONMENT += \
	MAKE='$(MAKE)'; export MAKE; \
	ck_prefix='$(prefix)'; ck_bindir='$(bindir)'; ck_sbindir='$(sbindir)'; \
	ck_sysconfdir='$(sysconfdir)'; ck_docdir='$(docdir)'; ck_mandir='$(mandir)'; \
	ck_pammoddir='$(pammoddir)'; \
	export ck_prefix ck_bindir ck_sbindir ck_sysconfdir ck_docdir ck_mandir ck_pammoddir;
