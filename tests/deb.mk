# SPDX-License-Identifier: BSD-3-Clause
# The Debian packages (debian/): "make check-deb", as root, builds them from
# this tree's "make dist" tarball, runs lintian, installs them, logs in
# through pam-auth-update's stacks in a private mount namespace, runs
# checkupd from its unit and purges them (tests/deb_packages.sh).
# scripts/test.sh runs it after make check. Not in TESTS: it installs
# packages on the machine, which a parallel make check (and distcheck)
# must not do.
EXTRA_DIST += debian LICENSE tests/deb_packages.sh tests/deb.mk

check-deb:
	rm -f $(distdir).tar.gz
	$(MAKE) $(AM_MAKEFLAGS) dist-gzip
	top_srcdir='$(abs_top_srcdir)' ck_tarball='$(abs_top_builddir)/$(distdir).tar.gz' \
		ck_version='$(VERSION)' $(SHELL) '$(abs_top_srcdir)/tests/deb_packages.sh'
.PHONY: check-deb
