#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Sets up a fresh Debian bookworm machine (as root) and runs every test:
# a -Werror build with make check, the Debian packages (make check-deb:
# built, linted, installed, logged in through, purged), make lint
# (clang-tidy, cppcheck, the style check), the clang static analyzer over the whole build (scan-build),
# make check again under AddressSanitizer and UndefinedBehaviorSanitizer, a
# short libFuzzer pass over every fuzz target (clang), then make distcheck.
# Safe to run again: builds go to build/ and are redone.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

./scripts/install-deps.sh

step() { printf '\n==== %s ====\n' "$*"; }

step "autoreconf"
autoreconf -fi

step "build (-Wall -Wextra -Werror) and make check"
rm -rf build/plain && mkdir -p build/plain
(cd build/plain && "$top/configure" --enable-werror --quiet &&
    make -j"$jobs" && make -j"$jobs" check) || {
    find build/plain -name '*.log' -path '*tests*' -exec sh -c 'tail -n 60 "$1"' _ {} \; ; exit 1; }

step "Debian packages: build, lintian, install, pam-auth-update, pamtester, checkupd, purge"
# tests/deb_packages.sh: installs the packages on this machine and purges
# them again; /etc/pam.d and the user database are only changed on copies
# in a private mount namespace.
(cd build/plain && make check-deb)

step "make lint: clang-tidy, cppcheck and the style check at zero findings"
(cd build/plain && make lint)

step "scan-build: the clang static analyzer over the product and the tests"
# --status-bugs: any report fails the run; the HTML reports stay in
# build/scan/reports for reading.
rm -rf build/scan && mkdir -p build/scan
(cd build/scan && scan-build "$top/configure" --quiet \
        CPPFLAGS="-include $top/tests/lib/analyzer.h" &&
    scan-build --status-bugs -o "$top/build/scan/reports" \
        make -j"$jobs" check TESTS=) || {
    echo "scan-build reports: build/scan/reports"; exit 1; }

step "make check under AddressSanitizer + UndefinedBehaviorSanitizer"
rm -rf build/asan && mkdir -p build/asan
(cd build/asan && "$top/configure" --enable-werror --enable-sanitizers --quiet &&
    make -j"$jobs" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 make -j"$jobs" check) || {
    find build/asan -name '*.log' -path '*tests*' -exec sh -c 'tail -n 60 "$1"' _ {} \; ; exit 1; }

step "libFuzzer: every fuzz target for ${CK_FUZZ_SMOKE_SECONDS:-10}s (clang, ASan, UBSan)"
rm -rf build/fuzz && mkdir -p build/fuzz
(cd build/fuzz && "$top/configure" CC=clang --enable-fuzzing --quiet &&
    make -j"$jobs" check TESTS=tests/fuzz_smoke.sh check_PROGRAMS=tests/fuzz/ckfuzz) || {
    tail -n 80 build/fuzz/tests/fuzz_smoke.log 2>/dev/null; exit 1; }

step "make distcheck"
(cd build/plain && make -j"$jobs" distcheck)

step "all tests passed"
