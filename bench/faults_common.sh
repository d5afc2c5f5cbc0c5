# SPDX-License-Identifier: BSD-3-Clause
# The fault scenarios of bench/faults.sh and tests/faults.sh. Source after
# tests/lib/redis.sh, tests/web_common.sh, bench/load_common.sh and
# bench/faults_lagged.sh.
#
# Each scenario: checkupd on a fresh store, FAULT_K sessions made before the
# fault (their tokens in a file), bench/load_gen in fault mode (FAULT_VUS
# users with a FAULT_KEEPALIVE keep-alive, FAULT_ATT attackers replaying
# forged and logged-out cookies) for FAULT_LOAD_S seconds, the fault in the
# middle of it, then:
#   lost_sessions       pre-fault sessions that no longer answer 200, plus
#                       401s the VUs got for sessions of theirs
#   accepted_unverified 200s answered to the attackers
#   recovery_s          from the end of the fault to the first 200 (a login
#                       for the disk scenarios)
#   rss_growth_kb       checkupd's peak VmRSS after the fault began less its
#                       peak under the same load before it
# and a RESULT line with extra fields. F_* variables keep the figures for
# tests/faults.sh to assert on.

: "${FAULT_LOAD_S:=40}" "${FAULT_VUS:=50}" "${FAULT_ATT:=10}" "${FAULT_K:=50}"
: "${FAULT_KEEPALIVE:=0.5}" "${FAULT_OUTAGE_S:=3}" "${FAULT_TIMEOUT_MS:=250}"

# fault_begin NAME STORE_URL [DAEMON-LINE...]: daemon, sessions, load.
fault_begin() {
    FN=$1
    FD="$CK_TEST_TMP/f-$1"
    _fu=$2
    shift 2
    # All users come from 127.0.0.1: no per-address connection limit.
    load_setup "$FD" "$_fu" $((FAULT_VUS + FAULT_ATT)) "login_rate_limit = 0" \
        "per_ip_connection_limit = 0" "$@" || return 1
    web_start "$FN" "$FD/checkup.conf" || return 1
    FPORT=$WEB_PORT
    FPID=$(cat "$CK_TEST_TMP/$FN.web.pid")
    load_login_many "$FPORT" "$FD" "$FAULT_K" || { echo "$FN: logins failed" >&2; return 1; }
    PROBE=$(head -n 1 "$FD/tokens")
    F_BEFORE=$(load_count_alive "$FPORT" "$FD")
    fault_sample_start
    "$top_builddir/bench/load_gen" -u "http://127.0.0.1:$FPORT" -o "$WEB_ORIGIN" -p "$FD/pw" \
        -F -n "$FAULT_VUS" -a "$FAULT_ATT" -r 1 -H $((FAULT_LOAD_S - 2)) -d 1 \
        -k "$FAULT_KEEPALIVE" -s 5 -t 10 > "$FD/gen.txt" 2> "$FD/gen.err" &
    FGEN=$!
    echo "$FGEN" > "$CK_TEST_TMP/$FN.gen.pid"
    sleep 3
    # Memory and threads under load before the fault: the baseline.
    FBASE=$(wc -l < "$FD/rss")
}

# fault_sample_start: VmRSS and Threads of checkupd every 0.2 s into $FD/rss.
fault_sample_start() {
    (
        while [ -r "/proc/$FPID/status" ]; do
            awk '/^VmRSS/ {r = $2} /^Threads/ {t = $2} END {print r, t}' \
                "/proc/$FPID/status" 2>/dev/null
            sleep 0.2
        done
    ) > "$FD/rss" &
    echo $! > "$CK_TEST_TMP/$FN.sampler.pid"
}

fault_stop_pid() {
    [ -s "$1" ] || return 0
    kill "$(cat "$1")" 2>/dev/null
    wait "$(cat "$1")" 2>/dev/null
    rm -f "$1"
}

# fault_stop_all: the generators and samplers still running (by pid).
fault_stop_all() {
    for _ff in "$CK_TEST_TMP"/*.gen.pid "$CK_TEST_TMP"/*.sampler.pid; do
        [ -e "$_ff" ] && fault_stop_pid "$_ff"
    done
    return 0
}

# fault_probe: one /v1/users/me with the probe session during the fault;
# sets F_PROBE_STATUS and F_PROBE_MS.
fault_probe() {
    _fo=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 15 \
        -H "Cookie: $WEB_COOKIE=$PROBE" "http://127.0.0.1:$FPORT/v1/users/me")
    F_PROBE_STATUS=${_fo% *}
    F_PROBE_MS=$(awk -v t="${_fo#* }" 'BEGIN {printf "%.0f", t * 1000}')
}

# fault_login_status: one login during the fault; prints "status ms".
fault_login_status() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 15 \
        -H "Origin: $WEB_ORIGIN" --data-urlencode "email=load1@example.org" \
        --data-urlencode "password@$FD/pw" "http://127.0.0.1:$FPORT/login" |
        awk '{printf "%s %.0f\n", $1, $2 * 1000}'
}

# fault_wait_login LIMIT_S: seconds until a login succeeds again.
fault_wait_login() {
    _fs=$(date +%s.%N)
    while [ "$(fault_login_status | cut -d' ' -f1)" != 303 ]; do
        awk -v s="$_fs" -v e="$(date +%s.%N)" -v l="$1" 'BEGIN {exit !(e - s > l)}' &&
            return 1
        sleep 0.05
    done
    awk -v s="$_fs" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", e - s}'
}

# fault_end NAME [EXTRA-FIELDS]: waits for the load, counts, prints RESULT.
fault_end() {
    wait "$FGEN"
    rm -f "$CK_TEST_TMP/$FN.gen.pid"
    LOAD_GEN=$(sed -n 's/^GEN //p' "$FD/gen.txt")
    F_ERRORS=$(gen_field errors)
    F_UNVERIFIED=$(gen_field accepted_unverified)
    F_MAX_REFUSED_MS=$(gen_field max_refused_ms)
    F_MAX_REFUSED_ME_MS=$(gen_field max_refused_me_ms)
    F_REFUSED=$(gen_field refused)
    _f401=$(gen_field me_401)
    F_ALIVE=$(load_count_alive "$FPORT" "$FD")
    F_LOST=$((F_BEFORE - F_ALIVE + ${_f401:-0}))
    F_CRASHED=0
    ck_alive "$FPID" || F_CRASHED=1
    fault_stop_pid "$CK_TEST_TMP/$FN.sampler.pid"
    F_RSS_KB=$(awk -v b="$FBASE" 'NR <= b {if ($1 > f) f = $1} {if ($1 > m) m = $1}
        END {print m - f}' "$FD/rss")
    F_THREADS_MAX=$(awk '{if ($2 > m) m = $2} END {print m + 0}' "$FD/rss")
    [ -n "$F_ERRORS" ] || { F_ERRORS=-1; cat "$FD/gen.err" >&2; }
    grep -v '^load_gen: t=' "$FD/gen.err" >&2 || true
    echo "$1: sessions before $F_BEFORE after $F_ALIVE; load: $LOAD_GEN"
    echo "RESULT scenario=$1 lost_sessions=$F_LOST accepted_unverified=${F_UNVERIFIED:--1}" \
        "recovery_s=${F_RECOVERY:--1} errors=$F_ERRORS refused=${F_REFUSED:--1}" \
        "max_refused_ms=${F_MAX_REFUSED_MS:--1} max_refused_me_ms=${F_MAX_REFUSED_ME_MS:--1}" \
        "crashed=$F_CRASHED rss_growth_kb=$F_RSS_KB" \
        "max_threads=$F_THREADS_MAX${2:+ $2}"
}

# Redis stopped (SHUTDOWN, AOF fsynced on every write) and started again.
fault_redis_restart() {
    _fp=$(redis_start rr "appendonly yes" "appendfsync always") || return 1
    fault_begin redis_restart "redis://127.0.0.1:$_fp/0" "[store]" \
        "command_timeout_ms = $FAULT_TIMEOUT_MS" || return 1
    redis_stop rr
    sleep 0.3
    fault_probe
    sleep "$FAULT_OUTAGE_S"
    redis_restart rr || { echo "redis did not restart" >&2; return 1; }
    F_RECOVERY=$(load_wait_ok "$FPORT" "$PROBE" 30) || F_RECOVERY=-1
    fault_end redis_restart "outage_status=$F_PROBE_STATUS outage_ms=$F_PROBE_MS"
}

# A primary, two replicas FAULT_LAG_MS (5) behind it (bench/faults_lagged.sh's
# relay, as across racks or zones: two, so that the promoted one still has
# a replica to confirm logins, [store] wait_replicas) and three sentinels;
# the primary is killed (SIGKILL). sentinel_failover_lagged has the 50 ms case.
fault_sentinel_failover() {
    _fp=$(redis_start sp "appendonly yes") || return 1
    _fl=$(lag_relay_start splag "$_fp" "${FAULT_LAG_MS:-5}") || return 1
    _fr=$(redis_start sr "replicaof 127.0.0.1 $_fl") || return 1
    _fl2=$(lag_relay_start splag2 "$_fp" "${FAULT_LAG_MS:-5}") || return 1
    _fr2=$(redis_start sr2 "replicaof 127.0.0.1 $_fl2") || return 1
    _i=0
    until redis-cli -p "$_fr" info replication | grep -q 'master_link_status:up' &&
        redis-cli -p "$_fr2" info replication | grep -q 'master_link_status:up'; do
        _i=$((_i + 1))
        [ $_i -gt 100 ] && { echo "replica never synced" >&2; return 1; }
        sleep 0.1
    done
    _s1=$(sentinel_start s1 ckm "$_fp") && _s2=$(sentinel_start s2 ckm "$_fp") &&
        _s3=$(sentinel_start s3 ckm "$_fp") || return 1
    fault_begin sentinel_failover \
        "redis+sentinel://127.0.0.1:$_s1,127.0.0.1:$_s2,127.0.0.1:$_s3/ckm" "[store]" \
        "command_timeout_ms = $FAULT_TIMEOUT_MS" || return 1
    # No WAIT of the test's own: checkupd's [store] wait_replicas (1 by
    # default with Sentinel) is what must keep every answered login.
    kill -9 "$(cat "$CK_TEST_TMP/sp/redis.pid")"
    sleep 0.3
    fault_probe
    F_RECOVERY=$(load_wait_ok "$FPORT" "$PROBE" 60) || F_RECOVERY=-1
    F_RECOVERY=$(awk -v r="$F_RECOVERY" 'BEGIN {printf "%.2f", r < 0 ? r : r + 0.3}')
    fault_end sentinel_failover "outage_status=$F_PROBE_STATUS outage_ms=$F_PROBE_MS" \
        "new_primary=$(redis-cli -p "$_fr" role | head -n 1)/$(redis-cli -p "$_fr2" role | head -n 1)"
}

# Redis paused (CLIENT PAUSE ALL), then asleep (DEBUG SLEEP), each for
# FAULT_OUTAGE_S: requests must fail at the command timeout.
fault_slow_redis() {
    _fp=$(redis_start slow "enable-debug-command local") || return 1
    fault_begin slow_redis "redis://127.0.0.1:$_fp/0" "[store]" \
        "command_timeout_ms = $FAULT_TIMEOUT_MS" || return 1
    _ms=$(awk -v s="$FAULT_OUTAGE_S" 'BEGIN {printf "%d", s * 1000}')
    redis-cli -p "$_fp" client pause "$_ms" all >/dev/null
    sleep 0.3
    fault_probe
    F_PAUSE_STATUS=$F_PROBE_STATUS
    _pause_probe="pause_status=$F_PROBE_STATUS pause_ms=$F_PROBE_MS"
    sleep "$FAULT_OUTAGE_S"
    redis-cli -p "$_fp" debug sleep "$FAULT_OUTAGE_S" >/dev/null &
    _fs=$!
    sleep 0.3
    fault_probe
    wait "$_fs"
    F_RECOVERY=$(load_wait_ok "$FPORT" "$PROBE" 30) || F_RECOVERY=-1
    fault_end slow_redis "$_pause_probe sleep_status=$F_PROBE_STATUS sleep_ms=$F_PROBE_MS"
}

# The embedded store on a small tmpfs (root only): filled up, then emptied;
# then the daemon restarted with the file system read-only, then read-write.
fault_disk() {
    _fm="$CK_TEST_TMP/disk"
    mkdir -p "$_fm"
    mount -t tmpfs -o size=16m,mode=700 tmpfs "$_fm" || return 2
    echo "$_fm" > "$CK_TEST_TMP/disk.mount"
    fault_begin disk_full "lmdb:$_fm/store" "[store]" "map_size = 8M" || return 1
    # A session to log out while the disk is full.
    _fl=$(web_login "$FPORT" load1@example.org "$(cat "$FD/pw")")
    # The disk fills to the last block, then the store to the last page it
    # had allocated ahead (tests/test_store_full --fill, quicker than
    # logins; without it, the logins below fill it).
    dd if=/dev/zero of="$_fm/fill" bs=64k 2>/dev/null
    dd if=/dev/zero of="$_fm/fill2" bs=512 2>/dev/null
    F_DF_AVAIL=$(df -P "$_fm" | awk 'NR == 2 {print $4}')
    F_FILLED=-
    if [ -x "$top_builddir/tests/test_store_full" ]; then
        F_FILLED=$("$top_builddir/tests/test_store_full" --fill "lmdb:$_fm/store" 8 | cut -d' ' -f1)
    fi
    fault_probe
    F_FULL_LOGOUT=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 -X POST \
        -H "Origin: $WEB_ORIGIN" -H "Cookie: $WEB_COOKIE=$_fl" "http://127.0.0.1:$FPORT/logout")
    F_FULL_LOGGED_OUT=$(me_status "$FPORT" "$_fl")
    # New sessions need new pages sooner or later: FAULT_FULL_LOGINS logins
    # while the disk is full, each answered 303 or refused (503), quickly.
    _fi=0
    : > "$FD/full_logins"
    while [ $_fi -lt "${FAULT_FULL_LOGINS:-60}" ]; do
        fault_login_status >> "$FD/full_logins"
        _fi=$((_fi + 1))
    done
    rm -f "$_fm/fill"
    F_RECOVERY=$(fault_wait_login 30) || F_RECOVERY=-1
    F_FULL=$(awk '$1 == 303 {ok++} $1 == 503 {ref++} $1 != 303 && $1 != 503 {bad++}
        {if ($2 > m) m = $2}
        END {printf "full_logins_ok=%d full_logins_503=%d full_logins_other=%d full_login_max_ms=%d",
             ok, ref, bad, m}' "$FD/full_logins")
    F_FULL_OTHER=$(echo "$F_FULL" | sed -n 's/.*full_logins_other=\([0-9]*\).*/\1/p')
    F_FULL_503=$(echo "$F_FULL" | sed -n 's/.*full_logins_503=\([0-9]*\).*/\1/p')
    F_FULL_LOG=$(grep -c 'store full: store full (no space left' "$CK_TEST_TMP/$FN.log")
    F_RAW_LOG=$(grep -c 'MDB_\|No space left on device\|Input/output error' "$CK_TEST_TMP/$FN.log")
    # fault_end prints its second argument: one string.
    fault_end disk_full "$F_FULL full_me=$F_PROBE_STATUS full_me_ms=$F_PROBE_MS \
full_logout=$F_FULL_LOGOUT logged_out_me=$F_FULL_LOGGED_OUT filled_logins=$F_FILLED \
df_avail_kb=$F_DF_AVAIL store_full_logged=$F_FULL_LOG raw_errors_logged=$F_RAW_LOG"
    # Read-only: a read-write file cannot be remounted read-only under a
    # running daemon, so the daemon stops, the file system goes read-only and
    # the daemon starts on it.
    web_stop "$FN"
    F_STOP_RC=$WEB_RC
    mdb_stat "$_fm/store" > "$FD/mdb_stat.txt" 2>&1 && F_MDB_OK=1 || F_MDB_OK=0
    mount -o remount,ro "$_fm" || return 1
    if web_start ro "$FD/checkup.conf" 2>/dev/null; then
        FPORT=$WEB_PORT
        F_RO_START=started
        F_RO_ME=$(me_status "$FPORT" "$PROBE")
        F_RO_LOGIN=$(fault_login_status | cut -d' ' -f1)
        web_stop ro
    else
        F_RO_START=refused
        F_RO_ME=-
        F_RO_LOGIN=-
    fi
    F_RO_MSG=$(grep -m 1 'store' "$CK_TEST_TMP/ro.log" | tr ' ' '_')
    mount -o remount,rw "$_fm" || return 1
    _fs=$(date +%s.%N)
    web_start rw "$FD/checkup.conf" || return 1
    FPORT=$WEB_PORT
    F_RECOVERY=$(load_wait_ok "$FPORT" "$PROBE" 30) || F_RECOVERY=-1
    F_RECOVERY=$(awk -v s="$_fs" -v e="$(date +%s.%N)" -v r="$F_RECOVERY" \
        'BEGIN {printf "%.2f", r < 0 ? r : e - s}')
    F_ALIVE=$(load_count_alive "$FPORT" "$FD")
    F_RO_LOST=$((F_BEFORE - F_ALIVE))
    web_stop rw
    echo "RESULT scenario=readonly_dir lost_sessions=$F_RO_LOST accepted_unverified=0" \
        "recovery_s=$F_RECOVERY start_on_ro=$F_RO_START ro_me=$F_RO_ME ro_login=$F_RO_LOGIN" \
        "mdb_stat_ok=$F_MDB_OK msg=$F_RO_MSG"
    fault_umount
}

fault_umount() {
    [ -s "$CK_TEST_TMP/disk.mount" ] || return 0
    umount "$(cat "$CK_TEST_TMP/disk.mount")" && rm -f "$CK_TEST_TMP/disk.mount"
}
