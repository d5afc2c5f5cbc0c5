#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# OpenLDAP slapd -> Cyrus SASL PLAIN -> saslauthd -a pam -> pam_checkup,
# end to end with real programs: slapd with conf/sasl/slapd.conf as its
# SASL options (tests/lib/slapd.sh), saslauthd as conf/sasl/saslauthd runs
# it, the PAM service conf/pam.d/checkup-sasl under the name slapd gives
# (ldap). ldapwhoami -Y PLAIN over StartTLS: the password and a session
# token from a PAM login bind as the DN authz-regexp maps them to; a wrong
# password, a logged-out token and another user's token are refused; the
# email address binds too; PLAIN is not offered without TLS; slapd offers
# only what mech_list names. Then LOGIN the same way, and OAUTHBEARER with
# checkup's own plugin (sasl/): a token binds and is touched, an authzid
# must be the session's user, forged and logged-out tokens are refused.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/saslauthd.sh"
. "$top_srcdir/tests/lib/slapd.sh"

d=$CK_TEST_TMP/sasl
s=$CK_TEST_TMP/slapd
cleanup() { slapd_stop "$s"; saslauthd_stop "$d"; redis_stop_all; }
trap cleanup EXIT
trap 'exit 1' INT TERM
ck=$top_builddir/checkup
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$s/whoami"; }

# checkup and saslauthd, as in tests/sasl_saslauthd.sh.
umask 077   # secrets in files only their owner reads
ck_pam_setup "$d" "$top_builddir" 600 3600
printf 'slapd pw %s one' "$$" > "$d/pw"     # ldapwhoami -y: no newline
printf 'slapd pw %s two' "$$" > "$d/pw2"
printf 'slapd pw %s one!' "$$" > "$d/bad"
"$ck" -c "$d/checkup.conf" user add a@example.org --role doctor --local-user auser \
    --password-stdin < "$d/pw" > /dev/null &&
"$ck" -c "$d/checkup.conf" user add b@example.org --role nurse --local-user buser \
    --password-stdin < "$d/pw2" > /dev/null || exit 99
sed "s|pam_checkup\.so|$top_builddir/.libs/pam_checkup.so config=$d/checkup.conf|" \
    "$top_srcdir/conf/pam.d/checkup-sasl" > "$d/services/ldap"
# shellcheck disable=SC1091
opts=$(. "$top_srcdir/conf/sasl/saslauthd" && printf '%s\n' "-n $THREADS $OPTIONS" |
    sed 's|-m [^ ]*||') || exit 99
# shellcheck disable=SC2086
saslauthd_start "$d" $opts || exit 1

# slapd with the sample SASL options, its saslauthd_path and checkup_config
# pointed at this test's.
slapd_setup "$s" "$top_srcdir/conf/sasl/slapd.conf" || exit 1
for key in mech_list checkup_config pwcheck_method saslauthd_path; do
    grep -q "^$key: " "$s/sasl2/slapd.conf" || { echo "conf/sasl/slapd.conf has no $key"; exit 99; }
done
grep -qx 'pwcheck_method: saslauthd' "$s/sasl2/slapd.conf" || exit 99
slapd_sasl_option "$s" saslauthd_path "$d/mux/mux"
slapd_sasl_option "$s" checkup_config "$d/checkup.conf"
port=$(slapd_start "$s") || exit 1
echo "# slapd on 127.0.0.1:$port"

# bind WHAT WANT-DN USER SECRET-FILE: ldapwhoami -Y $mech over StartTLS.
mech=PLAIN
bind_as() {
    if slapd_whoami "$s" -Q -Y "$mech" -U "$3" -y "$4" && [ "$(cat "$s/whoami")" = "dn:$2" ]; then
        ok "$1"
    else
        not_ok "$1"
    fi
}
refused() {
    if slapd_whoami "$s" -Q -Y "$mech" -U "$2" -y "$3"; then
        not_ok "$1"
    elif grep -q 'Invalid credentials (49)' "$s/whoami"; then
        ok "$1"
    else
        not_ok "$1 (not as invalid credentials)"
    fi
}

# What slapd offers: what mech_list names, nothing else of the system's.
(slapd_env "$s"; ldapsearch -LLL -x -ZZ -H "ldap://127.0.0.1:$port/" -b '' -s base \
    supportedSASLMechanisms) > "$s/whoami" 2>&1
mechs=$(sed -n 's/^supportedSASLMechanisms: //p' "$s/whoami" | sort | tr '\n' ' ')
case $mechs in
"PLAIN "|"OAUTHBEARER PLAIN ") ok "slapd offers what conf/sasl/slapd.conf names: $mechs" ;;
*) not_ok "slapd offers: $mechs" ;;
esac

me=uid=auser,ou=people,dc=example,dc=org
bind_as "the password binds as $me" "$me" auser "$d/pw"
refused "a wrong password is refused" auser "$d/bad"
refused "another user's password is refused" auser "$d/pw2"
bind_as "the email address binds as uid=a@example.org,..." \
    uid=a@example.org,ou=people,dc=example,dc=org a@example.org "$d/pw"
# Without TLS slapd does not offer PLAIN (sasl-secprops noplain, its
# default): the password never crosses the network in the clear.
(slapd_env "$s"; ldapwhoami -O none -Q -H "ldap://127.0.0.1:$port/" -Y PLAIN -U auser -y "$d/pw") \
    > "$s/whoami" 2>&1
if grep -q 'Inappropriate authentication (48)' "$s/whoami"; then
    ok "without TLS slapd refuses PLAIN (encryption needed)"
else
    not_ok "without TLS slapd refuses PLAIN"
fi

# A session token from a PAM login, then logged out.
ck_pam_wrap "$d"
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok" auth acct open < "$d/pw" && [ -s "$d/tok" ] ||
    { cat "$d/drive"; exit 99; }
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok2" auth acct open close < "$d/pw" && [ -s "$d/tok2" ] ||
    { cat "$d/drive"; exit 99; }
bind_as "a session token binds as $me" "$me" auser "$d/tok"
bind_as "the token again, with the email address" \
    uid=a@example.org,ou=people,dc=example,dc=org a@example.org "$d/tok"
refused "a token after its logout is refused" auser "$d/tok2"
refused "the token for another user is refused" buser "$d/tok"
"$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null || exit 99
refused "the token after logout from all devices is refused" auser "$d/tok"

# LOGIN, which mail clients send, through the same chain: slapd again
# with mech_list: PLAIN LOGIN, as in the guide's Postfix example.
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok3" auth acct open < "$d/pw" && [ -s "$d/tok3" ] ||
    { cat "$d/drive"; exit 99; }
slapd_stop "$s"
slapd_sasl_option "$s" mech_list "PLAIN LOGIN"
port=$(slapd_start "$s") || exit 1
mech=LOGIN
bind_as "LOGIN: the password binds as $me" "$me" auser "$d/pw"
bind_as "LOGIN: a session token binds as $me" "$me" auser "$d/tok3"
refused "LOGIN: a wrong password is refused" auser "$d/bad"
refused "LOGIN: a logged-out token is refused" auser "$d/tok2"

# OAUTHBEARER: checkup's own plugin in slapd (no saslauthd): the sample's
# mech_list, the token of a PAM login from ldapwhoami's password callback.
# Not in the sanitizer build: there the plugin carries ASan, which slapd
# (not built with it) cannot host (with the runtime preloaded, slapd and
# ldapwhoami hang in the bind). The plugin's exchanges run under ASan in
# tests/sasl_sample.sh and under valgrind in tests/sasl_valgrind.sh; this
# part runs in the plain build's make check.
if [ -z "${CK_SANITIZERS:-}" ]; then
"$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null || exit 99
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok4" auth acct open < "$d/pw" && [ -s "$d/tok4" ] ||
    { cat "$d/drive"; exit 99; }
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok5" auth acct open < "$d/pw" && [ -s "$d/tok5" ] ||
    { cat "$d/drive"; exit 99; }
ck_pam_drive "$d" buser 203.0.113.6 -k "$d/tok6" auth acct open < "$d/pw2" && [ -s "$d/tok6" ] ||
    { cat "$d/drive"; exit 99; }
slapd_stop "$s"
slapd_sasl_option "$s" mech_list "OAUTHBEARER PLAIN"
slapd_use_checkup_plugin "$s" "$top_builddir/sasl/.libs/libcheckup_sasl.so" "$d/checkup.conf" ||
    exit 1
port=$(slapd_start "$s") || exit 1
mech=OAUTHBEARER
# bearer WHAT WANT-DN TOKEN-FILE [AUTHZID]
bearer() {
    if slapd_whoami "$s" -Q -Y OAUTHBEARER -y "$3" ${4:+-X "$4"} &&
        [ "$(cat "$s/whoami")" = "dn:$2" ]; then
        ok "$1"
    else
        not_ok "$1"
    fi
}
bearer_refused() {
    if slapd_whoami "$s" -Q -Y OAUTHBEARER -y "$2" ${3:+-X "$3"}; then
        not_ok "$1"
    elif grep -q "$4" "$s/whoami"; then
        ok "$1"
    else
        not_ok "$1 (not $4)"
    fi
}
sleep 3   # both sessions idle 3 s; the bind below makes one of them fresh
bearer "OAUTHBEARER: the token of a PAM login binds as the email's DN" \
    uid=a@example.org,ou=people,dc=example,dc=org "$d/tok4"
idles=$("$ck" -c "$d/checkup.conf" sessions list --user a@example.org |
    awk '$2 == "a@example.org" { sub(/s$/, "", $6); print $6 }' | sort -n | tr '\n' ' ')
case $idles in
[01]" "[3-9]" "|[01]" "[1-9][0-9]" ") ok "OAUTHBEARER: the bind is a use: that session's idle time restarts (idle: $idles)" ;;
*) n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the bind did not touch its session (idle: $idles)" ;;
esac
bearer "OAUTHBEARER: with authzid auser (its local name) binds as $me" "$me" "$d/tok4" auser
bearer_refused "OAUTHBEARER: authzid buser with a's token is refused" "$d/tok4" buser \
    'Insufficient access (50)'
printf 'x%s' "$(cat "$d/tok4")" > "$d/forged"
bearer_refused "OAUTHBEARER: a forged token is refused" "$d/forged" "" 'Invalid credentials (49)'
bearer "OAUTHBEARER: b's token binds as b" uid=b@example.org,ou=people,dc=example,dc=org "$d/tok6"
ck_pam_drive "$d" auser 203.0.113.5 -k "$d/tok5" close < /dev/null > /dev/null 2>&1 ||
    "$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null
"$ck" -c "$d/checkup.conf" sessions revoke-user a@example.org > /dev/null || exit 99
bearer_refused "OAUTHBEARER: the token after logout is refused" "$d/tok4" "" 'Invalid credentials (49)'
grep -qF '"method":"sasl"' "$d/audit.jsonl" && ok "OAUTHBEARER binds are audited with method sasl" ||
    { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - no audit event with method sasl"; }
fi

if grep -qF '"event":"login_success","user":"a@example.org","method":"token","service":"ldap"' \
    "$d/audit.jsonl"; then
    ok "the token bind is audited with service ldap"
else
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the token bind is audited"
fi
for f in pw pw2 bad tok tok2 tok3 tok4 tok6; do
    [ -e "$d/$f" ] || continue   # tok4, tok6: the OAUTHBEARER part
    if grep -sqF "$(cat "$d/$f")" "$s/slapd.log" "$s/slapd.log.old" "$d/saslauthd.log" \
        "$d/audit.jsonl"; then
        n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $f in a log"
    else
        ok "no $f in slapd's or saslauthd's log or the audit file"
    fi
done
# The machine's own SASL directory never saw the test's options.
if grep -rqF "$d/mux/mux" "$SLAPD_SASL_CONF_DIR" 2>/dev/null; then
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - the test's SASL options reached $SLAPD_SASL_CONF_DIR"
else
    ok "$SLAPD_SASL_CONF_DIR outside slapd's mount namespace is the machine's own"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
