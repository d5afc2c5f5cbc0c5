#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# [audit] on_failure: what logins do while the audit file cannot be
# written. The file is put where no one, root included, can create it
# (under a regular file), then made writable again.
#   deny: the PAM module (PAM_AUTHINFO_UNAVAIL), "checkup login" and
#         checkupd's password login refuse, before any password is checked;
#   log:  they go on; either way the breakage is said once per process in
#         the log and every lost line is counted in /metrics.
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/web_common.sh"

d=$CK_TEST_TMP/deny
trap 'web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM
ck=$top_builddir/checkup
pw='deny test pw 1'

mkdir -p "$d"
ck_pam_setup "$d" "$top_builddir" 600 3600
printf '%s\n' "$pw" | "$ck" -c "$d/checkup.conf" user add a@example.org --role doctor \
    --local-user auser --password-stdin > /dev/null
: > "$d/plain-file"
# set_audit FILE MODE: the [audit] section of the configuration.
set_audit() {
    sed -i -e '/^file = .*audit/d' -e '/^on_failure/d' "$d/checkup.conf"
    sed -i "s|^\[audit\]|[audit]\nfile = $1\non_failure = $2|" "$d/checkup.conf"
}
printf '%s\n' "[daemon]" "listen = 127.0.0.1:0" "public_url = $WEB_ORIGIN" >> "$d/checkup.conf"
ck_pam_wrap "$d"
PAM_WRAPPER_DEBUGLEVEL=2    # pam_syslog lines on stderr as "SYSLOG(n): ..."
export PAM_WRAPPER_DEBUGLEVEL
# The password from a file: a refused login may not read it (no broken pipe).
printf '%s\n' "$pw" > "$d/pw"
pam() {     # pam OUT: a password login of auser through the real libpam
    LD_PRELOAD=libpam_wrapper.so \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$top_builddir/tests/pam_drive" -s checkup -u auser -r 203.0.113.9 auth \
        < "$d/pw" > "$1" 2>&1
}
cli() {     # cli OUT: "checkup login"
    "$ck" -c "$d/checkup.conf" login a@example.org --password-stdin --rhost 203.0.113.9 \
        < "$d/pw" > "$1" 2>&1
}
web() {     # web: the status of a password login to checkupd
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Origin: $WEB_ORIGIN" \
        --data-urlencode email=a@example.org --data-urlencode "password=$pw" \
        "http://127.0.0.1:$WEB_PORT/login"
}
count() { grep -c -- "$1" "$2" || true; }

broken=$d/plain-file/audit.jsonl

# ---- a bad value is a configuration error
set_audit "$d/audit.jsonl" sometimes
set +e
"$ck" -c "$d/checkup.conf" config check > "$d/out" 2>&1
rc=$?
set -e
check "on_failure = sometimes: config check fails" 1 "$rc"
check_grep "on_failure = sometimes: says why" "'sometimes' is not log or deny" "$d/out"

# ---- deny, file broken: every front end refuses
set_audit "$broken" deny
set +e
pam "$d/pam.out"; rc=$?
set -e
check "deny: PAM login refused" 1 "$rc"
check_grep "deny: PAM_AUTHINFO_UNAVAIL" "auth  -> Authentication service cannot retrieve" "$d/pam.out"
check_grep "deny: the user is told" "Login refused: the audit trail is unavailable." "$d/pam.out"
check_grep "deny: the refusal is in syslog" "reason=audit_unavailable" "$d/pam.out"
check_grep "deny: the refusal names the user" "event=login_failure user=auser" "$d/pam.out"
check "deny: PAM says the broken file once" 1 "$(count 'audit file: ' "$d/pam.out")"
check_grep "deny: PAM says why" "Not a directory" "$d/pam.out"
check "deny: no password checked by PAM" 0 "$(count 'event=login_success' "$d/pam.out")"
set +e
cli "$d/cli.out"; rc=$?
set -e
check "deny: checkup login refused" 1 "$rc"
check_grep "deny: checkup login says why" "the audit file cannot be written" "$d/cli.out"
check "deny: no session from checkup login" 0 "$(count 'logged in as' "$d/cli.out")"
web_start deny "$d/checkup.conf" -v
check "deny: checkupd login refused" 503 "$(web)"
check "deny: checkupd login refused again" 503 "$(web)"
curl -s -o "$d/metrics" "http://127.0.0.1:$WEB_PORT/metrics"
web_stop deny
log=$CK_TEST_TMP/deny.log
check "deny: checkupd audits each refusal" 2 "$(count 'reason=audit_unavailable' "$log")"
check "deny: checkupd says the broken file once" 1 "$(count 'audit file: ' "$log")"
check "deny: no session from checkupd" 0 "$(count 'event=login_success' "$log")"
n=$(sed -n 's/^checkup_audit_write_failures_total \([0-9]*\)$/\1/p' "$d/metrics")
check "deny: /metrics counts the lost lines (PAM, CLI, checkupd x2)" 4 "${n:-none}"
check_grep "deny: /metrics describes the counter" "# TYPE checkup_audit_write_failures_total counter" "$d/metrics"
"$ck" -c "$d/checkup.conf" metrics > "$d/cm.out"
check_grep "deny: checkup metrics shows it too" "audit failures:   4" "$d/cm.out"

# ---- log (the default), file broken: logins go on, still counted
set_audit "$broken" log
pam "$d/pam2.out" && rc=0 || rc=$?
check "log: PAM login goes on" 0 "$rc"
check "log: PAM says the broken file once" 1 "$(count 'audit file: ' "$d/pam2.out")"
cli "$d/cli2.out" && rc=0 || rc=$?
check "log: checkup login goes on" 0 "$rc"
check_grep "log: checkup login tells the admin" "could not be written" "$d/cli2.out"
web_start log "$d/checkup.conf"
check "log: checkupd login goes on" 303 "$(web)"
curl -s -o "$d/metrics" "http://127.0.0.1:$WEB_PORT/metrics"
web_stop log
n=$(sed -n 's/^checkup_audit_write_failures_total \([0-9]*\)$/\1/p' "$d/metrics")
[ "${n:-0}" -gt 4 ] && n=more || n="${n:-none}"
check "log: the counter goes on" more "$n"

# ---- deny, file writable: logins go on and are written
set_audit "$d/audit.jsonl" deny
pam "$d/pam3.out" && rc=0 || rc=$?
check "deny, writable: PAM login" 0 "$rc"
check "deny, writable: nothing said about the file" 0 "$(count 'audit file: ' "$d/pam3.out")"
cli "$d/cli3.out" && rc=0 || rc=$?
check "deny, writable: checkup login" 0 "$rc"
web_start ok "$d/checkup.conf"
check "deny, writable: checkupd login" 303 "$(web)"
web_stop ok
check "deny, writable: three logins in the file, each once" 3 \
    "$(count '"event":"login_success"' "$d/audit.jsonl")"
check "deny, writable: checkupd's session written once" 1 \
    "$(grep '"service":"checkupd"' "$d/audit.jsonl" | count '"event":"session_open"' -)"
web_summary
