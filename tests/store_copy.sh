#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkup store copy: the runbook of docs/operations.md ("Adding Redis")
# on loopback. Sessions made through checkupd on the embedded store keep
# working through checkupd on Redis after the switch, with the same times
# to the second; idle and lifetime ends still apply; a lock stays; copying
# twice changes nothing; an interrupted or refused (full) copy finishes
# when run again; --verify finds a missing key; Redis back to the embedded
# store; bad input is refused; no token is ever printed.
# Redis runs with the sample ACL (conf/redis/checkup-auth.conf), and the
# copy runs as its checkup user (granted SCAN only for the copies from Redis).
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if [ -z "${REDIS_SERVER:-}" ] && ! command -v redis-server >/dev/null; then
    echo "redis-server is required (scripts/install-deps.sh installs it)"
    exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'web_stop_all; redis_stop_all' EXIT

ck=$top_builddir/checkup
fill=$top_builddir/tests/store_copy_fill
T=$CK_TEST_TMP
log=$T/copy-output.log          # everything the copy printed: no token in it
: > "$log"

# run NAME COMMAND...: output in $T/NAME.out and .err (appended to $log), status in $rc.
run() {
    _n=$1
    shift
    "$@" > "$T/$_n.out" 2> "$T/$_n.err" < /dev/null
    rc=$?
    cat "$T/$_n.out" "$T/$_n.err" >> "$log"
}

# The sample ACL with passwords made now: the admin (default user) and checkup.
admin_pw=$(openssl rand -hex 16)
user_pw=$(openssl rand -hex 16)
acl=$(sed -n "s/^user checkup on >CHANGE-ME-checkup /user checkup on >$user_pw /p" \
    "$top_srcdir/conf/redis/checkup-auth.conf")
[ -n "$acl" ] || { echo "no checkup user in conf/redis/checkup-auth.conf"; exit 1; }
port=$(redis_start copy "requirepass $admin_pw" "$acl") || exit 99
printf '%s\n' "$user_pw" > "$T/redis.pw"
chmod 600 "$T/redis.pw"
rurl="redis://127.0.0.1:$port"
admin() { redis-cli -p "$port" -a "$admin_pw" --no-auth-warning "$@"; }

# redis_conf SRC DST URL: the same configuration on Redis as the ACL user.
redis_conf() {
    sed "s|^url = lmdb:.*|url = $3\nuser = checkup\npassword_file = $T/redis.pw|" "$1" > "$2"
}

# me PORT TOKEN: GET /v1/users/me with the Bearer token; body in $T/me, status printed.
me() {
    curl -s -o "$T/me" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $2" \
        "http://127.0.0.1:$1/v1/users/me"
}
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$T/me"; }

# show CONF USER: the times of USER's one session, read without touching it.
show() {
    "$ck" -c "$1" sessions list --user "$2" > "$T/list" 2>&1
    _k=$(awk 'NR == 2 { print $1 }' "$T/list")
    "$ck" -c "$1" sessions show "$_k" --user "$2" 2>&1 |
        sed -n -e 's/^\(key\|created\|deadline\):  *//p' -e 's/^expires: *\([^(]*\) (.*/\1/p'
}

# dump: every key of db 0 with its value and absolute expiry (string and hash).
dump() {
    admin --raw EVAL "
local out, c = {}, '0'
repeat
  local r = redis.call('SCAN', c, 'COUNT', 1000)
  c = r[1]
  for _, k in ipairs(r[2]) do
    local t, v = redis.call('TYPE', k).ok, ''
    if t == 'string' then v = redis.call('GET', k) .. '@' .. redis.call('PEXPIRETIME', k)
    elseif t == 'hash' then
      local h = redis.call('HGETALL', k)
      local f = {}
      for i = 1, #h, 2 do f[#f + 1] = h[i] .. '=' .. h[i + 1] end
      table.sort(f)
      v = table.concat(f, ',') .. '@' .. redis.call('PEXPIRETIME', k)
    elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), ',')
    end
    out[#out + 1] = k .. ' ' .. t .. ' ' .. v
  end
until c == '0'
table.sort(out)
return out" 0 | od -c
}

# ---- phase 1: one instance on the embedded store ----------------------------
d=$T/main
web_setup "$d" "lmdb:$d/store" || exit 99
redis_conf "$d/checkup.conf" "$d/redis.conf" "$rurl/0"
web_start lm "$d/checkup.conf" || exit 99
lp=$WEB_PORT
ta=$(web_login "$lp" alice@example.org "$WEB_PW_ALICE")
tb=$(web_login "$lp" bob@example.org "$WEB_PW_BOB")
check "alice logs in on the embedded store" yes "$([ -n "$ta" ] && echo yes)"
check "bob logs in on the embedded store" yes "$([ -n "$tb" ] && echo yes)"
check "alice's session answers on the embedded store" 200 "$(me "$lp" "$ta")"
a_created=$(field created) a_deadline=$(field deadline)
# bob's account is locked (5 failures); his session lives on.
for i in 1 2 3 4 5; do web_login "$lp" bob@example.org wrong-password >/dev/null; done
check "bob's account is locked on the embedded store" "" \
    "$(web_login "$lp" bob@example.org "$WEB_PW_BOB")"
"$ck" -c "$d/checkup.conf" lockout list > "$T/locks-lmdb" 2>&1
check_grep "lockout list shows bob on the embedded store" bob@example.org "$T/locks-lmdb"

# ---- phase 2: add Redis: copy, switch, copy again, verify ---------------------
run copy1 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0"
check "the first copy succeeds" 0 "$rc"
check_grep "it copies both sessions" "2 sessions: 2 copied, 0 already there" "$T/copy1.err"
check_grep "it reports the end" "; done" "$T/copy1.err"
check_grep "and is audited once" '"event":"store_copied"' "$d/audit.jsonl"
# A keep-alive on the embedded store after the first copy, a second later.
sleep 1.1
check "bob keeps his session alive on the embedded store" 200 "$(me "$lp" "$tb")"
b_expires=$(field expires)
a_show=$(show "$d/checkup.conf" alice@example.org)
web_stop lm
web_start rd "$d/redis.conf" || exit 99
rp=$WEB_PORT
run copy2 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0"
check "the second copy succeeds" 0 "$rc"
check_grep "it brings bob's keep-alive over" "2 sessions: 0 copied, 1 already there, 1 updated" \
    "$T/copy2.err"
run verify1 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0" --verify
check "verify finds no difference" 0 "$rc"
check "alice's session shows the same times on Redis (created, expires, deadline)" \
    "$a_show" "$(show "$d/redis.conf" alice@example.org)"
check "bob's session answers through checkupd on Redis" 200 "$(me "$rp" "$tb")"
check "alice's session answers through checkupd on Redis" 200 "$(me "$rp" "$ta")"
check "with the same creation time" "$a_created" "$(field created)"
check "and the same deadline" "$a_deadline" "$(field deadline)"
me "$rp" "$tb" > /dev/null
[ "$(field expires)" -ge "$b_expires" ] && ok=yes || ok=no
check "bob's expiry on Redis is no earlier than his last keep-alive gave" yes "$ok"
check "bob's account is still locked on Redis" "" "$(web_login "$rp" bob@example.org "$WEB_PW_BOB")"
"$ck" -c "$d/redis.conf" lockout list > "$T/locks-redis" 2>&1
check_grep "lockout list shows bob on Redis" bob@example.org "$T/locks-redis"
"$ck" -c "$d/checkup.conf" metrics --json > "$T/m-lmdb" 2>&1
"$ck" -c "$d/redis.conf" metrics --json > "$T/m-redis" 2>&1
created() { sed -n 's/.*"created":\([0-9]*\).*/\1/p' "$1"; }
check "the created counter came over" "$(created "$T/m-lmdb")" "$(created "$T/m-redis")"
check_grep "and the address the failures came from" 127.0.0.1 "$T/locks-redis"
"$ck" -c "$d/redis.conf" lockout clear --address 127.0.0.1 > /dev/null 2>&1
check "once the address is cleared on Redis, alice logs in there" yes \
    "$([ -n "$(web_login "$rp" alice@example.org "$WEB_PW_ALICE")" ] && echo yes)"
check "and bob's account stays locked" "" "$(web_login "$rp" bob@example.org "$WEB_PW_BOB")"
# A lock made on Redis under the sample ACL is indexed too (lockout list).
for i in 1 2 3 4 5; do
    printf 'wrong-password\n' | "$ck" -c "$d/redis.conf" login alice@example.org \
        --password-stdin --rhost 192.0.2.7 > /dev/null 2>> "$T/lock-redis.err"
done
"$ck" -c "$d/redis.conf" lockout list > "$T/locks-redis2" 2>&1
check_grep "a lock made on Redis is listed" "alice@example.org" "$T/locks-redis2"
check_nogrep "with no permission error on the way" NOPERM "$T/lock-redis.err"
check_nogrep "with no permission error on the way" NOPERM "$CK_TEST_TMP/rd.log"

# Twice is the same: a third run writes nothing and the keyspace is unchanged.
run copy3 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0"
dump > "$T/dump1"
run copy3b "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0"
dump > "$T/dump2"
check "a copy run twice succeeds" 0 "$rc"
check_grep "and the second writes nothing" \
    "0 copied, 2 already there, 0 updated, 0 skipped (ended)" "$T/copy3b.err"
check_grep "not even a counter or a lock" "0 failure counters and 0 locks written" "$T/copy3b.err"
check "the Redis keyspace is the same after it" same \
    "$(cmp -s "$T/dump1" "$T/dump2" && echo same || echo different)"

# --verify finds a session missing on the target, and names it by key only.
a_key=$(echo "$a_show" | head -1)
# The key ends with the raw hash; its hash tag depends on the session's tag.
admin EVAL "local h = ARGV[1]
local raw = string.gsub(string.sub(h, 3), '..', function(x) return string.char(tonumber(x, 16)) end)
local cur, n = '0', 0
repeat
  local r = redis.call('SCAN', cur, 'MATCH', 'ck:s:{*', 'COUNT', 1000)
  cur = r[1]
  for _, k in ipairs(r[2]) do
    if string.sub(k, -32) == raw then n = n + redis.call('DEL', k) end
  end
until cur == '0'
return n" 0 "$a_key" > "$T/del"
check "alice's session key is deleted on Redis" 1 "$(cat "$T/del")"

run verify2 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0" --verify
check "verify fails when a session is missing" 1 "$rc"
check_grep "and lists it by key" "$a_key: missing on the target" "$T/verify2.out"
check_grep "and the user index that lacks it" "sessions missing from the index" "$T/verify2.out"
run copy4 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0"
run verify3 "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "$rurl/0" --verify
check "a copy puts it back" 0 "$rc"

# ---- idle and lifetime still end sessions after the copy --------------------------
s=$T/short
web_setup "$s" "lmdb:$s/store" "[session]" "inactivity_timeout = 3" "absolute_lifetime = 7" ||
    exit 99
redis_conf "$s/checkup.conf" "$s/redis.conf" "$rurl/1"
web_start sl "$s/checkup.conf" || exit 99
start=$(date +%s)
t1=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE")
t2=$(web_login "$WEB_PORT" bob@example.org "$WEB_PW_BOB")
web_stop sl
run copys "$ck" -c "$s/redis.conf" store copy --from "lmdb:$s/store" --to "$rurl/1"
check "the short sessions are copied" 0 "$rc"
web_start sr "$s/redis.conf" || exit 99
check "a short session answers on Redis" 200 "$(me "$WEB_PORT" "$t1")"
# t1 is kept alive every second; t2, never touched, idles out after 3 s.
alive=0 idle=
while [ "$(me "$WEB_PORT" "$t1")" = 200 ] && [ $alive -lt 12 ]; do
    alive=$((alive + 1))
    if [ -z "$idle" ] && [ $(($(date +%s) - start)) -ge 4 ]; then
        idle=$(me "$WEB_PORT" "$t2")
        cp "$T/me" "$T/me-idle"
    fi
    sleep 1
done
ended=$(date +%s)
check_grep "the kept-alive one ends at its lifetime" session_expired_lifetime "$T/me"
[ $((ended - start)) -ge 6 ] && [ $((ended - start)) -le 9 ] && ok=yes || ok=no
check "at its deadline, not before ($((ended - start)) s after the login)" yes "$ok"
check "the untouched one ends on Redis" 401 "$idle"
check_grep "as idle" session_expired_idle "$T/me-idle"
web_stop sr

# ---- many sessions: an interrupted copy, a full target, and back ----------------
b=$T/big
mkdir -p "$b"
printf '[store]\nurl = %s\nuser = checkup\npassword_file = %s\n' "$rurl/2" "$T/redis.pw" \
    > "$b/src.conf"
"$fill" "$b/src.conf" 5000 > /dev/null || exit 99
# The sample ACL does not let checkup list keys: SCAN would show it every
# key name on the server, not only ck:*. A copy from Redis says so, and
# runs once SCAN is granted for it.
admin -n 6 SET other-app:session:s3cret-sid x > /dev/null
check "the sample ACL's checkup user cannot list other applications' keys" "" \
    "$(redis-cli -p "$port" --user checkup --pass "$user_pw" --no-auth-warning -n 6 SCAN 0 2>&1 |
        grep other-app)"
run noscan "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "$rurl/3"
check "a copy from Redis without SCAN is refused" 1 "$rc"
check_grep "  saying what the ACL refused" "NOPERM" "$T/noscan.err"
admin ACL SETUSER checkup +scan > /dev/null
: > "$b/kill.err"
"$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "$rurl/3" > /dev/null 2> "$b/kill.err" &
cp=$!
i=0
while ! grep -q "sessions:" "$b/kill.err" && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
kill -9 $cp 2>/dev/null
wait $cp 2>/dev/null
cat "$b/kill.err" >> "$log"
check_nogrep "the killed copy did not report done" "done" "$b/kill.err"
run resume "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "$rurl/3"
check "the copy run again finishes" 0 "$rc"
check_grep "with progress lines on the way" "sessions: " "$T/resume.err"
already=$(sed -n 's/.*: \([0-9]*\) copied, \([0-9]*\) already there.*/\2/p' "$T/resume.err" | tail -1)
[ "${already:-0}" -gt 0 ] && ok=yes || ok=no
check "it finds what the killed run wrote (${already:-0} already there)" yes "$ok"
check_grep "and ends with all 5000" "5000 sessions:" "$T/resume.err"
run verifyb "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "$rurl/3" --verify
check "Redis to Redis verifies" 0 "$rc"

# A full Redis (maxmemory, noeviction) stops the copy with the server's reason.
used=$(admin INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
admin CONFIG SET maxmemory $((used + 400000)) > /dev/null
run oom "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "$rurl/5"
admin CONFIG SET maxmemory 0 > /dev/null
check "a full Redis stops the copy" 1 "$rc"
check_grep "saying so" "target store: store full" "$T/oom.err"
check_grep "with the server's reason" "OOM" "$T/oom.err"
check_nogrep "and no report of done" "done" "$T/oom.err"
run oom2 "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "$rurl/5"
check "with room again, the same command finishes" 0 "$rc"

# Back to the embedded store: first into one too small (refused, clearly), then again.
printf 'map_size = 1M\n' | cat "$b/src.conf" - > "$b/small.conf"
run full "$ck" -c "$b/small.conf" store copy --from "$rurl/2" --to "lmdb:$b/back"
check "a full target stops the copy" 1 "$rc"
check_grep "with a clear error" "target store: store full" "$T/full.err"
check_nogrep "and no report of done" "done" "$T/full.err"
run back "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "lmdb:$b/back"
check "Redis to the embedded store, run again with room, finishes" 0 "$rc"
run verifyl "$ck" -c "$b/src.conf" store copy --from "$rurl/2" --to "lmdb:$b/back" --verify
check "and verifies" 0 "$rc"
printf '[store]\nurl = lmdb:%s/back\n' "$b" > "$b/back.conf"
"$ck" -c "$b/back.conf" metrics --json > "$T/m-back" 2>&1
check_grep "the embedded store counts the 5000 as active" '"active":5000' "$T/m-back"

admin ACL SETUSER checkup -scan > /dev/null

# ---- bad input -------------------------------------------------------------------
run same "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "lmdb:$d/store/"
check "the same directory on both sides is refused" 2 "$rc"
check_grep "saying why" "name the same store" "$T/same.err"
run same2 "$ck" -c "$d/redis.conf" store copy --from "$rurl/0" --to "redis://127.0.0.1:$port"
check "the same Redis on both sides is refused" 2 "$rc"
run down "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" --to "redis://127.0.0.1:1/0"
check "an unreachable target is refused" 1 "$rc"
check_grep "naming it" "target store redis://127.0.0.1:1/0" "$T/down.err"
run downpw "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/store" \
    --to "redis://checkup:$user_pw@127.0.0.1:1/0"
check "an unreachable target named with its password is refused" 1 "$rc"
check_grep "naming it without the password" "target store redis://checkup:***@127.0.0.1:1/0" \
    "$T/downpw.err"
check_nogrep "  the password is not printed" "$user_pw" "$T/downpw.err"
printf '[store]\nurl = lmdb:%s/open\n' "$T" > "$T/open.conf"
"$fill" "$T/open.conf" 1 > /dev/null || exit 99
chmod 0777 "$T/open"
run unsafe "$ck" -c "$d/redis.conf" store copy --from "lmdb:$T/open" --to "$rurl/4"
check "a store others can write is refused" 1 "$rc"
check_grep "by the file policy" "lets others write it" "$T/unsafe.err"
run typo "$ck" -c "$d/redis.conf" store copy --from "lmdb:$d/stroe" --to "$rurl/4"
check "a source that is not there is refused" 1 "$rc"
check_grep "not taken for an empty store" "no store there" "$T/typo.err"
check "and not created" no "$([ -e "$d/stroe" ] && echo yes || echo no)"
run nofrom "$ck" -c "$d/redis.conf" store copy --to "$rurl/4"
check "--from is required" 2 "$rc"

# ---- no token in anything the copy printed -------------------------------------------
for t in "$ta" "$tb" "$t1" "$t2"; do
    [ -n "$t" ] || continue
    check_nogrep "no token in the copy's output" "$t" "$log"
    check_nogrep "nor its payload" "$(echo "$t" | cut -d. -f2)" "$log"
done
# Under the sanitizers (configure --enable-sanitizers), nothing reported.
check_nogrep "no sanitizer report from the copy" "runtime error" "$log"
check_nogrep "no leak or overflow report from the copy" "AddressSanitizer" "$log"
web_summary
