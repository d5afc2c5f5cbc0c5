#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# No secret in any log: a representative workload with secrets made for
# this run, then every log it produced is searched for every one of them.
#
# Workload: users added with the CLI (passwords on stdin), a key rotation,
# a password change, CLI logins, metrics, "config check",
# PAM logins through the real libpam (pam_wrapper) by password and by token,
# with and without the module's "debug" argument, wrong passwords up to a
# lockout, an unknown user, a forged and an expired-key token, session
# listings; checkupd (password logins right and wrong, /session, /metrics,
# logout); secrets typed as the user name (a token, and a password as
# password policies make them: with a space or a symbol) at the PAM
# prompt, to checkup login and to checkupd; then the same logins against a
# redis-server that wants a password, and once with a wrong Redis password.
# Logs searched: the module's syslog lines (captured by pam_wrapper at its
# debug level), stdout and stderr of every command, checkupd's log (-v),
# the JSON audit file, the redis-server log, and the stores themselves
# (LMDB files, an RDB dump): a store holds hashes of session ids, never a
# token or an id.
# (A password of letters and digits alone has the shape of an account
# name and would be logged as one: checkup.conf(5), [audit].)
# Secrets searched: every password typed (right or wrong), the Redis
# password, every token and each of its payload and signature parts, every
# session id, every key of the token key ring.
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/ck-secrets-XXXXXX")
cleanup() { web_stop_all; ck_keep_audit "$d"; redis_stop_all; [ -n "${KEEP:-}" ] || rm -rf "$d"; }
trap cleanup EXIT INT TERM
ck=$top_builddir/checkup
L=$d/logs
mkdir -p "$L" "$d/secrets"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A fresh random secret (letters and digits, so any tool passes it whole).
rnd() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-"${1:-20}"; }
# remember KIND VALUE: a secret to search for (files, so no value is echoed).
n=0
remember() { n=$((n + 1)); printf '%s' "$2" > "$d/secrets/$n.$1"; }

pw_a=$(rnd) pw_b=$(rnd) pw_wrong=$(rnd) pw_near="${pw_a}x" pw_unknown=$(rnd) redis_pw=$(rnd 32)
for p in "$pw_a" "$pw_b" "$pw_wrong" "$pw_near" "$pw_unknown"; do remember password "$p"; done
remember redis_password "$redis_pw"

ck_pam_setup "$d" "$top_builddir" 600 3600
printf '%s\n' "[daemon]" "listen = 127.0.0.1:0" "public_url = $WEB_ORIGIN" >> "$d/checkup.conf"
m=$top_builddir/.libs/pam_checkup.so
printf '%s\n' "auth required $m config=$d/checkup.conf debug" \
    "account required $m config=$d/checkup.conf debug" \
    "session required $m config=$d/checkup.conf debug" > "$d/services/checkup-debug"
ck_pam_wrap "$d"
PAM_WRAPPER_DEBUGLEVEL=2    # pam_syslog lines go to stderr as "SYSLOG(n): ..."
export PAM_WRAPPER_DEBUGLEVEL

# run NAME COMMAND...: stdout and stderr to NAME.log (names are unique); stdin passed on.
run() {
    _name=$1
    shift
    set +e
    "$@" > "$L/$_name.log" 2>&1
    _rc=$?
    set -e
    return $_rc
}
drive() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        LD_PRELOAD=libpam_wrapper.so "$top_builddir/tests/pam_drive" "$@"
}
# token_parts FILE: remembers a token, its payload and signature, and its session id.
token_parts() {
    [ -s "$1" ] || { fail "no token in $1"; return 0; }
    _t=$(cat "$1")
    remember token "$_t"
    _p=$(echo "$_t" | cut -d. -f2)
    remember token_payload "$_p"
    remember token_signature "$(echo "$_t" | cut -d. -f3)"
    while [ $((${#_p} % 4)) -ne 0 ]; do _p="$_p="; done
    _sid=$(echo "$_p" | basenc --base64url -d | sed -n 's/.*"sid":"\([^"]*\)".*/\1/p')
    [ ${#_sid} -ge 40 ] || { fail "no session id in a token"; return 0; }
    remember session_id "$_sid"
}

workload() {    # workload SUFFIX: logins, failures and listings against the configured store
    s=$1
    echo "$pw_a" | run "login-password$s" drive -s checkup -u auser -r 203.0.113.5 -t pts/3 \
        -k "$d/tok1$s" auth acct open || fail "password login ($s)"
    token_parts "$d/tok1$s"
    run "login-token$s" drive -s checkup -u auser auth acct open close < "$d/tok1$s" ||
        fail "token login ($s)"
    echo "$pw_b" | run "login-debug$s" drive -s checkup-debug -u b@example.org \
        -k "$d/tok2$s" auth acct open || fail "password login with debug ($s)"
    token_parts "$d/tok2$s"
    run "login-token-debug$s" drive -s checkup-debug -u b@example.org auth acct open close \
        < "$d/tok2$s" || fail "token login with debug ($s)"
    # A forged token: the first one with the last character of its signature changed.
    _t=$(cat "$d/tok1$s")
    case $_t in *A) _c=E ;; *) _c=A ;; esac
    printf '%s%s\n' "${_t%?}" "$_c" > "$d/forged$s"
    run "login-forged$s" drive -s checkup-debug -u auser auth < "$d/forged$s" &&
        fail "a forged token was accepted ($s)"
    echo "$pw_near" | run "login-near$s" drive -s checkup-debug -u auser auth &&
        fail "a wrong password was accepted ($s)"
    echo "$pw_unknown" | run "login-unknown$s" drive -s checkup-debug -u nobody@example.org auth &&
        fail "an unknown user logged in ($s)"
    for i in 1 2 3 4 5 6; do
        echo "$pw_wrong" | run "login-wrong$i$s" drive -s checkup -u b@example.org auth &&
            fail "a wrong password was accepted ($s)"
    done
    echo "$pw_b" | run "login-locked$s" drive -s checkup-debug -u b@example.org auth &&
        fail "a locked-out user logged in ($s)"
    echo "$pw_a" | run "cli-login$s" "$ck" -c "$d/checkup.conf" login a@example.org \
        --password-stdin --service cli --rhost 198.51.100.7 || fail "checkup login ($s)"
    echo "$pw_wrong" | run "cli-login-wrong$s" "$ck" -c "$d/checkup.conf" login a@example.org \
        --password-stdin && fail "checkup login with a wrong password ($s)"
    run "metrics$s" "$ck" -c "$d/checkup.conf" metrics --json || fail "metrics ($s)"
    run "config-check$s" "$ck" -c "$d/checkup.conf" config check || true
    run "sessions-list$s" "$ck" -c "$d/checkup.conf" sessions list || fail "sessions list ($s)"
    run "sessions-list-user$s" "$ck" -c "$d/checkup.conf" sessions list --user a@example.org ||
        fail "sessions list --user ($s)"
}

# ---- the embedded store
echo "$pw_a" | run user-add-a "$ck" -c "$d/checkup.conf" user add a@example.org --role doctor \
    --local-user auser --password-stdin || fail "user add a"
echo "$pw_b" | run user-add-b "$ck" -c "$d/checkup.conf" user add b@example.org --role nurse \
    --password-stdin || fail "user add b"
run keys-rotate "$ck" -c "$d/checkup.conf" keys generate || fail "keys generate"
run keys-jwks "$ck" -c "$d/checkup.conf" keys jwks || true
run user-list "$ck" -c "$d/checkup.conf" user list || fail "user list"
workload ""

# ---- checkupd, and secrets typed where the user name goes
# cookie_token FILE: the session cookie's value in curl's header dump.
cookie_token() { sed -n "s/^[Ss]et-[Cc]ookie: $WEB_COOKIE=\([^;]*\);.*/\1/p" "$1"; }
# web_post NAME EMAIL PASSWORD: a password login to checkupd; headers in $d/NAME.h.
web_post() {
    curl -s -o /dev/null -D "$d/$1.h" --max-time 10 -H "Origin: $WEB_ORIGIN" \
        --data-urlencode "email=$2" --data-urlencode "password=$3" \
        "http://127.0.0.1:$WEB_PORT/login" > /dev/null || true
}
web_workload() {    # web_workload SUFFIX
    s=$1
    web_start "ckd$s" "$d/checkup.conf" -v || { fail "checkupd did not start ($s)"; return 0; }
    web_post "web-login$s" a@example.org "$pw_a"
    cookie_token "$d/web-login$s.h" > "$d/webtok$s"
    token_parts "$d/webtok$s"
    wt=$(cat "$d/webtok$s")
    [ "$(status "http://127.0.0.1:$WEB_PORT/session" -H "Cookie: $WEB_COOKIE=$wt")" = 200 ] ||
        fail "checkupd session check ($s)"
    web_post "web-wrong$s" a@example.org "$pw_wrong"
    web_post "web-unknown$s" nobody@example.org "$pw_unknown"
    # Secrets typed as the user name.
    web_post "web-token-as-name$s" "$wt" "$pw_a"
    web_post "web-pw-as-name$s" "$pw_as_name" "$pw_a"
    [ -z "$(cookie_token "$d/web-pw-as-name$s.h")" ] || fail "a password logged in as a name ($s)"
    curl -s -o "$L/web-metrics$s.log" "http://127.0.0.1:$WEB_PORT/metrics" || true
    status "http://127.0.0.1:$WEB_PORT/logout" -X POST -H "Origin: $WEB_ORIGIN" \
        -H "Cookie: $WEB_COOKIE=$wt" > /dev/null || true
    web_stop "ckd$s"
    cp "$CK_TEST_TMP/ckd$s.log" "$L/checkupd$s.log"
    grep -q 'event=login_failure' "$L/checkupd$s.log" || fail "checkupd logged no failure ($s)"
    grep -q 'event=login_success' "$L/checkupd$s.log" || fail "checkupd logged no login ($s)"
}
names_workload() {  # names_workload SUFFIX: a token and a password at the name prompt
    s=$1
    for v in tok pw; do
        if [ $v = tok ]; then name=$(cat "$d/tok1$s"); else name=$pw_as_name; fi
        echo "$pw_a" | run "name-$v-pam$s" drive -s checkup-debug -u "$name" -r 192.0.2.7 auth &&
            fail "a secret logged in as a user name ($s)"
        echo "$pw_a" | run "name-$v-cli$s" "$ck" -c "$d/checkup.conf" login "$name" \
            --password-stdin --rhost 192.0.2.8 && fail "checkup login with a secret as name ($s)"
    done
    grep -q 'user_hash=sha256:' "$L/name-pw-pam$s.log" ||
        fail "no hashed user name in the PAM capture ($s)"
}
# A password as policies make them, with a space and symbols (see the top).
pw_as_name="$(rnd 10) #$(rnd 8)!"
remember password "$pw_as_name"
web_workload ""
names_workload ""
# A password change, then a login with the new one.
pw_new=$(rnd)
remember password "$pw_new"
echo "$pw_new" | run user-passwd "$ck" -c "$d/checkup.conf" user passwd b@example.org \
    --password-stdin || fail "user passwd"
pw_b=$pw_new
awk '/^k/ { print $2 }' "$d/token.keys" > "$d/keysecrets"
while read -r k; do remember ring_key "$k"; done < "$d/keysecrets"
rm -f "$d/keysecrets"

# ---- Redis with a password
if [ -n "${REDIS_SERVER:-}" ]; then
    port=$(redis_start secrets "requirepass $redis_pw") || { fail "cannot start redis-server"; port=; }
    if [ -n "$port" ]; then
        sed -i "s|^url = .*|url = redis://127.0.0.1:$port/0\npassword = $redis_pw|" "$d/checkup.conf"
        workload "-redis"
        web_workload "-redis"
        names_workload "-redis"
        run redis-save "$(dirname "$REDIS_SERVER")/redis-cli" -p "$port" -a "$redis_pw" \
            --no-auth-warning SAVE || true
        # The same with a wrong Redis password: errors must not show either one.
        wrong=$(rnd 32)
        remember redis_password "$wrong"
        sed -i "s|^password = .*|password = $wrong|" "$d/checkup.conf"
        echo "$pw_a" | run "login-redis-wrongpass" drive -s checkup-debug -u auser auth &&
            fail "a login succeeded with a wrong Redis password"
        grep -qi 'auth' "$L/login-redis-wrongpass.log" ||
            fail "the failed Redis AUTH left no message (is the capture working?)"
    fi
else
    fail "REDIS_SERVER is not set (scripts/install-deps.sh installs redis-server)"
fi

# ---- is the capture real? (a scan of empty logs would prove nothing)
cat "$L"/*.log > "$d/all.log"
grep -q 'SYSLOG([0-9]*): event=login_success' "$d/all.log" || fail "no syslog line captured"
grep -q 'event=login_failure' "$d/all.log" || fail "no failed login in the syslog capture"
grep -q 'user_hash=sha256:' "$d/all.log" || fail "no user name hashed in the logs"
grep -q '"user_hash":"sha256:' "$d/audit.jsonl" || fail "no user name hashed in the audit file"
grep -q '"service":"checkupd"' "$d/audit.jsonl" || fail "no checkupd line in the audit file"
[ "$(grep -c '"event"' "$d/audit.jsonl")" -ge 10 ] || fail "the JSON audit file is nearly empty"
nsec=$(ls "$d/secrets" | wc -l)
[ "$nsec" -ge 20 ] || fail "only $nsec secrets gathered"

# ---- the search
# scan FILE...: one FAIL per secret found in a file; prints the count.
scan() {
    _found=0
    for _f in "$d/secrets"/*; do
        for _g in "$@"; do
            [ -f "$_g" ] || continue
            if grep -qaF -f "$_f" "$_g"; then
                # Name the kind of secret and the file, never the secret.
                echo "FAIL: a ${_f##*.} appears in ${_g#"$d"/}" >&2
                _found=$((_found + 1))
            fi
        done
    done
    echo "$_found"
}
# The scan itself must be able to fail: a log holding one password.
printf 'x %s y\n' "$pw_unknown" > "$d/control.log"
[ "$(scan "$d/control.log" 2>/dev/null)" -eq 1 ] || fail "the scan misses a planted password"
rm -f "$d/control.log"

set -- "$L"/*.log "$d/audit.jsonl" "$d"/store/*
[ -n "${port:-}" ] && set -- "$@" "$CK_TEST_TMP/secrets/redis.log" "$CK_TEST_TMP/secrets/dump.rdb"
found=$(scan "$@")
[ "$found" -eq 0 ] || fails=$((fails + found))
echo "searched $# log and store file(s) for $nsec secrets: $found found"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
