# SPDX-License-Identifier: BSD-3-Clause
# make lint: clang-tidy (.clang-tidy), cppcheck (scripts/cppcheck.supp) and
# the style check (scripts/style-check.sh) over every C source in the tree,
# each at zero findings. scripts/lint.sh does the work; this rule only hands
# it the preprocessor flags the build itself uses, so the tools see the
# code as the compiler does (no compile_commands.json needed).
LINT_CPPFLAGS = $(DEFS) -I$(abs_top_builddir) -I$(abs_top_srcdir) \
	-I$(top_srcdir)/store -I$(top_srcdir)/oidc -I$(top_srcdir)/web \
	-I$(top_srcdir)/pam -I$(top_srcdir)/sasl -I$(top_srcdir)/cli -I$(top_srcdir)/tests \
	-I$(top_srcdir)/tests/fuzz \
	-DCK_CONFIG_PATH='"$(ck_config_path)"' -DCK_SYSCONFDIR='"$(sysconfdir)"' \
	$(CPPFLAGS) $(OPENSSL_CFLAGS) $(LMDB_CFLAGS) $(HIREDIS_CFLAGS) \
	$(INIH_CFLAGS) $(JANSSON_CFLAGS) $(CJOSE_CFLAGS) $(CURL_CFLAGS) \
	$(MHD_CFLAGS) $(QRENCODE_CFLAGS) $(CRYPT_CFLAGS) $(PAM_CFLAGS) \
	$(CMOCKA_CFLAGS) $(PAMTEST_CFLAGS)

# "make lint LINT_TOOLS=tidy" runs one tool; LINT_JOBS=N sets clang-tidy's
# processes.
lint:
	@printf '%s\n' $(LINT_CPPFLAGS) > lint-flags.txt
	@CK_LINT_FLAGS=lint-flags.txt CK_LINT_JOBS='$(LINT_JOBS)' \
		$(SHELL) $(top_srcdir)/scripts/lint.sh $(top_srcdir) $(LINT_TOOLS)
.PHONY: lint
CLEANFILES += lint-flags.txt

# The style check must catch what it claims to: tests/style_check.sh feeds
# it bad samples. It needs no server and runs in the unit tier.
TESTS += tests/style_check.sh
EXTRA_DIST += tests/lint.mk tests/style_check.sh scripts/lint.sh \
	scripts/style-check.sh scripts/cppcheck.supp tests/lib/analyzer.h \
	tests/.clang-tidy bench/.clang-tidy \
	.clang-tidy
