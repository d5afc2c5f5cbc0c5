#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A full authenticate / acct_mgmt / open_session / close_session cycle
# (password, then token) through the real libpam:
# under valgrind in the plain build, under ASan/UBSan as it is in the
# sanitizer build (valgrind cannot run ASan binaries; ASan checks leaks).
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/pam_env.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/ck-cycle-XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
ck_pam_setup "$d" "$top_builddir" 60 3600
printf '%s\n' 'a long test password' |
    "$top_builddir/checkup" -c "$d/checkup.conf" user add v@example.org --role doctor \
        --local-user vuser --password-stdin >/dev/null
ck_pam_wrap "$d"

drive() {
    if [ -n "${CK_SANITIZERS:-}" ]; then
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=1" \
        LD_PRELOAD=libpam_wrapper.so "$top_builddir/tests/pam_drive" "$@"
    else
        LD_PRELOAD=libpam_wrapper.so valgrind -q --leak-check=full --error-exitcode=1 \
            --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible \
            "$top_builddir/tests/pam_drive" "$@"
    fi
}

if [ -n "${CK_SANITIZERS:-}" ]; then
    echo "sanitizer build: running the cycle under ASan/UBSan instead of valgrind"
else
    command -v valgrind >/dev/null || { echo "valgrind is required (scripts/install-deps.sh)"; exit 1; }
    echo "plain build: running the cycle under valgrind"
fi

echo "== password cycle"
echo 'a long test password' |
    drive -s checkup -u vuser -r 192.0.2.1 -t pts/1 -k "$d/token" auth acct open close
echo "== token cycle on a fresh session"
echo 'a long test password' | drive -s checkup -u vuser -k "$d/token" auth acct open
drive -s checkup -u vuser auth acct open close < "$d/token"
# The fork case runs in test_pam, not under valgrind: a forked child must
# not call into the parent's LMDB environment, so the store lets go of it
# without freeing LMDB's memory, which valgrind (rightly) reports as lost.
echo "== a refused login"
if echo 'wrong' | drive -s checkup -u vuser auth; then
    echo "FAIL: a wrong password was accepted"; exit 1
fi
echo "PASS: no error and no leak"
