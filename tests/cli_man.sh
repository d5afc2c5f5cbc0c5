#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkup(1) renders without a warning from man or groff.
: "${top_srcdir:?run through make check}"
page=$top_srcdir/docs/checkup.1
out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null)
if [ -n "$out" ]; then
    echo "not ok - man warns about $page:"
    printf '%s\n' "$out"
    exit 1
fi
text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null)
for word in "user add" "sessions revoke-user" "metrics" "keys rotate" "config check" \
    "sweep" "login" "EXIT STATUS" "FILES" "EXAMPLES"; do
    if ! printf '%s\n' "$text" | grep -qF -- "$word"; then
        echo "not ok - the rendered page lacks '$word'"
        exit 1
    fi
done
echo "ok - $page renders without warnings and covers every command"
