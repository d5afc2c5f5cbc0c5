# SASL services without the plugin: saslauthd -a pam with pam_checkup
# (testsaslauthd).
TESTS += tests/sasl_saslauthd.sh
EXTRA_DIST += tests/sasl_saslauthd.sh tests/lib/saslauthd.sh
check_SCRIPTS += checkup$(EXEEXT) tests/pam_drive$(EXEEXT) pam_checkup.la
