#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd benchmark (not part of make check). Run from the build directory:
#     sh ../bench/web.sh
# wrk at 50 connections for DURATION seconds (default 10), ROUNDS times
# (default 3, interleaved, median kept) against:
#   - checkupd GET /session with a valid cookie, on the embedded store;
#   - the same on a real redis-server on loopback;
#   - the same two over SESSIONS distinct sessions (default 10,000) of
#     USERS users (default 100), one cookie per request, round robin
#     (bench/web_session.lua), so that a session comes back only after all
#     the others: on Redis every touch writes; on LMDB a touch writes when
#     its session was last touched in an earlier second (the script prints
#     the share of such touches from the rate);
#   - nginx (worker_processes auto) returning a static 204, in the same run,
#     as the reference for what this machine serves at all.
# Every /session call verifies the token and touches the session in the
# store (the sliding timeout). With one session, the embedded store writes
# once a second and answers the other touches of that second from a read
# transaction (docs/design.md, checkupd). The LMDB store is on tmpfs
# (/dev/shm; LMDB_TMP overrides), as its default /run/checkup usually is;
# on a disk each write touch waits for fdatasync. The many sessions are made by
# bench/web_mint (the record a password login writes, without its hash).
#
# Then the storm, on each store: the many-session /session load again,
# while a second wrk (STORM_CONNS connections, default 16) posts
# wrong-password logins for unknown user names (each costs a hash) from
# 1,000 client addresses (X-Forwarded-For; checkupd trusts it from
# 127.0.0.1 here) as fast as checkupd answers them. Each round runs the
# storm right after the store's many-session run, so the two are measured
# side by side; storm_p99_ratio is /session's p99 during the storm over
# its p99 in the run before, the median round, the higher of the two
# stores (a single p99 of this machine moves by 2x from run to run); any
# /session answer but 200 during a storm fails the run.
#
# Last, login_bytes_per_session: a fresh redis-server and checkupd, LOGINS
# (default 1,000) password logins through POST /login, round robin over the
# USERS users, after a first login that loads the scripts and 64 of
# alice's that open checkupd's Redis connections; the growth of INFO
# used_memory over the logins / LOGINS (every key a login leaves: session,
# user index, metrics buckets, counters, and the key tables' entries),
# each read 7 s after the last request, when Redis has shrunk the clients'
# transient buffers, less what is left of those (MEMORY STATS
# clients.normal).
#
# Everything runs on loopback and is stopped by pid on exit. THREADS sets
# checkupd's worker threads. The last line is the RESULT; session_vs_nginx
# = lmdb rps / nginx rps (one session), session_many_vs_nginx and
# session_many_redis_vs_nginx the same over the many sessions.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-4}
SESSIONS=${SESSIONS:-10000}
USERS=${USERS:-100}
LOGINS=${LOGINS:-1000}
STORM_CONNS=${STORM_CONNS:-16}
CONNS=50
command -v wrk >/dev/null || { echo "wrk is required (scripts/install-deps.sh)" >&2; exit 1; }
make -C "$top_builddir" checkupd checkup bench/web_mint >/dev/null

. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/load_common.sh"
# The embedded store lives where its default does, on tmpfs (/run/checkup):
# on a disk every write touch waits for fdatasync (LMDB_TMP overrides).
LMDB_DIR=$(mktemp -d "${LMDB_TMP:-/dev/shm}/ck-web.XXXXXX")
trap 'nginx_stop_all; web_stop_all; redis_stop_all; rm -rf "$LMDB_DIR"' EXIT
trap 'exit 1' INT TERM

# p99_of FILE: wrk's 99% latency in ms.
p99_of() {
    awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
         printf "%.2f", v}' "$1"
}

# wrk_check NAME FILE: every answer 2xx, no socket error or timeout.
wrk_check() {
    if grep -q "Non-2xx" "$2" || grep -q "Socket errors" "$2"; then
        echo "$1: errors:" >&2
        cat "$2" >&2
        exit 1
    fi
}

# wrk_run NAME URL [HEADER | -s SCRIPT ARGS...]: prints "rps p99_ms"; the
# full output is kept.
wrk_run() {
    _n=$1 _u=$2
    shift 2
    out="$CK_TEST_TMP/wrk-$_n.txt"
    case ${1:-} in
    "") wrk -t2 -c$CONNS -d"${DURATION}s" --timeout 5s --latency "$_u" > "$out" ;;
    -s) _s=$2
        shift 2
        wrk -t2 -c$CONNS -d"${DURATION}s" --timeout 5s --latency -s "$_s" "$_u" -- "$@" \
            > "$out" ;;
    *) wrk -t2 -c$CONNS -d"${DURATION}s" --timeout 5s --latency -H "$1" "$_u" > "$out" ;;
    esac
    wrk_check "$_n" "$out"
    echo "$(awk '/^Requests\/sec:/ {print $2}' "$out") $(p99_of "$out")"
}

# web_bench_start NAME STORE_URL: a daemon on that store with users
# load1..load$USERS, a token of alice's and $SESSIONS minted sessions in
# $CK_TEST_TMP/NAME/tokens; sets URL_<NAME> and TOK_<NAME>.
web_bench_start() {
    d="$CK_TEST_TMP/$1"
    load_setup "$d" "$2" "$USERS" "threads = $THREADS" "login_rate_limit = 0" \
        "trusted_proxies = 127.0.0.1"
    web_start "$1" "$d/checkup.conf"
    tok=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE")
    [ -n "$tok" ] || { echo "$1: login failed" >&2; exit 1; }
    eval "URL_$1=http://127.0.0.1:$WEB_PORT/session TOK_$1=\$tok PORT_$1=$WEB_PORT"
    t0=$(date +%s.%N)
    "$top_builddir/bench/web_mint" "$d/checkup.conf" "$SESSIONS" "$USERS" "$d/tokens"
    echo "$1: $SESSIONS sessions of $USERS users made in" \
        "$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s"
}

median() {
    sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

port=$(redis_start bench)
web_bench_start lmdb "lmdb:$LMDB_DIR/store"
web_bench_start redis "redis://127.0.0.1:$port/0"
printf '%s\n' "listen 127.0.0.1:@PORT@;" "location = /static204 { access_log off; return 204; }" \
    > "$CK_TEST_TMP/block"
NGINX_WORKERS=auto
nport=$(nginx_start bench "$CK_TEST_TMP/block")
LUA_SESSION=$top_srcdir/bench/web_session.lua

# storm NAME: the many-session load with the login storm beside it; prints
# "rps p99_ms logins_per_s" and the storm's statuses to NAME's storm file.
storm() {
    _p=$(eval echo "\$PORT_$1")
    wrk -t1 -c"$STORM_CONNS" -d"$((DURATION + 2))s" --timeout 10s \
        -s "$top_srcdir/bench/web_storm.lua" "http://127.0.0.1:$_p/login" -- "$WEB_ORIGIN" 1000 \
        > "$CK_TEST_TMP/storm-$1.txt" 2>&1 &
    _sp=$!
    sleep 1
    _rp=$(wrk_run "storm_$1" "$(eval echo "\$URL_$1")" -s "$LUA_SESSION" \
        "$CK_TEST_TMP/$1/tokens" 2)
    wait "$_sp" || { echo "storm wrk failed:" >&2; cat "$CK_TEST_TMP/storm-$1.txt" >&2; exit 1; }
    echo "$_rp $(awk -v d=$((DURATION + 2)) '/^ +[0-9]+ requests in/ {printf "%.1f", $1 / d}' \
        "$CK_TEST_TMP/storm-$1.txt")"
}

# Rounds interleave the targets so that a busy neighbour on the machine
# weighs on all of them alike; each figure is the median round.
: > "$CK_TEST_TMP/rounds"
r=0
while [ $r -lt "$ROUNDS" ]; do
    r=$((r + 1))
    echo "nginx $(wrk_run nginx "http://127.0.0.1:$nport/static204")" >> "$CK_TEST_TMP/rounds"
    echo "lmdb $(wrk_run lmdb "$URL_lmdb" "Cookie: $WEB_COOKIE=$TOK_lmdb")" >> "$CK_TEST_TMP/rounds"
    echo "redis $(wrk_run redis "$URL_redis" "Cookie: $WEB_COOKIE=$TOK_redis")" >> "$CK_TEST_TMP/rounds"
    echo "lmdb_many $(wrk_run lmdb_many "$URL_lmdb" -s "$LUA_SESSION" \
        "$CK_TEST_TMP/lmdb/tokens" 2)" >> "$CK_TEST_TMP/rounds"
    echo "storm_lmdb $(storm lmdb)" >> "$CK_TEST_TMP/rounds"
    echo "redis_many $(wrk_run redis_many "$URL_redis" -s "$LUA_SESSION" \
        "$CK_TEST_TMP/redis/tokens" 2)" >> "$CK_TEST_TMP/rounds"
    echo "storm_redis $(storm redis)" >> "$CK_TEST_TMP/rounds"
done
if awk 'NF != ($1 ~ /^storm_/ ? 4 : 3) {bad = 1} END {exit !bad}' "$CK_TEST_TMP/rounds"; then
    echo "a wrk run failed:" >&2
    cat "$CK_TEST_TMP/rounds" >&2
    exit 1
fi
for t in nginx lmdb redis lmdb_many redis_many storm_lmdb storm_redis; do
    eval "${t}_rps=\$(awk -v t=$t '\$1 == t {print \$2}' \"\$CK_TEST_TMP/rounds\" | median)"
    eval "${t}_p99=\$(awk -v t=$t '\$1 == t {print \$3}' \"\$CK_TEST_TMP/rounds\" | median)"
done
# storm_ratios STORE: each round's storm p99 over the many-session p99 just before it.
storm_ratios() {
    awk -v s="$1" '$1 == s "_many" {p = $3} $1 == "storm_" s {printf "%.2f\n", $3 / p}' \
        "$CK_TEST_TMP/rounds"
}

web_stop lmdb
web_stop redis

# Redis bytes per session through the real login path.
# Redis 7 also gives each command a latency histogram (some 24 KB) on its
# first call, whoever makes it (the INFO below, a fold's HDEL): server
# statistics of a fixed size, not session data, so the server that counts
# keeps none.
lport=$(redis_start logins "latency-tracking no")
d="$CK_TEST_TMP/logins"
load_setup "$d" "redis://127.0.0.1:$lport/0" "$USERS" "threads = $THREADS" "login_rate_limit = 0"
web_start logins "$d/checkup.conf"
[ -n "$(web_login "$WEB_PORT" load1@example.org "$(cat "$d/pw")")" ] ||
    { echo "logins: the first login failed" >&2; exit 1; }
# login_run N EMAIL PWFILE [PARALLEL]: N password logins, 4 (PARALLEL) at a
# time, @N@ in EMAIL going round robin over 1..USERS; statuses in
# $CK_TEST_TMP/login-codes.
login_run() {
    i=0
    while [ $i -lt "$1" ]; do
        i=$((i + 1))
        echo "$2" | sed "s/@N@/$(( (i - 1) % USERS + 1 ))/"
    done | timeout 600 xargs -P "${4:-4}" -I {} curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
        -H "Origin: $WEB_ORIGIN" --data-urlencode "email={}" --data-urlencode "password@$3" \
        "http://127.0.0.1:$WEB_PORT/login" > "$CK_TEST_TMP/login-codes"
}
# checkupd opens a worker's Redis connection on the worker's first store
# call, and Redis keeps some 19 KB per connection (its reply buffer and
# client state) for as long as it stays open: logins by another user
# first, 8 at a time, so the connections are open before the count starts
# and what it measures is what the logins store.
(umask 077; printf '%s' "$WEB_PW_ALICE" > "$d/pw-alice")
login_run 64 alice@example.org "$d/pw-alice" 8
[ "$(grep -c '^303$' "$CK_TEST_TMP/login-codes")" -eq 64 ] ||
    { echo "logins: alice's logins failed" >&2; exit 1; }
conns() { redis-cli -p "$lport" info clients | sed -n 's/^connected_clients:\([0-9]*\).*/\1/p'; }
used() { redis-cli -p "$lport" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
# mem_stat NAME: a top-level field of MEMORY STATS.
mem_stat() { redis-cli -p "$lport" memory stats | awk -v k="$1" 'p {print; exit} $0 == k {p = 1}'; }
# Redis shrinks an idle client's buffers within seconds (3 s were not
# always enough: once 61 KB were still held at the first reading): what is
# left is what the logins stored, not the connections' transient buffers.
sleep 7
m0=$(used) ds0=$(mem_stat dataset.bytes) cl0=$(mem_stat clients.normal) cn0=$(conns)
login_run "$LOGINS" "load@N@@example.org" "$d/pw"
sleep 7
m1=$(used) ds1=$(mem_stat dataset.bytes) cl1=$(mem_stat clients.normal) cn1=$(conns)
ok=$(grep -c '^303$' "$CK_TEST_TMP/login-codes" || true)
[ "$ok" -eq "$LOGINS" ] || { echo "logins: $ok of $LOGINS succeeded" >&2; exit 1; }
nkeys=$(redis-cli -p "$lport" dbsize)
web_stop logins
bytes=$(awk -v a="$m0" -v b="$m1" -v c="$((cl1 - cl0))" -v n="$LOGINS" \
    'BEGIN {printf "%.0f", (b - a - c) / n}')

echo "rounds (target rps p99_ms):"
sed 's/^/  /' "$CK_TEST_TMP/rounds"
echo "load average: $(uptime | sed 's/.*load average: //')"
echo "checkupd /session, $CONNS connections, ${DURATION}s x $ROUNDS rounds, $THREADS threads, $(nproc) cores:"
echo "  lmdb:  $lmdb_rps req/s, p99 $lmdb_p99 ms (one session)"
echo "  redis: $redis_rps req/s, p99 $redis_p99 ms (one session)"
echo "  lmdb:  $lmdb_many_rps req/s, p99 $lmdb_many_p99 ms ($SESSIONS sessions round robin;" \
    "touches that write: $(awk -v r="$lmdb_many_rps" -v n="$SESSIONS" \
    'BEGIN {w = n / r; printf "%.0f%%", (w >= 1 ? 1 : w) * 100}') at most)"
echo "  redis: $redis_many_rps req/s, p99 $redis_many_p99 ms ($SESSIONS sessions round robin)"
echo "nginx static 204: $nginx_rps req/s, p99 $nginx_p99 ms"
for s in lmdb redis; do
    echo "storm on $s: /session $(eval echo "\$storm_${s}_rps") req/s, p99" \
        "$(eval echo "\$storm_${s}_p99") ms (median rounds) during" \
        "$(awk -v s="storm_$s" '$1 == s {print $4}' "$CK_TEST_TMP/rounds" | median)" \
        "wrong-password logins/s ($STORM_CONNS connections, 1000 addresses); p99 ratio by round:" \
        "$(storm_ratios $s | tr '\n' ' '); statuses of the last:" \
        "$(sed -n 's/^storm status //p' "$CK_TEST_TMP/storm-$s.txt" | tr '\n' ' ')"
done
echo "logins: $LOGINS through checkupd grew redis used_memory by $((m1 - m0)) bytes" \
    "(data $((ds1 - ds0)), key tables $((m1 - m0 - (ds1 - ds0) - (cl1 - cl0))), client buffers" \
    "$((cl1 - cl0))); $nkeys keys; $((cn0 - 1)) checkupd connections before, $((cn1 - 1)) after"
ratio=$(awk -v a="$lmdb_rps" -v b="$nginx_rps" 'BEGIN {printf "%.3f", a / b}')
many=$(awk -v a="$lmdb_many_rps" -v b="$nginx_rps" 'BEGIN {printf "%.3f", a / b}')
many_r=$(awk -v a="$redis_many_rps" -v b="$nginx_rps" 'BEGIN {printf "%.3f", a / b}')
storm_ratio=$(awk -v a="$(storm_ratios lmdb | median)" -v b="$(storm_ratios redis | median)" \
    'BEGIN {printf "%.2f", (a > b ? a : b)}')
printf 'RESULT session_rps_redis=%.0f session_rps_lmdb=%.0f session_vs_nginx=%s p99_ms=%s' \
    "$redis_rps" "$lmdb_rps" "$ratio" "$lmdb_p99"
printf ' session_many_vs_nginx=%s session_many_redis_vs_nginx=%s storm_p99_ratio=%s' \
    "$many" "$many_r" "$storm_ratio"
printf ' login_bytes_per_session=%s\n' "$bytes"
