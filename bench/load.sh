#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The design's load scenario against checkupd (not part of make check).
# Run from the build directory:    sh ../bench/load.sh
#
# VUS virtual users (default 100) ramp up over a third of DURATION (default
# 180 s), hold for half of it and ramp down over the last sixth. Each VU
# logs in (POST /v1/auth/login, JSON), calls GET /v1/users/me with the
# returned token as a Bearer token every KEEPALIVE seconds (default 3,
# +-25%) as a keep-alive, logs out (POST /v1/auth/logout) after SESSION
# seconds (default 30) and logs in again: the design's k6 scenario, which
# bench/load.k6.js keeps for k6 users. The generator is bench/load_gen
# (libcurl multi on loopback, one connection per VU, each request's own
# latency).
# It runs once on the embedded store and once on a redis-server started
# here; everything is stopped by pid on exit.
#
# References measured in the same run: the offered rates (what the VUs ask
# for at full strength; the measured rates can only match them) and the cost
# of one login on the idle daemon (the yescrypt hash dominates it), from which
# the machine's login ceiling is nproc * 1000 / login_ms.
#
# Then the PAM side of a host under a login flood (bench/pam -S STORM,
# default 10 s): token keep-alives through pam_checkup, one due every 5 ms,
# alone and then while 2 x nproc processes run password logins through the
# same module as fast as they can; pam_storm_p99_ratio = keep-alive p99
# during the flood / before it, the higher of the two stores.
#
# One "STORE" line per store; the last line is the RESULT: the lower rates,
# the higher p99 (of /v1/users/me) and the sum of the errors of the two runs,
# and pam_storm_p99_ratio.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
DURATION=${DURATION:-180}
VUS=${VUS:-100}
KEEPALIVE=${KEEPALIVE:-3}
SESSION=${SESSION:-30}
STORES=${STORES:-lmdb redis}
STORM=${STORM:-10}
make -C "$top_builddir" checkupd checkup bench/load_gen bench/pam pam_checkup.la >/dev/null

. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/bench/load_common.sh"
trap 'web_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

ramp=$(awk -v d="$DURATION" 'BEGIN {printf "%.1f", d / 3}')
hold=$(awk -v d="$DURATION" 'BEGIN {printf "%.1f", d / 2}')
down=$(awk -v d="$DURATION" 'BEGIN {printf "%.1f", d / 6}')

# login_ms PORT DIR: the median of 9 sequential logins on the idle daemon.
login_ms() {
    i=0
    while [ $i -lt 9 ]; do
        jq -cn --rawfile pw "$2/pw" '{email: "load1@example.org", password: ($pw | rtrimstr("\n"))}' |
            curl -s -o /dev/null -w '%{time_total}\n' --max-time 10 \
                -H 'Content-Type: application/json' --data-binary @- \
                "http://127.0.0.1:$1/v1/auth/login"
        i=$((i + 1))
    done | sort -n | awk '{v[NR] = $1} END {printf "%.1f", v[5] * 1000}'
}

: > "$CK_TEST_TMP/stores"
for s in $STORES; do
    d="$CK_TEST_TMP/$s"
    case $s in
    lmdb) url="lmdb:$d/store" ;;
    redis) url="redis://127.0.0.1:$(redis_start redis)/0" ;;
    *) echo "unknown store $s" >&2; exit 2 ;;
    esac
    # Every virtual user comes from 127.0.0.1: no per-address connection limit.
    load_setup "$d" "$url" "$VUS" "login_rate_limit = 0" "per_ip_connection_limit = 0"
    web_start "$s" "$d/checkup.conf"
    lms=$(login_ms "$WEB_PORT" "$d")
    echo "$s: $(uptime | sed 's/.*load/load/'); one login on the idle daemon: $lms ms"
    load_gen "$CK_TEST_TMP/gen-$s.txt" -p "$d/pw" -n "$VUS" -r "$ramp" -H "$hold" -d "$down" \
        -k "$KEEPALIVE" -s "$SESSION" || { cat "$CK_TEST_TMP/gen-$s.txt.err" >&2; exit 1; }
    cat "$CK_TEST_TMP/gen-$s.txt"
    grep -v '^load_gen: t=' "$CK_TEST_TMP/gen-$s.txt.err" >&2 || true
    rss=$(awk '/^VmHWM/ {print $2}' "/proc/$(cat "$CK_TEST_TMP/$s.web.pid")/status")
    thr=$(awk '/^Threads/ {print $2}' "/proc/$(cat "$CK_TEST_TMP/$s.web.pid")/status")
    web_stop "$s"
    [ "$WEB_RC" -eq 0 ] || { echo "$s: checkupd exited with $WEB_RC" >&2; exit 1; }
    offered_me=$(awk -v n="$VUS" -v k="$KEEPALIVE" 'BEGIN {printf "%.1f", n / k}')
    offered_login=$(awk -v n="$VUS" -v s="$SESSION" -v k="$KEEPALIVE" \
        'BEGIN {printf "%.2f", n / (s + k)}')
    ceiling=$(awk -v c="$(nproc)" -v m="$lms" 'BEGIN {printf "%.0f", c * 1000 / m}')
    echo "STORE $s $LOAD_GEN offered_me_per_s=$offered_me offered_logins_per_s=$offered_login" \
        "login_ms=$lms login_ceiling_per_s=$ceiling vmhwm_kb=$rss threads=$thr" |
        tee -a "$CK_TEST_TMP/stores"
done
echo "$(nproc) cores, $VUS VUs, stages ${ramp}s/${hold}s/${down}s, keep-alive ${KEEPALIVE}s," \
    "session ${SESSION}s; rates over the whole run, p99 of /v1/users/me"
"$top_builddir/bench/pam" -S "$STORM" > "$CK_TEST_TMP/storm.txt" 2> "$CK_TEST_TMP/storm.err" ||
    { cat "$CK_TEST_TMP/storm.txt" "$CK_TEST_TMP/storm.err" >&2; exit 1; }
grep -v '^RESULT' "$CK_TEST_TMP/storm.txt"
pam_storm=$(sed -n 's/^RESULT pam_storm_p99_ratio=//p' "$CK_TEST_TMP/storm.txt")
awk -v ps="$pam_storm" '{for (i = 3; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
      if (NR == 1 || v["logins_per_s"] < lp) lp = v["logins_per_s"]
      if (NR == 1 || v["me_per_s"] < mp) mp = v["me_per_s"]
      if (v["p99_ms"] > p99) p99 = v["p99_ms"]
      err += v["errors"]}
     END {printf "RESULT logins_per_s=%.2f me_per_s=%.2f p99_ms=%.2f errors=%d pam_storm_p99_ratio=%s\n",
                 lp, mp, p99, err, ps
          exit err != 0}' "$CK_TEST_TMP/stores"
