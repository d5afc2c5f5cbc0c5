#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The OAUTHBEARER plugin through the real libsasl2 and sasl2-bin's sample
# programs, which speak base64 lines ("C: ...", "S: ...") on stdin and
# stdout: sasl-sample-server gets the client messages of each case, and
# sasl-sample-client's own message is then handed to the server (end to
# end). Every case checks the exact outcome, the error challenge (JSON)
# and the audit reason. Messages over the sample programs' 2 KiB line go
# through tests/sasl_drive (the same libsasl2, in one process).
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/sasl_env.sh"

SRV=${SASL_SAMPLE_SERVER:-$(command -v sasl-sample-server || echo /usr/sbin/sasl-sample-server)}
CLI=${SASL_SAMPLE_CLIENT:-$(command -v sasl-sample-client || echo /usr/bin/sasl-sample-client)}
for p in "$SRV" "$CLI"; do
    [ -x "$p" ] || { echo "FAIL: $p not found (sasl2-bin; scripts/install-deps.sh)"; exit 1; }
done

d=$(mktemp -d "${TMPDIR:-/tmp}/ck-sasl.XXXXXX") || exit 99
trap 'rm -rf "$d"' EXIT INT TERM
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
    # The outputs hold no token: the sample server prints names, not messages.
    [ -f "$d/out" ] && sed 's/^/#   /' "$d/out" | grep -v '^#   C: ' | head -n 20
}
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

cks_setup "$d/main" 600 3600 || exit 99
cks_setup "$d/short" 4 7 || exit 99
cks_setup "$d/other" 600 3600 || exit 99        # another key ring: forgeries

JSON='{"status":"invalid_token","scope":"checkup","openid-configuration":"https://login.example.org/.well-known/openid-configuration"}'

b64() { base64 -w0; }
# msg FILE: the client message in FILE as the sample server's first line.
first_line() { { printf 'OAUTHBEARER\000'; cat "$1"; } | b64; }
# serve DIR MSGFILE: runs the sample server on one message (and the %x01
# after an error challenge); its output in $d/out, exit status returned.
serve() {
    { printf 'C: %s\n' "$(first_line "$2")"; printf 'C: %s\n' "$(printf '\001' | b64)"; } |
        SASL_CONF_PATH=$1/sasl cks_sys "$SRV" -m OAUTHBEARER -p "$CKS_PLUGIN_DIR" -s ldap \
            -i "local=127.0.0.1;389,remote=127.0.0.1;40000" > "$d/out" 2>&1
}
# msg FILE AUTHZID TOKENFILE [EXTRA]: writes a client message.
msg() {
    printf 'n,%s,\001%sauth=Bearer %s\001\001' "${2:+a=$2}" "${4:-}" "$(cat "$3")" > "$1"
}
# The user the server authenticated, or "".
authed() { sed -n 's/^Username: //p' "$d/out"; }
# The error challenge the server sent, decoded.
challenge() {
    awk '/^Sending response/ { getline; print substr($0, 4); exit }' "$d/out" | base64 -d
}
refused_with() {    # refused_with REASON-TEXT: the sample server's last words
    grep -q "Performing SASL negotiation: $1" "$d/out" || grep -q "Starting SASL negotiation: $1" "$d/out"
}
last_audit() { tail -n 1 "$1/audit.jsonl"; }
audit_has() { last_audit "$1" | grep -q "$2"; }

# --- a good token, with no authzid, with each of the user's two names
cks_mint "$d/main" alice@example.org > "$d/alice.tok" || exit 99
cks_mint "$d/main" bob@example.org > "$d/bob.tok" || exit 99
msg "$d/m" "" "$d/alice.tok"
serve "$d/main" "$d/m"
check "good token: authenticated as the session's user" '[ "$(authed)" = alice@example.org ]'
check "good token: audited login_success, method sasl, service ldap" \
    'audit_has "$d/main" "\"event\":\"login_success\",\"user\":\"alice@example.org\",\"method\":\"sasl\",\"service\":\"ldap\",\"rhost\":\"127.0.0.1\""'
msg "$d/m" alice "$d/alice.tok"
serve "$d/main" "$d/m"
check "authzid = the mapped local user: authenticated as alice" '[ "$(authed)" = alice ]'
msg "$d/m" ALICE@example.org "$d/alice.tok"
serve "$d/main" "$d/m"
check "authzid = the email (any case): authenticated as the email" \
    '[ "$(authed)" = alice@example.org ]'
msg "$d/m" "" "$d/alice.tok" "host=ldap.example.org$(printf '\001')port=389$(printf '\001')"
serve "$d/main" "$d/m"
check "host and port pairs are accepted" '[ "$(authed)" = alice@example.org ]'

# --- another user's token offered with an authzid
msg "$d/m" alice "$d/bob.tok"
serve "$d/main" "$d/m"
check "bob's token for authzid alice: no user" '[ -z "$(authed)" ]'
check "bob's token for authzid alice: error JSON" '[ "$(challenge)" = "$JSON" ]'
check "bob's token for authzid alice: SASL_NOAUTHZ" 'refused_with "authorization failure"'
check "bob's token for authzid alice: audited authzid_mismatch" \
    'audit_has "$d/main" "\"event\":\"token_rejected\",\"user\":\"alice\".*\"reason\":\"authzid_mismatch\""'

# --- forged tokens: another key ring, alg none, one byte changed
cks_mint "$d/other" alice@example.org > "$d/forged.tok" || exit 99
msg "$d/m" "" "$d/forged.tok"
serve "$d/main" "$d/m"
check "token of another key ring: SASL_BADAUTH with the error JSON" \
    '[ -z "$(authed)" ] && [ "$(challenge)" = "$JSON" ] && refused_with "authentication failure"'
check "token of another key ring: audited unknown_kid" \
    'audit_has "$d/main" "\"reason\":\"unknown_kid\""'
t=$(cat "$d/alice.tok")
p=${t#*.}; p=${p%%.*}
h=$(printf '{"alg":"none","typ":"JWT"}' | b64 | tr '+/' '-_' | tr -d '=')
printf '%s.%s.' "$h" "$p" > "$d/none.tok"
msg "$d/m" "" "$d/none.tok"
serve "$d/main" "$d/m"
check "alg none: refused, audited bad_alg" \
    '[ -z "$(authed)" ] && refused_with "authentication failure" && audit_has "$d/main" "\"reason\":\"bad_alg\""'
# One byte of the payload changed: the signature no longer matches.
c=$(printf '%s' "$p" | cut -c5)
[ "$c" = A ] && r=B || r=A
printf '%s.%s%s%s.%s' "${t%%.*}" "$(printf '%s' "$p" | cut -c1-4)" "$r" \
    "$(printf '%s' "$p" | cut -c6-)" "${t##*.}" > "$d/changed.tok"
msg "$d/m" "" "$d/changed.tok"
serve "$d/main" "$d/m"
check "one byte changed: SASL_BADAUTH with the error JSON, audited bad_signature" \
    '[ -z "$(authed)" ] && [ "$(challenge)" = "$JSON" ] && refused_with "authentication failure" && audit_has "$d/main" "\"reason\":\"bad_signature\""'

# --- after the error challenge only the lone %x01 is a proper answer
{ printf 'C: %s\n' "$(first_line "$d/m")"; printf 'C: %s\n' "$(printf 'x' | b64)"; } |
    SASL_CONF_PATH=$d/main/sasl cks_sys "$SRV" -m OAUTHBEARER -p "$CKS_PLUGIN_DIR" -s ldap > "$d/out" 2>&1
check "anything but %x01 after the challenge: SASL_BADPROT" 'refused_with "bad protocol"'
# Each forgery and the authzid mismatch above counted as a failed login, as PAM's do.
check "five forged or mismatched tokens: login failures 5 in the metrics" \
    '"$top_builddir/checkup" -c "$d/main/checkup.conf" metrics | grep -q "^login failures: *5$"'

# --- revoked: logout (one session), logout from all devices
cks_mint "$d/main" alice@example.org > "$d/a2.tok" || exit 99
cks_mint "$d/main" alice@example.org > "$d/a3.tok" || exit 99
key=$("$top_builddir/checkup" -c "$d/main/checkup.conf" sessions list --user alice@example.org |
    awk 'NR > 1 { print $1 }' | head -n 1)
"$top_builddir/checkup" -c "$d/main/checkup.conf" sessions revoke "$key" --user alice@example.org \
    > /dev/null || exit 99
revoked=0
for tk in alice a2 a3; do
    msg "$d/m" "" "$d/$tk.tok"
    serve "$d/main" "$d/m"
    [ -z "$(authed)" ] && revoked=$((revoked + 1))
done
check "logout: exactly the logged-out session is refused ($revoked of 3)" '[ "$revoked" = 1 ]'
check "logout: audited session_not_found" 'grep -q "\"reason\":\"session_not_found\"" "$d/main/audit.jsonl"'
"$top_builddir/checkup" -c "$d/main/checkup.conf" sessions revoke-user alice@example.org \
    > /dev/null || exit 99
refused=0
for tk in alice a2 a3; do
    msg "$d/m" "" "$d/$tk.tok"
    serve "$d/main" "$d/m"
    [ -z "$(authed)" ] && [ "$(challenge)" = "$JSON" ] && refused=$((refused + 1))
done
check "logout from all devices: all three tokens refused with the error JSON" '[ "$refused" = 3 ]'
check "logout from all devices: audited session_not_found" \
    'audit_has "$d/main" "\"event\":\"token_rejected\".*\"reason\":\"session_not_found\""'
msg "$d/m" "" "$d/bob.tok"
serve "$d/main" "$d/m"
check "bob's session is untouched" '[ "$(authed)" = bob@example.org ]'

# --- malformed messages: refused at once (SASL_BADPROT), no error challenge
bad() {     # bad NAME REASON BYTES
    why=$2
    printf "$3" > "$d/m"
    serve "$d/main" "$d/m"
    check "$1: SASL_BADPROT, no challenge, audited $why" \
        '[ -z "$(authed)" ] && ! grep -q "^Sending response" "$d/out" && refused_with "bad protocol" && audit_has "$d/main" "\"reason\":\"$why\""'
}
bad "channel binding (p=)" channel_binding 'p=tls-unique,,\001auth=Bearer x\001\001'
bad "unknown gs2 flag" bad_gs2_header 'x,,\001auth=Bearer x\001\001'
bad "no comma after the authzid" bad_gs2_header 'n,a=alice\001auth=Bearer x\001\001'
bad "bad saslname escape" bad_authzid 'n,a=al=41ice,\001auth=Bearer x\001\001'
bad "missing auth" no_auth 'n,,\001host=ldap.example.org\001\001'
bad "auth without Bearer" bad_auth 'n,,\001auth=Basic YWxpY2U6eA==\001\001'
bad "a key twice" duplicate_key 'n,,\001host=a\001host=b\001auth=Bearer x\001\001'
bad "no final %x01" bad_end 'n,,\001auth=Bearer x\001'
bad "bytes after the end" bad_end 'n,,\001auth=Bearer x\001\001junk'
bad "a NUL in a value" nul_byte 'n,,\001auth=Bearer x\000y\001\001'

# --- 64 KiB messages (past the sample programs' lines): refused unread
head -c 65536 /dev/zero | tr '\0' 'a' > "$d/big"
"$top_builddir/tests/sasl_drive" server "$CKS_PLUGIN_DIR" "$d/main/checkup.conf" "$d/big" \
    > "$d/out" 2>&1
check "64 KiB of junk: SASL_BADPROT, audited too_long" \
    'grep -q "^start=bad protocol" "$d/out" && audit_has "$d/main" "\"reason\":\"too_long\""'
{ printf 'n,,\001auth=Bearer '; head -c 65536 /dev/zero | tr '\0' 'a'; printf '\001\001'; } > "$d/big"
"$top_builddir/tests/sasl_drive" server "$CKS_PLUGIN_DIR" "$d/main/checkup.conf" "$d/big" \
    > "$d/out" 2>&1
check "a 64 KiB bearer token: SASL_BADPROT, audited too_long" \
    'grep -q "^start=bad protocol" "$d/out" && audit_has "$d/main" "\"reason\":\"too_long\""'

# --- idle and lifetime ends (inactivity 4 s, lifetime 7 s; the real clock,
# as test_pam: the store counts whole seconds, so each wait keeps a second
# clear of the limit it must not reach)
cks_mint "$d/short" alice@example.org > "$d/idle.tok" || exit 99
cks_mint "$d/short" alice@example.org > "$d/life.tok" || exit 99
sleep 2
msg "$d/m" "" "$d/life.tok"
serve "$d/short" "$d/m"
check "a use within the idle timeout succeeds (and keeps it alive)" '[ "$(authed)" = alice@example.org ]'
sleep 2.2
serve "$d/short" "$d/m"
check "a second use, 4 s after the login, succeeds" '[ "$(authed)" = alice@example.org ]'
sleep 1.1
msg "$d/m" "" "$d/idle.tok"
serve "$d/short" "$d/m"
check "idle-expired: SASL_BADAUTH with the error JSON" \
    '[ -z "$(authed)" ] && [ "$(challenge)" = "$JSON" ] && refused_with "authentication failure"'
check "idle-expired: audited session_expired_idle" \
    'audit_has "$d/short" "\"event\":\"session_expired_idle\".*\"reason\":\"expired_idle\""'
sleep 2.2
msg "$d/m" "" "$d/life.tok"
serve "$d/short" "$d/m"
check "lifetime-expired: SASL_BADAUTH with the error JSON" \
    '[ -z "$(authed)" ] && [ "$(challenge)" = "$JSON" ] && refused_with "authentication failure"'
check "lifetime-expired: audited session_expired_lifetime" \
    'audit_has "$d/short" "\"event\":\"session_expired_lifetime\".*\"reason\":\"expired_lifetime\""'

# --- the client mechanism: sasl-sample-client takes the token at its
# password prompt (getpass reads stdin without a terminal: setsid), writes
# its message, which the sample server then accepts (end to end).
cks_mint "$d/main" bob@example.org > "$d/bob2.tok" || exit 99
{ printf 'S: %s\n' "$(printf OAUTHBEARER | b64)"; cat "$d/bob2.tok"; printf 'S: \n'; } > "$d/cin"
SASL_CONF_PATH=$d/main/sasl cks_sys setsid -w "$CLI" -m OAUTHBEARER -p "$CKS_PLUGIN_DIR" -s ldap \
    -n ldap.example.org -u bob < "$d/cin" > "$d/cout" 2>&1
line=$(sed -n 's/^C: \(..*\)$/\1/p' "$d/cout" | head -n 1)
printf '%s' "$line" | base64 -d | tr '\000' '\n' | tail -n 1 > "$d/m"
printf 'n,a=bob,\001host=ldap.example.org\001auth=Bearer %s\001\001' "$(cat "$d/bob2.tok")" > "$d/want"
check "sample client: the RFC 7628 message, authzid from -u, host from -n" 'cmp -s "$d/m" "$d/want"'
check "sample client: finishes on the server's empty success" 'grep -q "^Negotiation complete" "$d/cout"'
serve "$d/main" "$d/m"
check "sample client's message: the sample server authenticates bob" '[ "$(authed)" = bob ]'
check "no token in any output or audit line" \
    '! grep -qF "$(cut -d. -f3 "$d/bob2.tok")" "$d/out" "$d/main/audit.jsonl"'

# --- one long-lived process, as slapd is: a child forked after exchanges,
# several threads at once, and a key ring rotated under it
DRIVE=$top_builddir/tests/sasl_drive
cks_setup "$d/proc" 600 3600 || exit 99
cks_mint "$d/proc" alice@example.org > "$d/p1.tok" || exit 99
cks_mint "$d/proc" bob@example.org > "$d/p2.tok" || exit 99
printf 'pair %s\nfork %s\npair %s bob\nfork %s alice\n' "$d/p1.tok" "$d/p2.tok" "$d/p2.tok" \
    "$d/p1.tok" | "$DRIVE" lines "$CKS_PLUGIN_DIR" "$d/proc/checkup.conf" > "$d/out" 2> "$d/err"
printf 'ok alice@example.org\nchild ok bob@example.org\nok bob\nchild ok alice\n' > "$d/want"
check "exchanges before and after a fork, in the parent and in each child" 'cmp -s "$d/out" "$d/want"'
# A client with no callbacks answers the mechanism's prompts (SASL_INTERACT),
# as ldapwhoami -Y OAUTHBEARER -X AUTHZID -w TOKEN does.
printf 'ipair %s\nipair %s alice\nipair %s alice\n' "$d/p1.tok" "$d/p1.tok" "$d/p2.tok" |
    "$DRIVE" lines "$CKS_PLUGIN_DIR" "$d/proc/checkup.conf" > "$d/out" 2> "$d/err"
printf 'ok alice@example.org\nok alice\nrefused authorization failure\n' > "$d/want"
check "client by prompts: the token, and the authzid asked for (or none)" 'cmp -s "$d/out" "$d/want"'
"$DRIVE" threads "$CKS_PLUGIN_DIR" "$d/proc/checkup.conf" 4 100 "$d/p1.tok" "$d/p2.tok" \
    > "$d/out" 2>&1
check "4 threads x 100 exchanges at once: none fails" \
    'grep -q "^threads=4 exchanges=400 failed=0$" "$d/out"'
{
    printf 'pair %s\n' "$d/p1.tok"
    sleep 1
    "$top_builddir/checkup" -c "$d/proc/checkup.conf" keys rotate --keep 0 > /dev/null
    cks_mint "$d/proc" alice@example.org > "$d/p3.tok"
    printf 'pair %s\npair %s\n' "$d/p1.tok" "$d/p3.tok"
} | "$DRIVE" lines "$CKS_PLUGIN_DIR" "$d/proc/checkup.conf" > "$d/out" 2> "$d/err"
printf 'ok alice@example.org\nrefused authentication failure\nok alice@example.org\n' > "$d/want"
check "key ring rotated under a running process: old key refused, new key accepted" \
    'cmp -s "$d/out" "$d/want"'

# --- fail closed: an unusable key ring refuses every exchange, one log line
chmod 644 "$d/main/token.keys"
msg "$d/m" "" "$d/bob.tok"
serve "$d/main" "$d/m"
check "key ring readable by others: refused (SASL_UNAVAIL) with one log line" \
    '[ -z "$(authed)" ] && grep -q "checkup OAUTHBEARER: token keys" "$d/out" && refused_with "remote authentication server unavailable"'
chmod 600 "$d/main/token.keys"
# A store that cannot be opened is named in the log line, its password not.
cp "$d/main/checkup.conf" "$d/main/checkup.conf.keep"
sed -i 's|^url = .*|url = redis://checkup:Pw-not-to-log-7f3a@127.0.0.1:1/0?x=1|' "$d/main/checkup.conf"
serve "$d/main" "$d/m"
check "store that cannot be opened: refused, named without its password" \
    '[ -z "$(authed)" ] && grep -qF "store redis://checkup:***@127.0.0.1:1/0?x=1" "$d/out" && ! grep -q "Pw-not-to-log" "$d/out"'
mv "$d/main/checkup.conf.keep" "$d/main/checkup.conf"

echo "1..$n"
[ "$fails" -eq 0 ]
