#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A full store still checks and ends sessions: tests/test_store_full
# against a redis-server of our own (filled to maxmemory by the test), an
# embedded store on a 4 MiB tmpfs filled by the test, and one at its map
# size. Mounting the tmpfs needs root: anyone else runs this test in a user
# namespace (unshare -rm) where they are root. Then checkupd on a full
# Redis, on the embedded store on a full disk and at its map size: an
# existing cookie validates, logout works, a login is refused and the log
# has the documented "store full" line. Everything started here is
# stopped by pid.
set -u
if [ "$(id -u)" -ne 0 ] && [ -z "${CK_FULL_USERNS:-}" ]; then
    CK_FULL_USERNS=1 exec unshare -rm sh "$0" "$@" ||
        { echo "not ok - unshare -rm failed: the disk case needs root or a user namespace"; exit 1; }
fi
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
mnt="$CK_TEST_TMP/disk"
trap 'web_stop_all; umount "$mnt" 2>/dev/null; redis_stop_all' EXIT
port=$(redis_start full "maxmemory-policy noeviction") || exit 1
mkdir -p "$mnt" "$CK_TEST_TMP/map"
mount -t tmpfs -o size=4m,mode=700 tmpfs "$mnt" || { echo "not ok - mount tmpfs"; exit 1; }
CHECKUP_TEST_REDIS_PORT=$port CHECKUP_TEST_FULL_DIR=$mnt CHECKUP_TEST_MAP_DIR=$CK_TEST_TMP/map \
    "$top_builddir/tests/test_store_full"
check "store cases (test_store_full)" 0 $?

# checkupd on a Redis at maxmemory.
R() { redis-cli -p "$wport" "$@"; }
wport=$(redis_start webfull "maxmemory-policy noeviction") || exit 1
D=$CK_TEST_TMP/web
web_setup "$D" "redis://127.0.0.1:$wport" || exit 1
web_start ck "$D/checkup.conf" || exit 1
P=$WEB_PORT
t1=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
t2=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
check "two logins before the store fills" yes "$([ -n "$t1" ] && [ -n "$t2" ] && echo yes || echo no)"
used=$(R info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
R config set maxmemory $((used + 100000)) > /dev/null
R eval "for i = 1, 200 do redis.call('SET', 'fill:' .. i, string.rep('x', 4000)) end return 1" 0 > /dev/null
check "Redis refuses writes (OOM)" OOM "$(R set probe x | cut -c1-3)"
me() { status "http://127.0.0.1:$P/session" -H "Cookie: $WEB_COOKIE=$1"; }
check "an existing session validates in a full Redis" 200 "$(me "$t1")"
check "a login is refused" "" "$(web_login "$P" alice@example.org "$WEB_PW_ALICE")"
lo=$(status "http://127.0.0.1:$P/logout" -X POST -H "Origin: $WEB_ORIGIN" -H "Cookie: $WEB_COOKIE=$t2")
check "logout answers 303 in a full Redis" 303 "$lo"
check "the logged-out session is gone" 401 "$(me "$t2")"
check "the other session still validates" 200 "$(me "$t1")"
check_grep "the log has the documented store full line" "store full: store full (redis" \
    "$CK_TEST_TMP/ck.log"
curl -s --max-time 10 "http://127.0.0.1:$P/metrics" > "$D/metrics.txt"
check "/metrics answers in a full Redis, with the metrics lost counter" 1 \
    "$(grep -c '^checkup_metrics_lost_total [0-9]' "$D/metrics.txt")"
out=$("$top_builddir/checkup" -c "$D/checkup.conf" sessions revoke-user alice@example.org 2>&1)
check "checkup sessions revoke-user works in a full Redis" 0 $?
check "the revoked session is gone" 401 "$(me "$t1")"
web_stop ck

# checkupd on the embedded store, its file system full.
umount "$mnt" && mount -t tmpfs -o size=4m,mode=700 tmpfs "$mnt" || exit 1
D=$CK_TEST_TMP/weblmdb
web_setup "$D" "lmdb:$mnt/store" "[store]" "map_size = 4M" || exit 1
web_start ckl "$D/checkup.conf" || exit 1
P=$WEB_PORT
t1=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
t2=$(web_login "$P" bob@example.org "$WEB_PW_BOB")
t3=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
dd if=/dev/zero of="$mnt/fill" bs=64k 2>/dev/null
dd if=/dev/zero of="$mnt/fill2" bs=512 2>/dev/null
check "the file system is full" yes "$(df -P "$mnt" | awk 'NR == 2 {print ($4 == 0) ? "yes" : "no"}')"
# Logins go on from what the store allocated ahead (made here directly in
# the store, the quick way), then are refused.
fill=$("$top_builddir/tests/test_store_full" --fill "lmdb:$mnt/store" 4)
check "logins into the store until it is full" 0 $?
echo "# logins taken after the disk filled: $fill"
check "a login on a full disk is refused" "" "$(web_login "$P" bob@example.org "$WEB_PW_BOB")"
check "an existing session validates on a full disk" 200 "$(me "$t1")"
lo=$(status "http://127.0.0.1:$P/logout" -X POST -H "Origin: $WEB_ORIGIN" -H "Cookie: $WEB_COOKIE=$t3")
check "logout answers 303 on a full disk" 303 "$lo"
check "the logged-out session is gone" 401 "$(me "$t3")"
lo=$(status "http://127.0.0.1:$P/logout/all" -X POST -H "Origin: $WEB_ORIGIN" -H "Cookie: $WEB_COOKIE=$t2")
check "logout from all devices answers 303 on a full disk" 303 "$lo"
check "bob's session is gone" 401 "$(me "$t2")"
check "alice's other session still validates" 200 "$(me "$t1")"
check_grep "the log has the documented store full line" \
    "store full: store full (no space left on the file system of $mnt/store" "$CK_TEST_TMP/ckl.log"
web_stop ckl

# checkupd on the embedded store at its map size (1 MiB).
D=$CK_TEST_TMP/webmap
web_setup "$D" "lmdb:$D/store" "[store]" "map_size = 1M" || exit 1
web_start ckm "$D/checkup.conf" || exit 1
P=$WEB_PORT
t1=$(web_login "$P" alice@example.org "$WEB_PW_ALICE")
t2=$(web_login "$P" bob@example.org "$WEB_PW_BOB")
fill=$("$top_builddir/tests/test_store_full" --fill "lmdb:$D/store" 1)
check "logins into the store until its map is full" 0 $?
echo "# logins taken to fill the map: $fill"
check "a login at the map size is refused" "" "$(web_login "$P" bob@example.org "$WEB_PW_BOB")"
check "an existing session validates at the map size" 200 "$(me "$t1")"
lo=$(status "http://127.0.0.1:$P/logout/all" -X POST -H "Origin: $WEB_ORIGIN" -H "Cookie: $WEB_COOKIE=$t2")
check "logout from all devices answers 303 at the map size" 303 "$lo"
check "bob's session is gone" 401 "$(me "$t2")"
check_grep "the log has the documented store full line" \
    "store full: store full (map size 1 MiB reached; raise [store] map_size)" "$CK_TEST_TMP/ckm.log"
for f in "$CK_TEST_TMP/ck.log" "$CK_TEST_TMP/ckl.log" "$CK_TEST_TMP/ckm.log"; do
    check_nogrep "no raw errno text in $(basename "$f")" "No space left on device" "$f"
    check_nogrep "no raw I/O error in $(basename "$f")" "Input/output error" "$f"
    check_nogrep "no record shares a line with another in $(basename "$f")" \
        "checkupd: error: checkupd:" "$f"
done
web_summary
