#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# ID token benchmark (not part of make check). From the build directory:
#     sh ../bench/oidc.sh [seconds]
# Prints per-round figures and ends with
#   RESULT idtoken_validations_per_s=<N> idtoken_vs_crypto=<ratio>
# where the ratio divides JWE+JWS validations/s by bare OpenSSL ECDH P-256
# derive + ECDSA P-256 verify pairs/s measured in the same run, in small
# alternating batches. Rates are per core: thread CPU time, so that a busy
# machine does not skew one side.
set -eu
top_builddir=${top_builddir:-$(pwd)}
make -C "$top_builddir" bench/oidc >/dev/null
exec "$top_builddir/bench/oidc" "${1:-3}"
