#!/bin/sh
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
  nginx wrk chromium jq curl man-db groff-base"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi

# checkupd's browser test drives Chromium with playwright-core (npm, pinned in
# tests/browser/package-lock.json). A Node that brings its own npm (e.g. a
# vendor build) must not be replaced by Debian's nodejs/npm pair.
if ! command -v npm >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends nodejs npm
fi
