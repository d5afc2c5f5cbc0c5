#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Session binding through pam_checkup: with [anomaly] bind = enforce a
# token used from another network is refused and audited; from the same
# /24 it is accepted; with bind = audit it is accepted and audited. And
# the per-user cap through pam_checkup: the oldest session ends, audited.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/pam_env.sh"

. "$top_srcdir/tests/lib/audit.sh"
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-bind.XXXXXX") || exit 99
trap 'ck_keep_audit "$d"; rm -rf "$d"' EXIT
ck=$top_builddir/checkup
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$d/drive"; }

ck_bind_setup "$d" "bind pw 1" || exit 99
drive() { ck_pam_drive "$d" auser "$@"; }   # drive RHOST OPS... (stdin: the secret)

if drive 203.0.113.5 -k "$d/tok" auth acct open < "$d/pw" && [ -s "$d/tok" ]; then
    ok "password login from 203.0.113.5"
else
    not_ok "password login from 203.0.113.5"
fi
if drive 203.0.113.99 auth acct < "$d/tok"; then ok "the token from the same /24"
else not_ok "the token from the same /24"; fi
if drive 198.51.100.1 auth acct < "$d/tok"; then not_ok "the token from another network is refused"
else ok "the token from another network is refused"; fi
if grep -qF '"event":"anomaly","user":"a@example.org","service":"checkup","rhost":"198.51.100.1"' "$d/audit.jsonl" &&
    grep -F '"rhost":"198.51.100.1"' "$d/audit.jsonl" | grep -qF '"result":"failure","reason":"address_changed"'; then
    ok "the refusal is audited as an anomaly"
else
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the refusal is audited"; sed 's/^/#   /' "$d/audit.jsonl"
fi
if grep -qF '"rhost":"203.0.113.99"' "$d/audit.jsonl" &&
    grep -F '"rhost":"203.0.113.99"' "$d/audit.jsonl" | grep -qF '"event":"anomaly"'; then
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - no anomaly from the same network"
else
    ok "no anomaly from the same network"
fi
sed -i 's/^bind = enforce$/bind = audit/' "$d/checkup.conf"
if drive 198.51.100.2 auth acct < "$d/tok"; then ok "bind = audit lets it through"
else not_ok "bind = audit lets it through"; fi
if grep -F '"rhost":"198.51.100.2"' "$d/audit.jsonl" | grep -qF '"event":"anomaly"'; then
    ok "and audits it"
else
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - and audits it"
fi
"$ck" -c "$d/checkup.conf" metrics --prometheus > "$d/drive" 2>&1
if grep -qx 'checkup_anomalies_total 2' "$d/drive"; then ok "anomalies counted"
else not_ok "anomalies counted"; fi
if grep -qF "$(cat "$d/tok")" "$d/audit.jsonl"; then
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - a token in the audit file"
else
    ok "no token in the audit file"
fi
# The per-user cap: a second login ends the first session, audited.
printf '\n[session]\nmax_per_user = 1\n' >> "$d/checkup.conf"
"$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null
drive 203.0.113.5 auth acct open < "$d/pw" && drive 203.0.113.5 auth acct open < "$d/pw" &&
    ok "two logins under a cap of one" || not_ok "two logins under a cap of one"
"$ck" -c "$d/checkup.conf" sessions list --user a@example.org > "$d/drive" 2>&1
if grep -qx '1 session' "$d/drive"; then ok "one session left"; else not_ok "one session left"; fi
if grep -qF '"event":"session_evicted","user":"a@example.org"' "$d/audit.jsonl"; then
    ok "the eviction is audited"
else
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the eviction is audited"
fi
echo "1..$n"
[ "$fails" = 0 ]
