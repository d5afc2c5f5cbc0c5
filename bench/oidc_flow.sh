#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# OIDC login benchmark, protocol half (not part of make check). Run from the
# build directory:
#     sh ../bench/oidc_flow.sh [LOGINS]        (default 1000)
# Starts tests/idp/mockop.mjs on a free loopback port and runs LOGINS full
# code flows (auth request, the provider's redirect, callback with code
# exchange and ID token verification) through tests/oidc_flow_drive with an
# LMDB store in a temp dir, then the same again from a second process that
# shares the store (its cache is warm). Prints the login rate and, as the
# last line, RESULT jwks_fetches_per_1000_logins=<JWKS fetches of both
# runs per 1000 logins> (target <= 1 without key rotation).
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
n=${1:-1000}
make -C "$top_builddir" tests/oidc_flow_drive >/dev/null
drive="$top_builddir/tests/oidc_flow_drive"

. "$top_srcdir/tests/idp/idp.sh"
trap idp_stop_all EXIT
trap 'exit 1' INT TERM
idp_dir
CK_MOCKOP_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CK_MOCKOP_SECRET
port=$(idp_start mockop mockop.mjs)
mkdir -p "$CK_IDP_TMP/store"
cat >"$CK_IDP_TMP/checkup.conf" <<CONF
[store]
url = lmdb:$CK_IDP_TMP/store
[provider mock]
issuer = http://127.0.0.1:$port
client_id = mock-client
client_secret = $CK_MOCKOP_SECRET
redirect_uri = https://rp.example/cb
CONF

fetches=0
logins=0
for run in first second; do
    t0=$(date +%s.%N)
    out=$("$drive" "$CK_IDP_TMP/checkup.conf" mock logins "$n")
    t1=$(date +%s.%N)
    echo "$run process: $(echo "$out" | head -n 1)"
    echo "$run process: $(echo "$t0 $t1 $n" | awk '{ printf "%.0f logins/s", $3 / ($2 - $1) }')"
    f=$(echo "$out" | sed -n 's/.* jwks_fetches=\([0-9]*\).*/\1/p')
    fetches=$((fetches + f))
    logins=$((logins + n))
done
echo "$fetches $logins" | awk '{ printf "RESULT jwks_fetches_per_1000_logins=%.2f\n", 1000 * $1 / $2 }'
