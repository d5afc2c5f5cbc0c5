# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for tests and benchmarks that need a real Redis Cluster on
# loopback: 3 primaries and 3 replicas (redis-server --cluster-enabled yes,
# joined by redis-cli --cluster create --cluster-replicas 1). Source after
# tests/lib/redis.sh: every node is one of its servers (a pid file under
# $CK_TEST_TMP), so redis_stop_all stops them all by pid.
#
#   cluster_start NAME [CONF-LINE...]   6 nodes NAME1..NAME6, created and
#                                       converged; sets CL_PORTS (all six),
#                                       CL_SEEDS (host:port,... of three) and
#                                       CL_URL (the store URL for them)
#   CL_TLS=1 CL_CERTS=DIR               TLS only (port 0, tls-port,
#                                       tls-cluster, tls-replication), with
#                                       the certificates of ck_tls_certs DIR
#   CL_ACL=1                            the default user gets a password
#                                       (CL_ADMIN_PW) and a user "checkup"
#                                       (password CL_APP_PW, in the file
#                                       CL_APP_PW_FILE) holds only the
#                                       commands of the sample ACL
#                                       (conf/redis/checkup-auth.conf)
#   CL_ADMIN_PW=PW                      without CL_ACL: the admin password
#                                       of nodes whose CONF-LINEs set their
#                                       own ACL (tests/ops_samples.sh)
#   cl_cli PORT ARGS...                 redis-cli to one node as the admin
#   cluster_wait_ok TIMEOUT_S           every node: cluster_state:ok, all
#                                       slots served, same slot map, every
#                                       replica in sync; fails with a reason
#   cluster_primaries                   the primaries' ports, one a line
#   cluster_replica_of PORT             the port of PORT's replica
#   cluster_node_name PORT              the NAME<i> of the node on PORT
#   cluster_primary_of_slot SLOT        the port of the primary serving SLOT
#
# Every wait is bounded: a cluster that never converges fails with a
# message, never hangs. Passwords are made now and never printed; they
# reach redis-cli through REDISCLI_AUTH, never its command line.

# The commands of user checkup: those of the sample ACL, so they cannot drift.
CL_ACL_CMDS=$(sed -n 's/^user checkup on >[^ ]* ~ck:\* resetchannels -@all \(.*\)$/\1/p' \
    "$top_srcdir/conf/redis/checkup-auth.conf")

# Cluster bus ports are the client port + 10000: keep room for both.
CK_PORT_GAP=10000

cl_cli() {
    _cp=$1
    shift
    if [ "${CL_TLS:-0}" = 1 ]; then
        set -- --tls --cacert "$CL_CERTS/ca.crt" --cert "$CL_CERTS/client.crt" \
            --key "$CL_CERTS/client.key" "$@"
    fi
    if [ -n "${CL_ADMIN_PW:-}" ]; then
        REDISCLI_AUTH=$CL_ADMIN_PW redis-cli --no-auth-warning -h 127.0.0.1 -p "$_cp" "$@"
    else
        redis-cli -h 127.0.0.1 -p "$_cp" "$@"
    fi
}

# cl_node_lines: the config lines every node gets, less the port.
cl_node_lines() {
    echo "cluster-enabled yes"
    echo "cluster-config-file nodes.conf"
    echo "cluster-node-timeout ${CL_NODE_TIMEOUT:-1000}"
    # A replica whose link broke a moment ago still takes over.
    echo "cluster-replica-validity-factor 0"
    # As conf/redis/cluster.conf: the other primaries serve during a failover.
    echo "cluster-require-full-coverage no"
    if [ "${CL_TLS:-0}" = 1 ]; then
        echo "tls-cluster yes"
        echo "tls-replication yes"
        echo "tls-auth-clients optional"
        # The bus and replication links present a client certificate.
        echo "tls-client-cert-file $CL_CERTS/client.crt"
        echo "tls-client-key-file $CL_CERTS/client.key"
    fi
    if [ "${CL_ACL:-0}" = 1 ]; then
        echo "requirepass $CL_ADMIN_PW"
        echo "masterauth $CL_ADMIN_PW"
        # ~ckt:*: the key prefix of the contract suites' namespaces.
        echo "user checkup on >$CL_APP_PW ~ck:* ~ckt:* resetchannels -@all $CL_ACL_CMDS"
    fi
}

cluster_start() {
    CL_NAME=$1
    shift
    CL_PORTS=
    CL_SEEDS=
    if [ "${CL_ACL:-0}" = 1 ] && [ -z "$CL_ACL_CMDS" ]; then
        echo "cluster_start: no user checkup line in conf/redis/checkup-auth.conf" >&2
        return 1
    fi
    if [ "${CL_ACL:-0}" = 1 ] && [ -z "${CL_ADMIN_PW:-}" ]; then
        CL_ADMIN_PW=$(openssl rand -hex 24)
        CL_APP_PW=$(openssl rand -hex 24)
        CL_APP_PW_FILE=$CK_TEST_TMP/$CL_NAME.password
        (umask 077; printf '%s\n' "$CL_APP_PW" > "$CL_APP_PW_FILE")
    fi
    _ci=1
    while [ $_ci -le 6 ]; do
        _cn=$CL_NAME$_ci
        # The node's lines go to its redis.conf: the passwords stay off argv.
        if [ "${CL_TLS:-0}" = 1 ]; then
            _cport=$(CK_TLS_CERTS=$CL_CERTS ck_redis_launch_lines "$_cn" tls "$@") || return 1
        else
            _cport=$(ck_redis_launch_lines "$_cn" plain "$@") || return 1
        fi
        CL_PORTS="$CL_PORTS${CL_PORTS:+ }$_cport"
        [ $_ci -le 3 ] && CL_SEEDS="$CL_SEEDS${CL_SEEDS:+,}127.0.0.1:$_cport"
        _ci=$((_ci + 1))
    done
    _cargs=
    for _cport in $CL_PORTS; do _cargs="$_cargs 127.0.0.1:$_cport"; done
    # shellcheck disable=SC2086
    if ! cl_cli "${CL_PORTS%% *}" --cluster create $_cargs --cluster-replicas 1 \
        --cluster-yes > "$CK_TEST_TMP/$CL_NAME.create" 2>&1; then
        echo "cluster_start: redis-cli --cluster create failed:" >&2
        tail -n 20 "$CK_TEST_TMP/$CL_NAME.create" >&2
        return 1
    fi
    cluster_wait_ok "${CL_START_TIMEOUT_S:-30}" || return 1
    _cs=rediss+cluster
    [ "${CL_TLS:-0}" = 1 ] || _cs=redis+cluster
    CL_URL="$_cs://$CL_SEEDS/"
}

# ck_redis_launch_lines NAME KIND [CONF-LINE...]: ck_redis_launch with the
# cluster lines added and a cluster bus port that fits below 65536.
ck_redis_launch_lines() {
    _ln=$1 _lk=$2
    shift 2
    _lt=$(cl_node_lines)
    _old_ifs=$IFS
    IFS='
'
    set -f
    # shellcheck disable=SC2086
    set -- $_lt "$@"
    set +f
    IFS=$_old_ifs
    if [ "$_lk" = tls ]; then
        ck_redis_launch "$_ln" tls "$_ln" "$@"
    else
        ck_redis_launch "$_ln" plain "$_ln" "$@"
    fi
}

# cl_info PORT FIELD: one field of CLUSTER INFO.
cl_info() {
    cl_cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

# cl_map PORT: the node's view of who serves which slots, as
# "ip:port role slots..." lines, sorted (what every node must agree on).
cl_map() {
    cl_cli "$1" cluster nodes 2>/dev/null | tr -d '\r' | awk '
        $3 ~ /fail/ && $3 !~ /pfail/ { next }
        { role = ($3 ~ /master/) ? "master" : "replica"; addr = $2; sub(/@.*/, "", addr)
          line = addr " " role
          for (i = 9; i <= NF; i++) if ($i !~ /^\[/) line = line " " $i
          print line }' | sort
}

cluster_wait_ok() {
    _cw_end=$(( $(date +%s) + $1 ))
    while :; do
        _cw_bad=
        _cw_ref=
        for _cport in $(cl_live_ports); do
            [ "$(cl_info "$_cport" cluster_state)" = ok ] ||
                { _cw_bad="node $_cport: cluster_state is not ok"; break; }
            [ "$(cl_info "$_cport" cluster_slots_ok)" = 16384 ] ||
                { _cw_bad="node $_cport: not all 16384 slots ok"; break; }
            _cw_map=$(cl_map "$_cport")
            [ -z "$_cw_ref" ] && _cw_ref=$_cw_map
            [ "$_cw_map" = "$_cw_ref" ] ||
                { _cw_bad="node $_cport sees another slot map"; break; }
            if cl_cli "$_cport" role 2>/dev/null | head -n 1 | grep -q slave; then
                cl_cli "$_cport" info replication 2>/dev/null | grep -q 'master_link_status:up' ||
                    { _cw_bad="replica $_cport not in sync with its primary"; break; }
            fi
        done
        [ -z "$_cw_bad" ] && return 0
        if [ "$(date +%s)" -ge "$_cw_end" ]; then
            echo "cluster_wait_ok: the cluster did not converge within $1 s: $_cw_bad" >&2
            return 1
        fi
        sleep 0.2
    done
}

# cl_live_ports: the ports of the nodes whose process still runs.
cl_live_ports() {
    _ci=1
    for _cport in $CL_PORTS; do
        _cpid=$(cat "$CK_TEST_TMP/$CL_NAME$_ci/redis.pid" 2>/dev/null)
        [ -n "$_cpid" ] && ck_alive "$_cpid" && echo "$_cport"
        _ci=$((_ci + 1))
    done
}

cluster_primaries() {
    for _cport in $(cl_live_ports); do
        cl_map "$_cport" | awk '$2 == "master" && NF > 2 { sub(/.*:/, "", $1); print $1 }'
        return 0
    done
}

cluster_node_name() {
    _ci=1
    for _cport in $CL_PORTS; do
        [ "$_cport" = "$1" ] && { echo "$CL_NAME$_ci"; return 0; }
        _ci=$((_ci + 1))
    done
    return 1
}

cluster_replica_of() {
    _cid=$(cl_cli "$1" cluster myid | tr -d '\r')
    cl_cli "$1" cluster nodes | tr -d '\r' |
        awk -v id="$_cid" '$4 == id && $3 !~ /fail/ { a = $2; sub(/@.*/, "", a); sub(/.*:/, "", a); print a; exit }'
}

cluster_primary_of_slot() {
    for _cport in $(cl_live_ports); do
        cl_cli "$_cport" cluster shards 2>/dev/null | tr -d '\r' | awk -v s="$1" '
            # CLUSTER SHARDS as redis-cli prints it: "slots", the ranges, then
            # "nodes" and for each node "port" N ... "role" master|replica.
            $0 == "slots" { mode = "slots"; n = 0; found = 0; next }
            $0 == "nodes" { mode = "nodes"; next }
            mode == "slots" && $0 ~ /^[0-9]+$/ { r[n++] = $0
                if (n % 2 == 0 && s >= r[n - 2] && s <= r[n - 1]) found = 1; next }
            mode == "nodes" && (prev == "port" || prev == "tls-port") { port = $0 }
            mode == "nodes" && prev == "role" && $0 == "master" && found { print port; exit }
            { prev = $0 }'
        return 0
    done
}
