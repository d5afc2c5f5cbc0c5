# SPDX-License-Identifier: BSD-3-Clause
# SASL services without the plugin: saslauthd -a pam with pam_checkup
# (testsaslauthd), and OpenLDAP slapd binding through it (ldapwhoami -Y
# PLAIN). tests/lib/slapd.sh is the slapd harness; a test of the
# OAUTHBEARER plugin uses it through slapd_use_checkup_plugin.
TESTS += tests/sasl_saslauthd.sh tests/sasl_slapd.sh
EXTRA_DIST += tests/sasl_saslauthd.sh tests/sasl_slapd.sh tests/lib/saslauthd.sh \
	tests/lib/slapd.sh
check_SCRIPTS += checkup$(EXEEXT) tests/pam_drive$(EXEEXT) pam_checkup.la
