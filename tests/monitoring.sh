#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# conf/monitoring works as shipped:
#  - the alert rules pass `promtool check rules` and their own unit tests
#    (`promtool test rules`, which fail if a threshold or a label moves);
#  - every metric the rules and the Grafana dashboard name is one that a
#    real checkupd's /metrics exposes, on Redis (whose memory figures the
#    rules use too) and on the embedded store.
# Every server started here is stopped by pid.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if ! command -v promtool >/dev/null 2>&1; then
    echo "FAIL: promtool is required (package prometheus, scripts/install-deps.sh)"
    exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'web_stop_all; redis_stop_all' EXIT INT TERM
mon=$top_srcdir/conf/monitoring
d=$CK_TEST_TMP/monitoring
mkdir -p "$d"

out=$(cd "$mon" && promtool check rules checkup-alerts.yml 2>&1)
check "promtool check rules: $(echo "$out" | tail -1 | sed 's/^ *//')" 0 $?
out=$(cd "$mon" && promtool test rules checkup-alerts.test.yml 2>&1)
rc=$?
check "promtool test rules" 0 $rc
[ $rc -eq 0 ] || echo "$out"

# The metric names the rules and the dashboard use: every checkup_* word
# of an expression.
python3 - "$mon/checkup-alerts.yml" "$mon/checkup-dashboard.json" > "$d/used" <<'PY'
import json, re, sys, yaml
exprs = [r["expr"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr":
                exprs.append(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(open(sys.argv[2])))
for name in sorted({m for e in exprs for m in re.findall(r"\bcheckup_[a-z_]+\b", e)}):
    print(name)
PY
check "the rules and the dashboard name metrics" yes "$([ -s "$d/used" ] && echo yes || echo no)"

# What /metrics really exposes, from checkupd on each store.
port=$(redis_start monitoring) || exit 99
for store in "redis://127.0.0.1:$port/0" "lmdb:$d/store"; do
    name=$(echo "$store" | cut -d: -f1)
    web_setup "$d/$name" "$store" || exit 99
    web_start "mon-$name" "$d/$name/checkup.conf" || exit 99
    curl -s "http://127.0.0.1:$WEB_PORT/metrics" > "$d/$name.metrics"
    web_stop "mon-$name"
    sed -n 's/^\(checkup_[a-z_]*\)[{ ].*/\1/p' "$d/$name.metrics" | sort -u > "$d/$name.exposed"
    check "checkupd on $name exposes metrics" yes "$([ -s "$d/$name.exposed" ] && echo yes || echo no)"
done
# Redis-only figures (memory) need only be on Redis; the rest on both.
for m in $(cat "$d/used"); do
    case $m in
    checkup_redis_*) stores=redis ;;
    *) stores="redis lmdb" ;;
    esac
    for s in $stores; do
        grep -qx "$m" "$d/$s.exposed" && r=exposed || r=missing
        check "$m on $s" exposed "$r"
    done
done
# The check itself can fail: a name /metrics does not have is caught.
grep -qx checkup_sessions_alive "$d/redis.exposed" && r=exposed || r=missing
check "a misspelt metric is caught" missing "$r"
web_summary
