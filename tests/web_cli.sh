#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd's command line, configuration errors and exit codes, and
# listening on a Unix socket.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'web_stop_all; redis_stop_all' EXIT
CKD="$top_builddir/checkupd"
D=$CK_TEST_TMP/cli
web_setup "$D" "lmdb:$D/store" || exit 1

"$CKD" --help > "$D/out" 2>&1
check "--help exits 0" 0 $?
check_grep "--help shows the usage" "Usage: checkupd" "$D/out"
"$CKD" --version > "$D/out" 2>&1
check "--version exits 0" 0 $?
"$CKD" --bogus > "$D/out" 2>&1
check "unknown option exits 2" 2 $?
"$CKD" -c "$D/checkup.conf" extra > "$D/out" 2>&1
check "stray argument exits 2" 2 $?

# conf_with FILE LINE...: the test config plus lines under [daemon].
conf_with() {
    _f=$1
    shift
    cp "$D/checkup.conf" "$_f"
    for _l in "$@"; do printf '%s\n' "$_l" >> "$_f"; done
}
grep -v '^public_url' "$D/checkup.conf" > "$D/nourl.conf"
"$CKD" -c "$D/nourl.conf" > "$D/out" 2>&1
check "no public_url exits 2" 2 $?
check_grep "and says so" "public_url is required" "$D/out"
conf_with "$D/bad.conf" "colour = blue"
"$CKD" -c "$D/bad.conf" > "$D/out" 2>&1
check "unknown [daemon] key exits 2" 2 $?
check_grep "names file, line and key" "bad.conf:" "$D/out"
conf_with "$D/bad.conf" "threads = 0"
"$CKD" -c "$D/bad.conf" > "$D/out" 2>&1
check "threads out of range exits 2" 2 $?
conf_with "$D/bad.conf" "listen = nowhere"
"$CKD" -c "$D/bad.conf" > "$D/out" 2>&1
check "unreadable listen address exits 2" 2 $?
conf_with "$D/bad.conf" "listen = 999.1.1.1:80"
"$CKD" -c "$D/bad.conf" > "$D/out" 2>&1
check "unusable listen address exits 1" 1 $?
"$CKD" -c "$D/missing.conf" > "$D/out" 2>&1
check "missing config exits 2" 2 $?
sed "s|^key_file = .*|key_file = $D/no.keys|" "$D/checkup.conf" > "$D/nokeys.conf"
"$CKD" -c "$D/nokeys.conf" > "$D/out" 2>&1
check "missing key ring exits 1" 1 $?

# A port already taken.
web_start first "$D/checkup.conf" || exit 1
conf_with "$D/taken.conf"
sed -i "s|^listen = .*|listen = 127.0.0.1:$WEB_PORT|" "$D/taken.conf"
"$CKD" -c "$D/taken.conf" > "$D/out" 2>&1
check "port in use exits 1" 1 $?
web_stop first

# A Unix socket, mode 0660, removed on exit.
sock="$D/checkupd.sock"
sed "s|^listen = .*|listen = unix:$sock|" "$D/checkup.conf" > "$D/unix.conf"
"$CKD" -c "$D/unix.conf" 2> "$CK_TEST_TMP/unix.log" &
echo $! > "$CK_TEST_TMP/unix.web.pid"
i=0
while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "socket mode" 660 "$(stat -c %a "$sock" 2>/dev/null)"
check "healthz over the socket" 200 "$(status http://localhost/healthz --unix-socket "$sock")"
T=$(curl -s -o /dev/null -D - --unix-socket "$sock" -H "Origin: $WEB_ORIGIN" \
    --data-urlencode email=alice@example.org --data-urlencode "password=$WEB_PW_ALICE" \
    http://localhost/login | sed -n "s/^Set-Cookie: $WEB_COOKIE=\([^;]*\);.*/\1/p")
check "session over the socket" 200 "$(status http://localhost/session --unix-socket "$sock" \
    -H "Cookie: $WEB_COOKIE=$T")"
web_stop unix
check "clean exit" 0 "$WEB_RC"
check "socket removed" no "$([ -e "$sock" ] && echo yes || echo no)"
web_summary
