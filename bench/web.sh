#!/bin/sh
# checkupd benchmark (not part of make check). Run from the build directory:
#     sh ../bench/web.sh
# wrk at 50 connections for DURATION seconds (default 10) against:
#   - checkupd GET /session with a valid cookie, on the embedded store;
#   - the same on a real redis-server on loopback;
#   - nginx (worker_processes auto) returning a static 204, in the same run,
#     as the reference for what this machine serves at all.
# Every /session call verifies the token and touches the session in the
# store (a write: the sliding timeout). Everything runs on loopback and is
# stopped by pid on exit. THREADS sets checkupd's worker threads.
# The last line is the RESULT; session_vs_nginx = lmdb rps / nginx rps.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
DURATION=${DURATION:-10}
THREADS=${THREADS:-4}
CONNS=50
command -v wrk >/dev/null || { echo "wrk is required (scripts/install-deps.sh)" >&2; exit 1; }
make -C "$top_builddir" checkupd checkup >/dev/null

. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'nginx_stop_all; web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

# wrk_run NAME URL [HEADER]: prints "rps p99_ms"; the full output is kept.
wrk_run() {
    out="$CK_TEST_TMP/wrk-$1.txt"
    if [ -n "${3:-}" ]; then
        wrk -t2 -c$CONNS -d"${DURATION}s" --latency -H "$3" "$2" > "$out"
    else
        wrk -t2 -c$CONNS -d"${DURATION}s" --latency "$2" > "$out"
    fi
    grep -q "Non-2xx" "$out" && { echo "$1: non-2xx answers:" >&2; cat "$out" >&2; exit 1; }
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
              if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f", v}' "$out")
    echo "$rps $p99"
}

# session_bench NAME STORE_URL: prints "rps p99_ms" for /session on that store.
session_bench() {
    d="$CK_TEST_TMP/$1"
    web_setup "$d" "$2" "threads = $THREADS" "login_rate_limit = 0" >&2
    web_start "$1" "$d/checkup.conf" >&2
    tok=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE")
    [ -n "$tok" ] || { echo "$1: login failed" >&2; exit 1; }
    wrk_run "$1" "http://127.0.0.1:$WEB_PORT/session" "Cookie: $WEB_COOKIE=$tok"
    web_stop "$1"
}

port=$(redis_start bench)
printf '%s\n' "listen 127.0.0.1:@PORT@;" "location = /static204 { access_log off; return 204; }" \
    > "$CK_TEST_TMP/block"
NGINX_WORKERS=auto
nport=$(nginx_start bench "$CK_TEST_TMP/block")

set -- $(session_bench lmdb "lmdb:$CK_TEST_TMP/lmdb/store")
lmdb_rps=$1 lmdb_p99=$2
set -- $(session_bench redis "redis://127.0.0.1:$port/0")
redis_rps=$1 redis_p99=$2
set -- $(wrk_run nginx "http://127.0.0.1:$nport/static204")
nginx_rps=$1 nginx_p99=$2

echo "checkupd /session, $CONNS connections, ${DURATION}s, $THREADS threads, $(nproc) cores:"
echo "  lmdb:  $lmdb_rps req/s, p99 $lmdb_p99 ms"
echo "  redis: $redis_rps req/s, p99 $redis_p99 ms"
echo "nginx static 204: $nginx_rps req/s, p99 $nginx_p99 ms"
ratio=$(awk -v a="$lmdb_rps" -v b="$nginx_rps" 'BEGIN {printf "%.3f", a / b}')
printf 'RESULT session_rps_redis=%.0f session_rps_lmdb=%.0f session_vs_nginx=%s p99_ms=%s\n' \
    "$redis_rps" "$lmdb_rps" "$ratio" "$lmdb_p99"
