#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Installs what building, testing and running the demo need on Debian bookworm.
# Safe to run more than once: apt-get skips what is already installed.
set -eu
export DEBIAN_FRONTEND=noninteractive

PKGS="build-essential autoconf automake libtool pkg-config
  libssl-dev openssl libcurl4-openssl-dev libcjose-dev libjansson-dev
  libhiredis-dev liblmdb-dev lmdb-utils libmicrohttpd-dev libinih-dev
  libqrencode-dev libpam0g-dev libcrypt-dev
  libcmocka-dev libpam-wrapper libpamtest0-dev pamtester
  redis-server redis-sentinel redis-tools valgrind clang
  clang-tidy cppcheck clang-tools
  man-db groff-base"

# The man page and deployment sample tests: man-db, groff-base and
# bsdextrautils (col) render the pages (tests/man.sh); systemd
# (systemd-analyze), python3-yaml, nginx and curl check the unit, the YAML
# files and the nginx sample (tests/ops_samples.sh).
PKGS="$PKGS man-db groff-base bsdextrautils systemd python3-yaml nginx curl"

# The monitoring samples (tests/monitoring.sh): promtool checks and unit
# tests the alert rules.
PKGS="$PKGS prometheus"

# checkupd's tests and bench: nginx in front, Chromium for the browser
# test, wrk for the load, jq to read JSON answers.
PKGS="$PKGS wrk chromium jq"

# SASL services: slapd and ldap-utils (ldapwhoami), sasl2-bin (saslauthd,
# testsaslauthd) and libsasl2-modules (PLAIN, LOGIN) for
# tests/sasl_saslauthd.sh and tests/sasl_slapd.sh, which run their own.
PKGS="$PKGS slapd ldap-utils sasl2-bin libsasl2-modules"

# The Debian packages test (tests/deb_packages.sh, make check-deb):
# dpkg-buildpackage, debhelper, lintian and fakeroot build and check them;
# pamtester (above), pam-auth-update (libpam-runtime), unshare and setpriv
# (util-linux) and debconf-communicate (debconf) come with the base system.
PKGS="$PKGS debhelper lintian dpkg-dev fakeroot"

# The SASL plugin (sasl/): libsasl2-dev builds it and bench/sasl;
# sasl2-bin's sample server and client (above) drive it
# (tests/sasl_sample.sh).
PKGS="$PKGS libsasl2-dev"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
# A fresh slapd starts at once (its postinst sets up dc=nodomain on port
# 389 of every interface) and at every boot; the tests start their own,
# so a slapd installed just now is stopped and disabled again. One that
# was installed before is left alone. saslauthd needs START=yes in
# /etc/default/saslauthd and stays off. Under a policy-rc.d that forbids
# starts (containers), invoke-rc.d answers 101: nothing is running.
case " $missing " in
*" slapd "*)
  invoke-rc.d slapd stop || [ $? -eq 101 ]
  update-rc.d slapd disable > /dev/null ;;
esac

# Identity providers for the OIDC integration tests (tests/idp/): node and
# npm (the machine image brings Node 20; else Debian's nodejs and npm), and
# the npm packages pinned by tests/idp/package-lock.json.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends nodejs npm
fi
# The same for the browser test (tests/browser: playwright-core). The tests
# never run npm themselves: they refuse, naming this script, when these are
# missing.
top="$(cd "$(dirname "$0")/.." && pwd)"
for dir in "$top/tests/idp" "$top/tests/browser"; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --prefer-offline
  fi
done
