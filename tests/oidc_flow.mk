# SPDX-License-Identifier: BSD-3-Clause
# OIDC protocol half: unit and fault tests against tests/idp/mockop.mjs,
# integration against oidc-provider and mockpass (node, from tests/idp).
check_PROGRAMS += tests/test_oidc_flow
tests_test_oidc_flow_SOURCES = tests/test_oidc_flow.c tests/lib/files.c tests/lib/files.h
tests_test_oidc_flow_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oidc
tests_test_oidc_flow_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
tests_test_oidc_flow_LDADD = liboidc.la libcheckup.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)
TESTS += tests/oidc_flow_mock.sh tests/oidc_flow_mock_redis.sh
EXTRA_DIST += tests/oidc_flow_mock.sh tests/oidc_flow_mock_redis.sh tests/idp/idp.sh tests/idp/package.json \
	tests/idp/package-lock.json tests/idp/mockop.mjs
check_PROGRAMS += tests/oidc_flow_drive
tests_oidc_flow_drive_SOURCES = tests/oidc_flow_drive.c
tests_oidc_flow_drive_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oidc
tests_oidc_flow_drive_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
tests_oidc_flow_drive_LDADD = liboidc.la libcheckup.la $(JANSSON_LIBS) $(CURL_LIBS)
TESTS += tests/oidc_flow_provider.sh
EXTRA_DIST += tests/oidc_flow_provider.sh tests/idp/op.mjs tests/idp/login.mjs
TESTS += tests/oidc_flow_mockpass.sh
EXTRA_DIST += tests/oidc_flow_mockpass.sh tests/idp/mockpass.mjs tests/oidc_flow_common.sh
EXTRA_DIST += bench/oidc_flow.sh
# tests/idp/idp.sh installs the npm packages under the build dir when the
# source tree has none (make distcheck).
clean-local: clean-oidc-idp
clean-oidc-idp:
	rm -rf tests/idp-run
.PHONY: clean-oidc-idp
