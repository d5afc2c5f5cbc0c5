#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# [anomaly] bind = enforce through pam_checkup: a token use refused as
# coming from elsewhere leaves the session's idle clock (last activity)
# where it was; an allowed use moves it. The clock has one-second steps,
# so each use waits two seconds after the one before.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/pam_env.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/ck-bindtouch.XXXXXX") || exit 99
trap 'rm -rf "$d"' EXIT
ck=$top_builddir/checkup
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$d/drive"; }

ck_bind_setup "$d" "bind touch pw 1" || exit 99
drive() { ck_pam_drive "$d" auser "$@"; }   # drive RHOST OPS... (stdin: the secret)
# The session's last activity as "sessions show" prints it (no secret in it).
last_activity() {
    "$ck" -c "$d/checkup.conf" sessions show "$key" --user a@example.org |
        sed -n 's/^last activity: *\([^ ]*\).*/\1/p'
}

drive 203.0.113.5 -k "$d/tok" auth acct open < "$d/pw" && [ -s "$d/tok" ] || {
    cat "$d/drive"; exit 99; }
key=$("$ck" -c "$d/checkup.conf" sessions list --user a@example.org | awk 'NR == 2 { print $1 }')
t0=$(last_activity)
[ -n "$key" ] && [ -n "$t0" ] || exit 99
echo "# last activity after the login: $t0"

sleep 2
if drive 198.51.100.1 auth acct < "$d/tok"; then not_ok "the token from another network is refused"
else ok "the token from another network is refused"; fi
t1=$(last_activity)
if [ "$t1" = "$t0" ]; then ok "the refused use left last activity at $t0"
else n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the refused use moved last activity $t0 -> $t1"; fi

sleep 2
if drive 203.0.113.99 auth acct < "$d/tok"; then ok "the token from the same /24 is accepted"
else not_ok "the token from the same /24 is accepted"; fi
t2=$(last_activity)
if [ -n "$t2" ] && [ "$t2" != "$t0" ]; then ok "the allowed use moved last activity ($t0 -> $t2)"
else n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the allowed use did not move last activity ($t2)"; fi

# bind = audit keeps the one round trip: the use is let through and touches.
sed -i 's/^bind = enforce$/bind = audit/' "$d/checkup.conf"
sleep 2
if drive 198.51.100.2 auth acct < "$d/tok"; then ok "bind = audit lets another network through"
else not_ok "bind = audit lets another network through"; fi
t3=$(last_activity)
if [ -n "$t3" ] && [ "$t3" != "$t2" ]; then ok "and that use moved last activity ($t2 -> $t3)"
else n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the audited use did not move last activity ($t3)"; fi

echo "1..$n"
[ "$fails" -eq 0 ]
