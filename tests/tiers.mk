# SPDX-License-Identifier: BSD-3-Clause
# Test tiers.
#
# make check       everything in TESTS (servers, node, nginx, Chromium);
#                  scripts/test.sh runs it, and "make lint" beside it.
# make check-unit  the unit tier alone: the cmocka programs and the scripts
#                  that need no server process, no network beyond an unused
#                  loopback socket, no node and no browser (LMDB stores in
#                  temp dirs, pam_wrapper in process). Under a minute.
#
# A new test belongs in UNIT_TESTS when it starts nothing (no redis-server,
# node, nginx, checkupd, Chromium); its program, and any program a wrapper
# script runs, goes in UNIT_PROGS.
UNIT_TESTS = \
	tests/test_token tests/test_users tests/test_config tests/test_lmdb \
	tests/test_encode tests/test_audit \
	tests/test_redis_conn_url tests/test_pam tests/test_pam_units \
	tests/pam_corppass_pam tests/pam_corppass_qr \
	tests/oidc_idtoken tests/oidc_jose tests/test_web_units \
	tests/fuzz/ckfuzz tests/test_sasl_parse tests/test_login_token \
	tests/contract_lmdb.sh tests/contract_race_lmdb.sh \
	tests/contract_input_lmdb.sh tests/cli_units_lmdb.sh \
	tests/pam_corppass_store_lmdb.sh tests/pam_symbols.sh \
	tests/style_check.sh tests/test_store_copy \
	tests/test_users_index tests/test_redis_slot \
	tests/test_redis_cluster
UNIT_TESTS += tests/test_tags tests/test_hashslot
UNIT_PROGS = \
	tests/test_token$(EXEEXT) tests/test_users$(EXEEXT) \
	tests/test_users_index$(EXEEXT) \
	tests/test_encode$(EXEEXT) tests/test_audit$(EXEEXT) \
	tests/test_config$(EXEEXT) tests/test_lmdb$(EXEEXT) \
	tests/test_redis_conn_url$(EXEEXT) tests/test_pam$(EXEEXT) \
	tests/test_pam_units$(EXEEXT) tests/pam_corppass_pam$(EXEEXT) \
	tests/pam_corppass_qr$(EXEEXT) tests/oidc_idtoken$(EXEEXT) \
	tests/oidc_jose$(EXEEXT) tests/test_web_units$(EXEEXT) \
	tests/fuzz/ckfuzz$(EXEEXT) tests/test_store_contract$(EXEEXT) tests/test_store_race$(EXEEXT) \
	tests/test_store_input$(EXEEXT) tests/cli_units$(EXEEXT) \
	tests/pam_corppass_store$(EXEEXT) tests/test_store_copy$(EXEEXT) \
	tests/test_sasl_parse$(EXEEXT) tests/test_login_token$(EXEEXT) \
	tests/test_redis_slot$(EXEEXT) \
	tests/test_redis_cluster$(EXEEXT)
UNIT_PROGS += tests/test_tags$(EXEEXT) tests/test_hashslot$(EXEEXT)

check-unit: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)' \
		check_PROGRAMS='$(UNIT_PROGS)' check_SCRIPTS=
.PHONY: check-unit check-test-deps

# The test-only libraries are optional at configure time (the product
# builds without them); make check refuses, naming them, before it compiles
# a test.
if !HAVE_TEST_DEPS
check-am: check-test-deps
check-test-deps:
	@echo "make check needs the test libraries configure did not find: $(CK_TEST_MISSING)" >&2
	@echo "(Debian: libcmocka-dev libpam-wrapper libpamtest0-dev; scripts/install-deps.sh installs them), then rerun configure" >&2
	@exit 1
endif
EXTRA_DIST += tests/tiers.mk
