#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# One good and one refused OAUTHBEARER exchange through the real libsasl2
# (client and server mechanisms of the plugin in one process, tests/
# sasl_drive): under valgrind in the plain build, under ASan/UBSan as it
# is in the sanitizer build (valgrind cannot run ASan binaries).
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/sasl_env.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/ck-saslvg-XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
cks_setup "$d" 600 3600
cks_mint "$d" alice@example.org > "$d/tok"

drive() {
    if [ -n "${CK_SANITIZERS:-}" ]; then
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1" \
            "$top_builddir/tests/sasl_drive" "$@"
    else
        "$top_builddir/libtool" --mode=execute valgrind -q --leak-check=full --error-exitcode=99 \
            --errors-for-leak-kinds=definite,indirect,possible \
            --show-leak-kinds=definite,indirect,possible \
            "$top_builddir/tests/sasl_drive" "$@"
    fi
}

if [ -n "${CK_SANITIZERS:-}" ]; then
    echo "sanitizer build: running the exchanges under ASan/UBSan instead of valgrind"
else
    command -v valgrind >/dev/null || { echo "valgrind is required (scripts/install-deps.sh)"; exit 1; }
    echo "plain build: running the exchanges under valgrind"
fi

echo "== a good exchange"
drive pair "$CKS_PLUGIN_DIR" "$d/checkup.conf" "$d/tok" alice > "$d/out" 2>&1 || {
    grep -v '^start\|^user\|^client' "$d/out"; echo "FAIL: the good exchange"; exit 1; }
grep -q '^user=alice$' "$d/out" || { echo "FAIL: not authenticated as alice"; exit 1; }
echo "== a refused exchange (error challenge, %x01, failure)"
set +e
drive pair "$CKS_PLUGIN_DIR" "$d/checkup.conf" "$d/tok" bob > "$d/out" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { grep -v '^challenge' "$d/out"; echo "FAIL: exit $rc, want 1"; exit 1; }
grep -q '^step=authorization failure$' "$d/out" || { echo "FAIL: not refused as expected"; exit 1; }
echo "PASS: no error and no leak"
