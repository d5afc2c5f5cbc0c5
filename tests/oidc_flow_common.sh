# SPDX-License-Identifier: BSD-3-Clause
# Shared by the full-flow tests against the npm identity providers
# (oidc_flow_provider.sh, oidc_flow_mockpass.sh), sourced after set -u:
# the provider helpers, a temp dir $T with the RP's ES256 keys sig.pem and
# enc.pem (0600), the TAP counters and expect.
. "$top_srcdir/tests/idp/idp.sh"
trap idp_stop_all EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
T=$CK_IDP_TMP
drive="$top_builddir/tests/oidc_flow_drive"
redirect=https://rp.example/cb
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# expect FILE LINE...: every line is in FILE
expect() {
    f=$1
    shift
    for line in "$@"; do
        grep -qx -- "$line" "$f" || { echo "# missing '$line' in:"; sed 's/^/#   /' "$f"; return 1; }
    done
}

for k in sig enc; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$k.pem" 2>/dev/null &&
        chmod 600 "$T/$k.pem" || exit 1
done
