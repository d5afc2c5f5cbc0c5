#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# CorpPass at the terminal, end to end: pam_checkup.so (method=corppass,
# through pam_wrapper and tests/pam_drive) shows the short link; the test
# follows it through checkupd and @opengovsg/mockpass like a browser; PAM
# returns success with the mapped user and CHECKUP_SESSION set. Then: the
# link is single use, a bad code is a clear 404, and an abandoned login
# fails cleanly when the pending TTL runs out.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/idp/idp.sh"
trap 'stop_drive; web_stop_all; idp_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
D=$CK_TEST_TMP/term
BIND=__Host-checkup_login
CB="$WEB_ORIGIN/callback"
DRIVE_PID=

stop_drive() {
    [ -n "$DRIVE_PID" ] || return 0
    kill "$DRIVE_PID" 2>/dev/null
    wait "$DRIVE_PID" 2>/dev/null
    DRIVE_PID=
}

# The users file maps the CorpPass identity (entity/CPUID) to cpuser.
web_setup "$D" "lmdb:$D/store" || exit 1
printf '%s\n' "cpuser@example.org:*:doctor:clinic-9:cpuser::123456789D/ef39a074-b64d-4990-a937-6f80772e2bb8" \
    >> "$D/users"
for k in sig enc; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$k.pem" 2>/dev/null &&
        chmod 600 "$D/$k.pem" || exit 1
done
cp "$D/checkup.conf" "$D/base.conf"
conf() {
    { cat "$D/base.conf"
      printf '%s\n' "[session]" "pending_ttl = $2" "[provider corppass]" "issuer = $1" \
          "client_id = checkup-corppass" "profile = corppass" "redirect_uri = $CB" \
          "scopes = openid" "signing_key = $D/sig.pem" "encryption_key = $D/enc.pem" \
          "http_timeout = 5"
    } > "$D/checkup.conf"
}
conf https://placeholder.invalid 120
web_start ck "$D/checkup.conf" || exit 1
curl -s -o "$D/rp.jwks" "http://127.0.0.1:$WEB_PORT/.well-known/jwks.json"
web_stop ck
mp=$(idp_start mockpass mockpass.mjs "$D/rp.jwks") || exit 1
conf "http://127.0.0.1:$mp/corppass/v2" 120
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT

mkdir -p "$D/services"
m="$top_builddir/.libs/pam_checkup.so"
printf '%s\n' "auth     required $m config=$D/checkup.conf method=corppass noprompt noqr" \
    "account  required $m config=$D/checkup.conf" \
    "session  required $m config=$D/checkup.conf" > "$D/services/checkup"
printf '%s\n' "auth required pam_deny.so" "account required pam_deny.so" \
    "session required pam_deny.so" > "$D/services/other"
ck_pam_wrap "$D"

# drive NAME: pam_drive auth acct open in the background, its output
# line-buffered in $D/NAME.out so the link can be read while it waits.
drive() {
    rm -f "$D/$1.tok"
    echo > "$D/$1.in"
    LD_PRELOAD=libpam_wrapper.so ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        stdbuf -oL "$top_builddir/tests/pam_drive" -s checkup -u cpuser -r 203.0.113.9 \
        -k "$D/$1.tok" auth acct open < "$D/$1.in" > "$D/$1.out" 2>&1 &
    DRIVE_PID=$!
}

# link NAME: waits for the link the module shows; prints it.
link() {
    i=0
    while [ $i -lt 100 ]; do
        l=$(sed -n 's|.*open \(https\{0,1\}://[^ ]*/t/[A-Z0-9]*\).*|\1|p' "$D/$1.out" 2>/dev/null)
        [ -n "$l" ] && { echo "$l"; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    cat "$D/$1.out" >&2
    return 1
}

drive ok
if l=$(link ok); then
    code=${l##*/}
    check "the link is on checkupd's public URL" "$WEB_ORIGIN/t/" "${l%"$code"}"
    # A HEAD (a link previewer) is refused and does not use the link up.
    curl -s -o /dev/null -I -D "$D/th.h" --max-time 10 "http://127.0.0.1:$P/t/$code"
    check "HEAD on the link is 405 with Allow: GET" "1 1" \
        "$(grep -c '^HTTP/1.1 405' "$D/th.h") $(grep -c '^[Aa]llow: GET' "$D/th.h")"
    curl -s -o /dev/null -D "$D/t.h" --max-time 10 "http://127.0.0.1:$P/t/$code"
    check "the link starts the provider login" 1 "$(grep -c '^HTTP/1.1 302' "$D/t.h")"
    url=$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$D/t.h")
    bind=$(sed -n "s/^[Ss]et-[Cc]ookie: $BIND=\([^;]*\);.*/\1/p" "$D/t.h")
    if cb=$("$NODE" "$IDP_DIR/login.mjs" "$url" "$CB" S9000002A); then
        curl -s -o /dev/null -D "$D/cb.h" --max-time 20 -H "Cookie: $BIND=$bind" \
            "http://127.0.0.1:$P/callback?${cb#*\?}"
        check "callback sends the browser to the done page" /t/done \
            "$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$D/cb.h")"
        check "no session cookie in the browser for a terminal login" 0 \
            "$(grep -c "^Set-Cookie: $WEB_COOKIE=" "$D/cb.h")"
        curl -s -o "$D/done.html" "http://127.0.0.1:$P/t/done"
        check_grep "done page says to return to the terminal" "Return to your terminal" "$D/done.html"
    else
        check "mockpass login for the terminal" ok failed
    fi
    i=0
    while ck_alive "$DRIVE_PID" && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$DRIVE_PID"
    check "PAM auth, acct and open succeed" 0 "$?"
    DRIVE_PID=
    check_grep "the module showed the link" "/t/$code" "$D/ok.out"
    check "CHECKUP_SESSION set (token saved)" yes "$([ -s "$D/ok.tok" ] && echo yes || echo no)"
    check "the session is cpuser's, by CorpPass" "cpuser@example.org corppass" \
        "$(curl -s -D - -o /dev/null -H "Authorization: Bearer $(cat "$D/ok.tok")" \
            "http://127.0.0.1:$P/session" |
            sed -n 's/^X-Checkup-User: \(.*\)\r$/\1/p;s/^X-Checkup-Auth-Method: \(.*\)\r$/\1/p' |
            tr '\n' ' ' | sed 's/ $//')"
    check "the link works once" 404 "$(status "http://127.0.0.1:$P/t/$code")"
    check_nogrep "the code is not in checkupd's log" "$code" "$CK_TEST_TMP/ck.log"
    check_nogrep "the code is not in the audit file" "$code" "$D/audit.jsonl"
else
    check "the module shows a link" ok failed
    stop_drive
fi
check "a code that is not a code" 404 "$(status "http://127.0.0.1:$P/t/not-a-code!")"
check "an unknown code" 404 "$(status "http://127.0.0.1:$P/t/ABCDEFGH")"

# Abandoned: nobody follows the link; PAM fails when the pending TTL ends.
web_stop ck
conf "http://127.0.0.1:$mp/corppass/v2" 2
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT
drive gone
if l=$(link gone); then
    i=0
    while ck_alive "$DRIVE_PID" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$DRIVE_PID"
    check "an abandoned terminal login fails" 1 "$?"
    DRIVE_PID=
    check_grep "the user is told it expired" "not completed within" "$D/gone.out"
    check "no token for an abandoned login" no "$([ -s "$D/gone.tok" ] && echo yes || echo no)"
    check "its link is dead" 404 "$(status "http://127.0.0.1:$P/t/${l##*/}")"
else
    check "the module shows a link (abandoned run)" ok failed
    stop_drive
fi
web_stop ck
check "checkupd stops cleanly" 0 "$WEB_RC"
check_nogrep "no NRIC in checkupd's log" S9000002A "$CK_TEST_TMP/ck.log"
web_summary
