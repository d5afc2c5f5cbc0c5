#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd benchmark (not part of make check). Run from the build directory:
#     sh ../bench/web.sh
# wrk at 50 connections for DURATION seconds (default 10), ROUNDS times
# (default 3, interleaved, median kept) against:
#   - checkupd GET /session with a valid cookie, on the embedded store;
#   - the same on a real redis-server on loopback;
#   - nginx (worker_processes auto) returning a static 204, in the same run,
#     as the reference for what this machine serves at all.
# Every /session call verifies the token and touches the session in the
# store (the sliding timeout). With one session, as here, the embedded
# store writes once a second and answers the other touches of that second
# from a read transaction (docs/design.md, checkupd). Everything runs on loopback and is
# stopped by pid on exit. THREADS sets checkupd's worker threads.
# The last line is the RESULT; session_vs_nginx = lmdb rps / nginx rps.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
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

# web_bench_start NAME STORE_URL: a daemon on that store and a token; sets
# URL_<NAME> and TOK_<NAME>.
web_bench_start() {
    d="$CK_TEST_TMP/$1"
    web_setup "$d" "$2" "threads = $THREADS" "login_rate_limit = 0"
    web_start "$1" "$d/checkup.conf"
    tok=$(web_login "$WEB_PORT" alice@example.org "$WEB_PW_ALICE")
    [ -n "$tok" ] || { echo "$1: login failed" >&2; exit 1; }
    eval "URL_$1=http://127.0.0.1:$WEB_PORT/session TOK_$1=\$tok"
}

median() {
    sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

port=$(redis_start bench)
web_bench_start lmdb "lmdb:$CK_TEST_TMP/lmdb/store"
web_bench_start redis "redis://127.0.0.1:$port/0"
printf '%s\n' "listen 127.0.0.1:@PORT@;" "location = /static204 { access_log off; return 204; }" \
    > "$CK_TEST_TMP/block"
NGINX_WORKERS=auto
nport=$(nginx_start bench "$CK_TEST_TMP/block")

# Rounds interleave the three targets so that a busy neighbour on the
# machine weighs on all of them alike; each figure is the median round.
: > "$CK_TEST_TMP/rounds"
r=0
while [ $r -lt "$ROUNDS" ]; do
    r=$((r + 1))
    echo "nginx $(wrk_run nginx "http://127.0.0.1:$nport/static204")" >> "$CK_TEST_TMP/rounds"
    echo "lmdb $(wrk_run lmdb "$URL_lmdb" "Cookie: $WEB_COOKIE=$TOK_lmdb")" >> "$CK_TEST_TMP/rounds"
    echo "redis $(wrk_run redis "$URL_redis" "Cookie: $WEB_COOKIE=$TOK_redis")" >> "$CK_TEST_TMP/rounds"
done
if awk 'NF != 3 {bad = 1} END {exit !bad}' "$CK_TEST_TMP/rounds"; then
    echo "a wrk run failed:" >&2
    cat "$CK_TEST_TMP/rounds" >&2
    exit 1
fi
for t in nginx lmdb redis; do
    eval "${t}_rps=\$(awk -v t=$t '\$1 == t {print \$2}' \"\$CK_TEST_TMP/rounds\" | median)"
    eval "${t}_p99=\$(awk -v t=$t '\$1 == t {print \$3}' \"\$CK_TEST_TMP/rounds\" | median)"
done
web_stop lmdb
web_stop redis

echo "rounds (target rps p99_ms):"
sed 's/^/  /' "$CK_TEST_TMP/rounds"
echo "checkupd /session, $CONNS connections, ${DURATION}s x $ROUNDS rounds, $THREADS threads, $(nproc) cores:"
echo "  lmdb:  $lmdb_rps req/s, p99 $lmdb_p99 ms"
echo "  redis: $redis_rps req/s, p99 $redis_p99 ms"
echo "nginx static 204: $nginx_rps req/s, p99 $nginx_p99 ms"
ratio=$(awk -v a="$lmdb_rps" -v b="$nginx_rps" 'BEGIN {printf "%.3f", a / b}')
printf 'RESULT session_rps_redis=%.0f session_rps_lmdb=%.0f session_vs_nginx=%s p99_ms=%s\n' \
    "$redis_rps" "$lmdb_rps" "$ratio" "$lmdb_p99"
