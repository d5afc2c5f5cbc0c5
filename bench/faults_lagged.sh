# SPDX-License-Identifier: BSD-3-Clause
# A Redis primary whose replica sits behind a lagging link, for
# tests/faults_wait.sh and bench/faults.sh (sentinel_failover_lagged).
# Source after tests/lib/redis.sh. Everything started here writes a pid
# file under $CK_TEST_TMP, so redis_stop_all stops it.
#
#   lag_relay_start NAME TARGET_PORT DELAY_MS   tests/lib/lag_relay.py; prints its port
#   lag_pair NAME DELAY_MS                      primary + relay + replica: LAG_P, LAG_R,
#                                               LAG_PPID (primary pid), LAG_RPID
#   lag_sentinels NAME                          three sentinels on LAG_P: LAG_URL
#   lag_failover_run NAME WAIT_REPLICAS N_OUT N_IN
#       N_OUT sessions made and replicated; then, from 50 threads through
#       the store (tests/wait_drive), N_OUT logouts and N_IN logins with
#       [store] wait_replicas = WAIT_REPLICAS; SIGKILL of the primary right
#       after the last answer; Sentinel failover; then LAG_RESURRECTED =
#       logouts answered done whose session is valid again, LAG_LOST =
#       logins answered done whose session is gone, LAG_CHURN = the
#       driver's figures.

: "${LAG_DELAY_MS:=50}"
WAIT_DRIVE="$top_builddir/tests/wait_drive"

lag_relay_start() {
    _rd="$CK_TEST_TMP/$1"
    mkdir -p "$_rd"
    rm -f "$_rd/port"
    python3 "$top_srcdir/tests/lib/lag_relay.py" --target-port "$2" --delay-ms "$3" \
        --port-file "$_rd/port" --pid-file "$_rd/relay.pid" \
        --max-seconds "${LAG_RELAY_MAX_S:-600}" > /dev/null 2> "$_rd/relay.log" &
    _ri=0
    until [ -s "$_rd/port" ]; do
        _ri=$((_ri + 1))
        [ $_ri -gt 100 ] && { echo "lag relay did not start" >&2; cat "$_rd/relay.log" >&2; return 1; }
        sleep 0.05
    done
    cat "$_rd/port"
}

lag_pair() {
    LAG_P=$(redis_start "$1p") || return 1
    _lrp=$(lag_relay_start "$1relay" "$LAG_P" "$2") || return 1
    LAG_R=$(redis_start "$1r" "replicaof 127.0.0.1 $_lrp") || return 1
    _li=0
    until redis-cli -p "$LAG_R" info replication | grep -q 'master_link_status:up'; do
        _li=$((_li + 1))
        [ $_li -gt 150 ] && { echo "replica never synced through the relay" >&2; return 1; }
        sleep 0.1
    done
    LAG_PPID=$(cat "$CK_TEST_TMP/$1p/redis.pid")
    LAG_RPID=$(cat "$CK_TEST_TMP/$1r/redis.pid")
}

# Sentinels that know each other and the replica: a failover can be voted.
lag_sentinels() {
    LAG_URL=
    LAG_SENTINELS=
    for _ls in 1 2 3; do
        _lsp=$(sentinel_start "$1s$_ls" ckm "$LAG_P" \
            "sentinel down-after-milliseconds ckm 500") || return 1
        LAG_URL="$LAG_URL${LAG_URL:+,}127.0.0.1:$_lsp"
        LAG_SENTINELS="$LAG_SENTINELS $_lsp"
    done
    LAG_URL="redis+sentinel://$LAG_URL/ckm"
    _li=0
    for _lsp in $LAG_SENTINELS; do
        until [ "$(redis-cli -p "$_lsp" sentinel master ckm | awk '
                p == "num-slaves" {a = $0} p == "num-other-sentinels" {b = $0} {p = $0}
                END {print a "/" b}')" = 1/2 ]; do
            _li=$((_li + 1))
            [ $_li -gt 300 ] && { echo "sentinels never met" >&2; return 1; }
            sleep 0.1
        done
    done
}

lag_stop() {
    for _ln in "$1s1" "$1s2" "$1s3" "$1r" "$1p"; do
        redis_stop "$_ln"
    done
    ck_stop_pidfile "$CK_TEST_TMP/$1relay/relay.pid"
}

lag_failover_run() {
    _ln=$1
    LAG_RESURRECTED=-1
    LAG_LOST=-1
    lag_pair "$_ln" "$LAG_DELAY_MS" && lag_sentinels "$_ln" || return 1
    _lc="$CK_TEST_TMP/$_ln.conf"
    printf '%s\n' "[store]" "url = $LAG_URL" "wait_replicas = $2" "wait_timeout_ms = 2000" \
        > "$_lc"
    "$WAIT_DRIVE" "$_lc" make "$3" "$CK_TEST_TMP/$_ln.sids" > /dev/null || return 1
    # Setup, not the measure: the sessions to end are on the replica.
    redis-cli -p "$LAG_P" wait 1 5000 > /dev/null
    LAG_CHURN=$("$WAIT_DRIVE" "$_lc" churn "$CK_TEST_TMP/$_ln.sids" "$4" 50 "$LAG_PPID" \
        "$CK_TEST_TMP/$_ln.res") || return 1
    _li=0
    until [ "$(redis-cli -p "$LAG_R" role 2>/dev/null | head -n 1)" = master ]; do
        _li=$((_li + 1))
        [ $_li -gt 300 ] && { echo "no failover within 30 s" >&2; return 1; }
        sleep 0.1
    done
    LAG_RESURRECTED=$("$WAIT_DRIVE" "$_lc" count "$CK_TEST_TMP/$_ln.res.out" 30 |
        sed -n 's/^valid=\([0-9]*\) .*/\1/p')
    LAG_LOST=$("$WAIT_DRIVE" "$_lc" count "$CK_TEST_TMP/$_ln.res.in" 30 |
        sed -n 's/.* gone=\([0-9]*\)$/\1/p')
    lag_stop "$_ln"
    [ -n "$LAG_RESURRECTED" ] && [ -n "$LAG_LOST" ]
}

# bench/faults.sh sentinel_failover_lagged: lag_failover_run with and
# without wait_replicas, LAG_N_OUT logouts (default 1000) and LAG_N_IN
# logins (500), one RESULT line each.
fault_sentinel_failover_lagged() {
    for _lw in 1 0; do
        lag_failover_run "lag$_lw" "$_lw" "${LAG_N_OUT:-1000}" "${LAG_N_IN:-500}" || return 1
        echo "RESULT scenario=sentinel_failover_lagged delay_ms=$LAG_DELAY_MS" \
            "wait_replicas=$_lw resurrected_logouts=$LAG_RESURRECTED lost_logins=$LAG_LOST" \
            "$LAG_CHURN"
    done
}
