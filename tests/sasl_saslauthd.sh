#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The saslauthd road for SASL PLAIN and LOGIN: a real saslauthd -a pam,
# run with the options of conf/sasl/saslauthd, asks pam_checkup (the
# build tree's module, in a PAM service made from conf/pam.d/checkup-sasl)
# through testsaslauthd: the right password, a wrong one, a session token
# from a PAM login, that token again (a use: the session's last activity
# moves), a token whose session was logged out, the first token after
# "logout from all devices", the email address as user name (-r),
# another user's token, and a token under [anomaly] bind = enforce. Nothing secret in saslauthd's log. And why the
# sample drops Debian's -c: with it, a logged-out token still passes.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/saslauthd.sh"

d=$CK_TEST_TMP/sasl
c=$CK_TEST_TMP/cached
cleanup() { saslauthd_stop "$d"; saslauthd_stop "$c"; redis_stop_all; }
trap cleanup EXIT
trap 'exit 1' INT TERM
ck=$top_builddir/checkup
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$d/out"; }

# The checkup side: two users, the sample PAM service as "ldap" and "smtp".
umask 077   # secrets in files only their owner reads
ck_pam_setup "$d" "$top_builddir" 600 3600
printf '%s\n' "sasl pw $$ one" > "$d/pw"
printf '%s\n' "sasl pw $$ two" > "$d/pw2"
printf '%s\n' "sasl pw $$ one!" > "$d/bad"
"$ck" -c "$d/checkup.conf" user add a@example.org --role doctor --local-user auser \
    --password-stdin < "$d/pw" > /dev/null &&
"$ck" -c "$d/checkup.conf" user add b@example.org --role nurse --local-user buser \
    --password-stdin < "$d/pw2" > /dev/null || exit 99
m="$top_builddir/.libs/pam_checkup.so config=$d/checkup.conf"
for svc in ldap smtp; do
    sed "s|pam_checkup\.so|$m|" "$top_srcdir/conf/pam.d/checkup-sasl" > "$d/services/$svc"
done
grep -q "^auth .*$top_builddir/.libs/pam_checkup.so config=.* method=password,token$" \
    "$d/services/ldap" || { echo "conf/pam.d/checkup-sasl has no pam_checkup auth line"; exit 99; }

# saslauthd as conf/sasl/saslauthd runs it, less the socket directory.
# shellcheck disable=SC1091
opts=$(. "$top_srcdir/conf/sasl/saslauthd" &&
    [ "$MECHANISMS" = pam ] && [ -z "$MECH_OPTIONS" ] &&
    printf '%s\n' "-n $THREADS $OPTIONS" | sed 's|-m [^ ]*||') ||
    { echo "conf/sasl/saslauthd: not MECHANISMS=\"pam\" with no MECH_OPTIONS"; exit 99; }
echo "# saslauthd options from conf/sasl/saslauthd: $opts"
# shellcheck disable=SC2086
saslauthd_start "$d" $opts || exit 1
mux=$d/mux/mux

# try SERVICE USER SECRET-FILE: one testsaslauthd request (with the
# realm $realm, as slapd sends user@realm); true on OK.
realm=
try() {
    testsaslauthd -f "$mux" -s "$1" -u "$2" ${realm:+-r "$realm"} -p "$(head -n 1 "$3")" > "$d/out" 2>&1
    grep -q '^0: OK' "$d/out"
}
# yes_ / no_ WHAT SERVICE USER SECRET-FILE: the request must pass / fail.
yes_() { what=$1; shift; if try "$@"; then ok "$what"; else not_ok "$what"; fi; }
no_() { what=$1; shift; if try "$@"; then not_ok "$what"; elif grep -q '^0: NO' "$d/out"; then ok "$what"
        else not_ok "$what (no NO answer)"; fi; }
last_activity() {
    "$ck" -c "$d/checkup.conf" sessions show "$1" --user a@example.org |
        sed -n 's/^last activity: *\([^ ]*\).*/\1/p'
}

yes_ "ldap: the right password" ldap auser "$d/pw"
yes_ "smtp: the right password" smtp auser "$d/pw"
no_ "ldap: a wrong password" ldap auser "$d/bad"
no_ "ldap: another user's password" ldap auser "$d/pw2"
no_ "ldap: an unknown user" ldap nobody "$d/pw"
realm=example.org
yes_ "ldap: user a, realm example.org: the email address (-r)" ldap a "$d/pw"
realm=
if grep -qF '"event":"login_success","user":"a@example.org","method":"password","service":"ldap"' \
    "$d/audit.jsonl"; then ok "the password bind is audited with service ldap"
else not_ok "the password bind is audited with service ldap"; fi
if [ "$("$ck" -c "$d/checkup.conf" sessions list --user a@example.org | grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}')" = 0 ]
then ok "password binds open no checkup session"
else not_ok "password binds open no checkup session"; fi

# A session token from a PAM login (pam_drive plays the login program).
ck_pam_wrap "$d"
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok" auth acct open < "$d/pw" && [ -s "$d/tok" ] ||
    { cat "$d/drive"; exit 99; }
key=$("$ck" -c "$d/checkup.conf" sessions list --user a@example.org | awk 'NR == 2 { print $1 }')
t0=$(last_activity "$key")
[ -n "$key" ] && [ -n "$t0" ] || exit 99
sleep 2   # last activity has one-second steps
yes_ "ldap: the session token" ldap auser "$d/tok"
t1=$(last_activity "$key")
if [ -n "$t1" ] && [ "$t1" != "$t0" ]; then ok "the token bind moved the session's last activity ($t0 -> $t1)"
else not_ok "the token bind did not move last activity ($t0 -> $t1)"; fi
yes_ "smtp: the same token again" smtp auser "$d/tok"
realm=example.org
yes_ "ldap: the token for user a, realm example.org" ldap a "$d/tok"
realm=
no_ "ldap: the token for another user" ldap buser "$d/tok"

# Logout: a login whose session is closed again (pam_close_session).
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok2" auth acct open close < "$d/pw" && [ -s "$d/tok2" ] ||
    { cat "$d/drive"; exit 99; }
no_ "ldap: a token after its logout" ldap auser "$d/tok2"
yes_ "ldap: the first token still works" ldap auser "$d/tok"
"$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null || exit 99
no_ "ldap: the token after logout from all devices" ldap auser "$d/tok"
yes_ "ldap: the password after logout from all devices" ldap auser "$d/pw"
if grep -F '"event":"token_rejected","user":"a@example.org","method":"token","service":"ldap"' \
    "$d/audit.jsonl" | grep -qF '"reason":"session_not_found"'; then
    ok "the refused token is audited (session_not_found, service ldap)"
else not_ok "the refused token is audited"; fi

# saslauthd gives PAM no client address: under [anomaly] bind = enforce a
# token bind is refused (the session has an address, the bind none), and
# audited; a password still passes.
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok4" auth acct open < "$d/pw" || { cat "$d/drive"; exit 99; }
printf '\n[anomaly]\nbind = enforce\n' >> "$d/checkup.conf"
no_ "bind = enforce: a token bind through saslauthd is refused" ldap auser "$d/tok4"
if grep -F '"event":"anomaly","user":"a@example.org","service":"ldap"' "$d/audit.jsonl" |
    grep -qF '"reason":"address_changed"'; then ok "and audited as an anomaly (address_changed)"
else not_ok "and audited as an anomaly"; fi
yes_ "bind = enforce: the password still passes" ldap auser "$d/pw"
sed -i '/^\[anomaly\]$/,$d' "$d/checkup.conf"

for f in "$d/pw" "$d/pw2" "$d/bad" "$d/tok" "$d/tok2" "$d/tok4"; do
    if grep -qF "$(head -n 1 "$f")" "$d/saslauthd.log" "$d/audit.jsonl"; then
        not_ok "a secret ($(basename "$f")) in saslauthd's log or the audit file"
    else ok "no $(basename "$f") in saslauthd's log or the audit file"; fi
done
saslauthd_stop "$d"

# Debian's default OPTIONS has -c: saslauthd then answers a secret it saw
# pass from its cache, and a logged-out token keeps working. The sample
# must not have it.
case " $opts " in *" -c "*) not_ok "conf/sasl/saslauthd caches credentials (-c)" ;;
*) ok "conf/sasl/saslauthd has no -c" ;; esac
mkdir -p "$c/services"
cp "$d/services/"* "$c/services/"
# shellcheck disable=SC2086
saslauthd_start "$c" $opts -c || exit 1
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok3" auth acct open < "$d/pw" || { cat "$d/drive"; exit 99; }
mux=$c/mux/mux
yes_ "with -c: a fresh token" ldap auser "$d/tok3"
"$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null || exit 99
yes_ "with -c the logged-out token still passes (why the sample has no -c)" ldap auser "$d/tok3"

echo "1..$n"
[ "$fails" -eq 0 ]
