# SPDX-License-Identifier: BSD-3-Clause
# Unit tests of the store front and the configuration.
check_PROGRAMS += tests/test_config
TESTS += tests/test_config
tests_test_config_SOURCES = tests/test_config.c tests/lib/files.c tests/lib/files.h
tests_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_config_LDADD = libcheckup.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_encode
TESTS += tests/test_encode
tests_test_encode_SOURCES = tests/test_encode.c
tests_test_encode_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_encode_LDADD = libcheckup.la $(CMOCKA_LIBS)

# The audit writer: name shapes, JSON lines, [audit] on_failure.
check_PROGRAMS += tests/test_audit
TESTS += tests/test_audit
tests_test_audit_SOURCES = tests/test_audit.c
tests_test_audit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_test_audit_LDADD = libcheckup.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

# [audit] on_failure, and a JSON parse of every audit line the suites
# below kept (tests/lib/audit.sh); it runs after them.
TESTS += tests/audit_deny.sh tests/audit_json.sh
EXTRA_DIST += tests/audit_deny.sh tests/audit_json.sh tests/lib/audit.sh
tests/audit_json.log: tests/audit_deny.log tests/secrets_scan.log tests/web_lmdb.log \
	tests/cli_lmdb.log tests/cli_pam_bind.log
clean-local: clean-audit-logs
clean-audit-logs:
	rm -rf tests/audit-logs
.PHONY: clean-audit-logs
