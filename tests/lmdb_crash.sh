#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# An end of session that was answered survives kill -9 of the process that
# answered it, on the embedded store: a host process calling pam_checkup
# (pam_close_session returned, then SIGKILL) and checkupd (a burst of
# logouts answered 303, then SIGKILL right after the last). The store is
# then opened afresh (the CLI, a restarted checkupd) and every ended
# session must stay ended, every other one live. Ends of sessions are
# synced to disk before they are answered (MDB_NOMETASYNC is not enough for
# them; see docs/design.md): a SIGKILL leaves the page cache, so this test
# shows that nothing is answered before its commit, not the fsync itself,
# which only a power loss would show.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/lib/pam_env.sh"
trap 'web_stop_all; redis_stop_all' EXIT
ck=$top_builddir/checkup

# ---- a host process calling the PAM module --------------------------------
d=$CK_TEST_TMP/pam
ck_pam_setup "$d" "$top_builddir" 600 3600
printf 'crash pw 1\n' > "$d/pw"
"$ck" -c "$d/checkup.conf" user add a@example.org --role doctor --local-user auser \
    --password-stdin < "$d/pw" > /dev/null || exit 1
ck_pam_wrap "$d"
live() { "$ck" -c "$d/checkup.conf" sessions list --user a@example.org | grep -c 'a@example.org'; }
ck_pam_drive "$d" auser 192.0.2.1 auth open < "$d/pw"
check "one session opened through PAM and left open" 1 "$(live)"
ended=0
i=0
while [ $i -lt 10 ]; do
    i=$((i + 1))
    : > "$d/out"
    LD_PRELOAD=libpam_wrapper.so \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$top_builddir/tests/pam_drive" -s checkup -u auser -r 192.0.2.1 auth open close \
        sleep=30 < "$d/pw" > "$d/out" 2>&1 &
    pid=$!
    j=0
    while ! grep -q 'close -> Success' "$d/out" && [ $j -lt 200 ]; do
        sleep 0.02
        j=$((j + 1))
    done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    grep -q 'close -> Success' "$d/out" && ended=$((ended + 1))
done
check "10 PAM sessions closed (answered), each host process then killed" 10 "$ended"
check "after SIGKILL, only the session left open is live" 1 "$(live)"

# ---- checkupd --------------------------------------------------------------
D=$CK_TEST_TMP/web
web_setup "$D" "lmdb:$D/store" "login_rate_limit = 0" || exit 1
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT
: > "$D/tokens"
n=0
while [ $n -lt 20 ]; do
    web_login "$P" alice@example.org "$WEB_PW_ALICE" >> "$D/tokens"
    n=$((n + 1))
done
check "20 logins" 20 "$(grep -c . "$D/tokens")"
head -n 10 "$D/tokens" > "$D/out.tok"
tail -n 10 "$D/tokens" > "$D/in.tok"
answered=0
while read -r t; do
    s=$(status "http://127.0.0.1:$P/logout" -X POST -H "Origin: $WEB_ORIGIN" \
        -H "Cookie: $WEB_COOKIE=$t")
    [ "$s" = 303 ] && answered=$((answered + 1))
done < "$D/out.tok"
kill -9 "$(cat "$CK_TEST_TMP/ck.web.pid")"
rm -f "$CK_TEST_TMP/ck.web.pid"
check "10 logouts answered 303, then checkupd killed" 10 "$answered"
web_start ck2 "$D/checkup.conf" || exit 1
P=$WEB_PORT
me() { status "http://127.0.0.1:$P/session" -H "Cookie: $WEB_COOKIE=$1"; }
back=0
while read -r t; do [ "$(me "$t")" = 200 ] && back=$((back + 1)); done < "$D/out.tok"
alive=0
while read -r t; do [ "$(me "$t")" = 200 ] && alive=$((alive + 1)); done < "$D/in.tok"
echo "# lmdb kill -9: logged-out sessions valid again: $back of 10; others live: $alive of 10"
check "no logged-out session is valid after the restart" 0 "$back"
check "the other sessions are live after the restart" 10 "$alive"
web_summary
