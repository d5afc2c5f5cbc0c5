# SPDX-License-Identifier: BSD-3-Clause
# Install rules for the configuration samples, checkup.conf(5) and the
# operations guide.
#
# Where things go (docs/operations.md, "Installing"):
#   $(sysconfdir)/checkup/checkup.conf   the sample, only when absent: an
#                                         existing (edited) file is kept
#   $(docdir)/examples/...               every sample, always (reference
#                                         copies: pam.d stacks, nginx,
#                                         systemd, tmpfiles.d, sysusers.d,
#                                         Redis, Docker, Kubernetes)
#   $(docdir)/operations.md
# Nothing goes into $(sysconfdir)/pam.d: which services use pam_checkup is
# the administrator's choice, and a service file there takes effect at
# once. Nothing goes into the systemd directories either: checkupd.service,
# tmpfiles.d/checkup.conf and sysusers.d/checkup.conf are copied by hand or
# by a package (they name /usr/sbin and /etc paths).
#
# Man pages: each component lists its own page in its fragment, and
# tests/install.sh checks that every page in docs/ gets installed:
#   man5_MANS (here)       docs/checkup.conf.5
#   man8_MANS (pam/pam.mk) docs/pam_checkup.8, += docs/checkupd.8 (web/)
#   man1_MANS (cli/)       docs/checkup.1
man5_MANS = docs/checkup.conf.5
dist_doc_DATA = docs/operations.md

ckexampledir = $(docdir)/examples
dist_ckexample_DATA = conf/checkup.conf conf/docker-compose.yml

ckexamplepamdir = $(ckexampledir)/pam.d
# checkup, checkup-token and sshd-checkup are distributed by pam/pam.mk.
ckexamplepam_DATA = conf/pam.d/checkup conf/pam.d/checkup-token conf/pam.d/sshd-checkup
dist_ckexamplepam_DATA = conf/pam.d/sshd conf/pam.d/login conf/pam.d/clinic-portal \
	conf/pam.d/common-auth-checkup
# PLAIN and LOGIN binds of SASL services through saslauthd -a pam.
dist_ckexamplepam_DATA += conf/pam.d/checkup-sasl

# SASL services: slapd's SASL options, saslauthd's defaults file.
ckexamplesasldir = $(ckexampledir)/sasl
dist_ckexamplesasl_DATA = conf/sasl/slapd.conf conf/sasl/saslauthd

ckexamplenginxdir = $(ckexampledir)/nginx
dist_ckexamplenginx_DATA = conf/nginx/checkup.conf

ckexamplesystemddir = $(ckexampledir)/systemd
dist_ckexamplesystemd_DATA = conf/systemd/checkupd.service conf/systemd/checkup-sweep.service \
	conf/systemd/checkup-sweep.timer

ckexampletmpfilesdir = $(ckexampledir)/tmpfiles.d
dist_ckexampletmpfiles_DATA = conf/tmpfiles.d/checkup.conf

ckexamplesysusersdir = $(ckexampledir)/sysusers.d
dist_ckexamplesysusers_DATA = conf/sysusers.d/checkup.conf

ckexampleredisdir = $(ckexampledir)/redis
dist_ckexampleredis_DATA = conf/redis/redis.conf conf/redis/checkup-auth.conf \
	conf/redis/cluster.conf \
	conf/redis/sentinel.conf

ckexamplemonitoringdir = $(ckexampledir)/monitoring
dist_ckexamplemonitoring_DATA = conf/monitoring/checkup-alerts.yml \
	conf/monitoring/checkup-alerts.test.yml conf/monitoring/checkup-dashboard.json

ckexampledockerdir = $(ckexampledir)/docker
dist_ckexampledocker_DATA = conf/docker/Dockerfile conf/docker/checkup.conf

ckexamplek8sdir = $(ckexampledir)/k8s
dist_ckexamplek8s_DATA = conf/k8s/00-namespace.yaml conf/k8s/10-secrets.yaml \
	conf/k8s/20-redis.yaml conf/k8s/30-checkupd.yaml conf/k8s/40-networkpolicy.yaml

EXTRA_DIST += docs/checkup.conf.5 conf/conf.mk

ck_conf_dest = $(DESTDIR)$(sysconfdir)/checkup/checkup.conf

# The sample configuration, unless one is there already. Also drops the
# libtool archives that libtool installs beside pam_checkup.so and
# libcheckup_sasl.so: PAM and libsasl2 load the .so, and a stray .la in
# the system's module directories is clutter that packaging tools flag.
install-data-hook:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/checkup'
	@if test -e '$(ck_conf_dest)'; then \
	  echo "  keeping $(sysconfdir)/checkup/checkup.conf (a new sample is in $(ckexampledir))"; \
	else \
	  echo " $(INSTALL_DATA) conf/checkup.conf '$(ck_conf_dest)'"; \
	  $(INSTALL_DATA) '$(srcdir)/conf/checkup.conf' '$(ck_conf_dest)'; \
	fi
	rm -f '$(DESTDIR)$(pammoddir)/pam_checkup.la'
	test -z '$(sasl2plugindir)' || rm -f '$(DESTDIR)$(sasl2plugindir)/libcheckup_sasl.la'

# Removes the sample only while nobody has changed it. libtool cannot
# uninstall the modules without their .la, so the .so files go here.
uninstall-hook:
	@if test -e '$(ck_conf_dest)' && ! cmp -s '$(srcdir)/conf/checkup.conf' '$(ck_conf_dest)'; then \
	  echo "  keeping $(sysconfdir)/checkup/checkup.conf: it was edited"; \
	else \
	  rm -f '$(ck_conf_dest)'; \
	  rmdir '$(DESTDIR)$(sysconfdir)/checkup' 2>/dev/null || :; \
	fi
	rm -f '$(DESTDIR)$(pammoddir)/pam_checkup.so'
	test -z '$(sasl2plugindir)' || rm -f '$(DESTDIR)$(sasl2plugindir)/libcheckup_sasl.so'
