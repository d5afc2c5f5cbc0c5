#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkup (the CLI): exit codes, file modes, and a session made through
# pam_checkup.so showing up in "checkup sessions list".
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
. "$top_srcdir/tests/lib/pam_env.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/ck-cli-XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
ck=$top_builddir/checkup
fails=0
check() {   # check WANT_STATUS DESCRIPTION COMMAND...
    want=$1 what=$2
    shift 2
    set +e
    "$@" >"$d/out" 2>&1
    got=$?
    set -e
    if [ "$got" -eq "$want" ]; then
        echo "ok: $what"
    else
        echo "FAIL: $what: exit $got, wanted $want"; sed 's/^/    /' "$d/out"; fails=$((fails + 1))
    fi
}
mode() { stat -c %a "$1"; }

ck_pam_setup "$d" "$top_builddir" 60 3600
check 0 "--help" "$ck" --help
check 2 "no command" "$ck"
check 2 "unknown command" "$ck" -c "$d/checkup.conf" frobnicate now
check 2 "user add without --role" "$ck" -c "$d/checkup.conf" user add a@example.org
check 2 "user add with a bad email" "$ck" -c "$d/checkup.conf" user add nope --role r
check 1 "missing config given with -c" "$ck" -c "$d/none.conf" keys generate
printf 'pw one\n' > "$d/pw"
check 0 "user add" sh -c "'$ck' -c '$d/checkup.conf' user add a@example.org --role doctor --clinic c1 --local-user auser --password-stdin < '$d/pw'"
[ "$(mode "$d/users")" = 600 ] && echo "ok: users file is 0600" || { echo "FAIL: users mode $(mode "$d/users")"; fails=$((fails + 1)); }
check 1 "user add twice" sh -c "'$ck' -c '$d/checkup.conf' user add A@example.org --role doctor --password-stdin < '$d/pw'"
check 1 "user add with an empty password" sh -c "printf '\n' | '$ck' -c '$d/checkup.conf' user add b@example.org --role doctor --password-stdin"
check 1 "user add, no terminal and no --password-stdin" setsid -w sh -c "'$ck' -c '$d/checkup.conf' user add c@example.org --role doctor < /dev/null"
if grep -q 'pw one' "$d/users"; then echo "FAIL: password in clear"; fails=$((fails + 1)); fi
check 0 "keys generate" "$ck" -c "$d/checkup.conf" keys generate
[ "$(mode "$d/token.keys")" = 600 ] && echo "ok: key file is 0600" || { echo "FAIL: key mode"; fails=$((fails + 1)); }
[ "$(grep -c '^k' "$d/token.keys")" = 2 ] && echo "ok: rotation keeps the old key" || { echo "FAIL: key count"; fails=$((fails + 1)); }
grep -q "$(awk '{print $2; exit}' "$d/token.keys")" "$d/out" && { echo "FAIL: secret printed"; fails=$((fails + 1)); }

ck_pam_wrap "$d"
LD_PRELOAD=libpam_wrapper.so ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$top_builddir/tests/pam_drive" -s checkup -u auser -r 203.0.113.5 -k "$d/tok" auth acct open < "$d/pw" > "$d/drive" 2>&1 ||
    { echo "FAIL: login"; cat "$d/drive"; fails=$((fails + 1)); }
check 0 "sessions list --user" "$ck" -c "$d/checkup.conf" sessions list --user a@example.org
grep -q '203.0.113.5' "$d/out" && grep -q '^1 session$' "$d/out" && echo "ok: the session is listed" ||
    { echo "FAIL: session not listed"; cat "$d/out"; fails=$((fails + 1)); }
[ -s "$d/tok" ] && grep -qF "$(cat "$d/tok")" "$d/out" && { echo "FAIL: token printed"; fails=$((fails + 1)); }
check 0 "sessions list (every user)" "$ck" -c "$d/checkup.conf" sessions list
grep -q 'a@example.org' "$d/out" && echo "ok: listed for all users" || { echo "FAIL: all-users list"; fails=$((fails + 1)); }
# A lock with unlock_time = 0: the module says an administrator must clear
# it, and "checkup lockout clear" is the command that does.
sed -i 's/^deny = 5$/deny = 2/; s/^unlock_time = 900$/unlock_time = 0/' "$d/checkup.conf"
drive() {   # drive RHOST PASSWORD-FILE: one auth through pam_drive, output in $d/drive
    LD_PRELOAD=libpam_wrapper.so ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$top_builddir/tests/pam_drive" -s checkup -u auser -r "$1" auth < "$2" > "$d/drive" 2>&1
}
printf 'wrong one\n' > "$d/bad"
drive 203.0.113.40 "$d/bad" || true
drive 203.0.113.41 "$d/bad" || true
if drive 203.0.113.42 "$d/pw"; then echo "FAIL: a locked account logged in"; fails=$((fails + 1)); fi
grep -q 'locked until an administrator unlocks it' "$d/drive" && echo "ok: the module says who unlocks" ||
    { echo "FAIL: lock message"; cat "$d/drive"; fails=$((fails + 1)); }
check 0 "lockout list" "$ck" -c "$d/checkup.conf" lockout list
grep -q '^account  a@example.org .*until cleared$' "$d/out" && echo "ok: the PAM lock is listed" ||
    { echo "FAIL: lock not listed"; cat "$d/out"; fails=$((fails + 1)); }
check 0 "lockout clear by the local account name" "$ck" -c "$d/checkup.conf" lockout clear auser
grep -q 'cleared the lockout of account a@example.org' "$d/out" && echo "ok: the lock is cleared" ||
    { echo "FAIL: clear"; cat "$d/out"; fails=$((fails + 1)); }
drive 203.0.113.42 "$d/pw" && echo "ok: the right password works after the clear" ||
    { echo "FAIL: login after the clear"; cat "$d/drive"; fails=$((fails + 1)); }
chmod 644 "$d/users"
check 1 "a users file others can read is refused" "$ck" -c "$d/checkup.conf" sessions list

# checkup.conf must be a regular file that only root (or the running user)
# can write: anything else is an error in the CLI and in checkupd, and
# nothing is created from it. The tests run as root: 65534 is someone else.
mkdir "$d/conf.d"
check 1 "config check: a directory is no configuration" "$ck" -c "$d/conf.d" config check
grep -q 'not a regular file' "$d/out" && ! grep -q 'usable' "$d/out" && echo "ok: said why" ||
    { echo "FAIL: directory config"; cat "$d/out"; fails=$((fails + 1)); }
mkfifo "$d/conf.fifo"
check 1 "config check: a FIFO is no configuration" timeout 20 "$ck" -c "$d/conf.fifo" config check
printf '[store]\nurl = lmdb:%s/made-by-bad-conf\n[users]\nfile = %s/users\n' "$d" "$d" > "$d/other.conf"
chmod 666 "$d/other.conf"
check 1 "a configuration others can write is refused" "$ck" -c "$d/other.conf" sessions list
grep -q 'mode 0666' "$d/out" && echo "ok: names the mode" || { echo "FAIL: 0666 config"; cat "$d/out"; fails=$((fails + 1)); }
chmod 644 "$d/other.conf" && chown 65534 "$d/other.conf"
check 1 "another user's configuration is refused" "$ck" -c "$d/other.conf" sessions list
grep -q 'owned by uid 65534' "$d/out" && echo "ok: names the owner" || { echo "FAIL: owner"; cat "$d/out"; fails=$((fails + 1)); }
[ ! -e "$d/made-by-bad-conf" ] && echo "ok: no store made from a refused configuration" ||
    { echo "FAIL: store created"; fails=$((fails + 1)); }
check 2 "checkupd: a directory is no configuration" timeout 20 "$top_builddir/checkupd" -c "$d/conf.d"
grep -q 'not a regular file' "$d/out" && echo "ok: checkupd said why" || { echo "FAIL: checkupd"; cat "$d/out"; fails=$((fails + 1)); }
check 2 "checkupd: another user's configuration" timeout 20 "$top_builddir/checkupd" -c "$d/other.conf"
grep -q 'owned by uid 65534' "$d/out" && echo "ok: checkupd named the owner" || { echo "FAIL: checkupd owner"; cat "$d/out"; fails=$((fails + 1)); }
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
