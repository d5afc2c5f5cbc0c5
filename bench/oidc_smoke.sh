#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make check: bench/oidc runs briefly and prints a well-formed RESULT line.
set -eu
: "${top_builddir:?}"
out=$("$top_builddir/bench/oidc" 0.3)
echo "$out"
echo "$out" | tail -n 1 |
    grep -Eq '^RESULT idtoken_validations_per_s=[1-9][0-9]* idtoken_vs_crypto=[0-9]+\.[0-9]+$' ||
    { echo "FAIL: no RESULT line"; exit 1; }
