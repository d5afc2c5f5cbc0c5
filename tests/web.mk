# SPDX-License-Identifier: BSD-3-Clause
# checkupd tests: the daemon on each store driven by curl, two daemons on
# one Redis, nginx auth_request in front of a dummy page, and Chromium.
TESTS += tests/web_api.sh tests/web_oidc.sh tests/web_oidc_redis.sh tests/web_oidc_faults.sh tests/web_terminal.sh tests/web_lmdb.sh tests/web_slow.sh tests/wipe_scan.sh tests/web_redis.sh tests/web_peers.sh tests/web_nginx.sh tests/web_browser.sh tests/web_cli.sh
EXTRA_DIST += tests/web_api.sh tests/web_oidc.sh tests/web_oidc_redis.sh tests/web_oidc_faults.sh tests/web_terminal.sh tests/web_lmdb.sh tests/web_redis.sh tests/web_peers.sh tests/web_nginx.sh \
	tests/web_nginx.conf.in tests/lib/nginx.sh tests/web_browser.sh tests/web_cli.sh \
	tests/browser/package.json tests/browser/package-lock.json tests/browser/login.mjs \
	tests/web_common.sh tests/web_suite.sh tests/web_slow.sh tests/web_raw.py tests/wipe_scan.sh
check_SCRIPTS += checkupd$(EXEEXT)
# The login pools: a full queue, a locked account, a slow provider (web/pool.c).
TESTS += tests/web_pool.sh
EXTRA_DIST += tests/web_pool.sh
# Keep-alives batched through the touch pool (web/pool.c, routes.c).
TESTS += tests/web_batch.sh
EXTRA_DIST += tests/web_batch.sh

check_PROGRAMS += tests/test_web_units
TESTS += tests/test_web_units
tests_test_web_units_SOURCES = tests/test_web_units.c
tests_test_web_units_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/web -I$(top_srcdir)/oidc
tests_test_web_units_LDADD = libcheckupd.la $(CMOCKA_LIBS)
clean-local: clean-browser
clean-browser:
	-test "$(abs_srcdir)" = "$(abs_builddir)" || rm -rf tests/browser
.PHONY: clean-browser

# The request parts checkupd reads before trusting anything (tests/fuzz/fuzz.mk).
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_web_headers.c
FUZZ_CODE += $(libcheckupd_la_SOURCES)
FUZZ_CODE_LIBS += libcheckupd.la
FUZZ_DEP_CFLAGS += $(MHD_CFLAGS) -I$(top_srcdir)/web
FUZZ_DEP_LIBS += $(MHD_LIBS)
