# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for tests that need a real redis-server on loopback.
# Source this file; it makes a private temp dir, $CK_TEST_TMP, and every
# server started below it is stopped (by its pid file) by redis_stop_all.
#
#   trap redis_stop_all EXIT
#   port=$(redis_start name [extra redis.conf lines...])
#   redis_stop name                    # stop one server (e.g. a fault test)
#   ck_tls_certs "$CK_TEST_TMP/certs"  # CA, server and client certificates
#   port=$(redis_start_tls name "$CK_TEST_TMP/certs" [conf lines...])
#   port=$(sentinel_start name mymaster "$primary_port" [conf lines...])
#
# Ports are picked at random below the kernel's ephemeral range and retried
# when taken.
# Server files live in $CK_TEST_TMP/name/ (redis.conf, redis.log, redis.pid).

. "$top_srcdir/tests/lib/audit.sh"
: "${REDIS_SERVER:=redis-server}"
CK_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ck-test.XXXXXX")

# A port in the ephemeral range (ip_local_port_range, from 32768 on
# Debian) may be the local end of any test's outgoing connection at the
# moment a server binds it ("Address already in use"), so ports come from
# 10000 up to just below it. CK_PORT_GAP keeps that much room above the
# port (tests/lib/cluster.sh: bus port = port + 10000).
ck_free_port() {
    _eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) || _eph=32768
    _top=$((${_eph:-32768} - 1 - ${CK_PORT_GAP:-0}))
    if [ "$_top" -gt 11000 ]; then
        shuf -i 10000-"$_top" -n 1
    else
        # an ephemeral range that starts low: above it, as before
        shuf -i 20000-$((59999 - ${CK_PORT_GAP:-0})) -n 1
    fi
}

# redis_start NAME [CONF-LINE...]: prints the port.
redis_start() {
    ck_redis_launch "$1" plain "$@"
}

# redis_start_tls NAME CERTDIR [CONF-LINE...]: a TLS-only server (port 0,
# tls-port) with the certificates made by ck_tls_certs; prints the TLS port.
# Clients may present a certificate (tls-auth-clients optional) unless a
# CONF-LINE says otherwise.
redis_start_tls() {
    CK_TLS_CERTS=$2
    name=$1
    shift 2
    ck_redis_launch "$name" tls "$name" "tls-auth-clients optional" "$@"
}

# sentinel_start NAME MASTER-NAME MASTER-PORT [CONF-LINE...]: a redis-sentinel
# watching 127.0.0.1:MASTER-PORT (quorum 2, down after 1 s); prints its port.
sentinel_start() {
    name=$1
    CK_SENTINEL_MASTER="$2 127.0.0.1 $3"
    shift 3
    ck_redis_launch "$name" sentinel "$name" \
        "sentinel down-after-milliseconds ${CK_SENTINEL_MASTER%% *} 1000" \
        "sentinel failover-timeout ${CK_SENTINEL_MASTER%% *} 5000" "$@"
}

# ck_redis_conf NAME KIND PORT DIR: the config lines every server gets.
ck_redis_conf() {
    case $2 in
    plain)
        echo "port $3" ;;
    tls)
        echo "port 0"
        echo "tls-port $3"
        echo "tls-cert-file $CK_TLS_CERTS/server.crt"
        echo "tls-key-file $CK_TLS_CERTS/server.key"
        echo "tls-ca-cert-file $CK_TLS_CERTS/ca.crt" ;;
    sentinel)
        echo "port $3"
        echo "sentinel monitor $CK_SENTINEL_MASTER 2" ;;
    esac
    echo "bind 127.0.0.1"
    echo "dir $4"
    echo "pidfile $4/redis.pid"
    echo "logfile $4/redis.log"
    echo "daemonize yes"
    if [ "$2" != sentinel ]; then
        echo "save \"\""
        echo "appendonly no"
    fi
}

# ck_redis_launch NAME KIND NAME [CONF-LINE...]: starts one server of KIND
# (plain, tls, sentinel) on a free port and prints the port.
ck_redis_launch() {
    name=$1
    kind=$2
    shift 3
    dir="$CK_TEST_TMP/$name"
    mkdir -p "$dir"
    tries=0
    while [ $tries -lt 20 ]; do
        tries=$((tries + 1))
        port=$(ck_free_port)
        {
            ck_redis_conf "$name" "$kind" "$port" "$dir"
            for line in "$@"; do echo "$line"; done
        } > "$dir/redis.conf"
        rm -f "$dir/redis.log" "$dir/redis.pid"
        if [ "$kind" = sentinel ]; then
            if [ -n "${REDIS_SENTINEL:-}" ]; then
                "$REDIS_SENTINEL" "$dir/redis.conf" >/dev/null 2>&1 || continue
            else
                "$REDIS_SERVER" "$dir/redis.conf" --sentinel >/dev/null 2>&1 || continue
            fi
        else
            "$REDIS_SERVER" "$dir/redis.conf" >/dev/null 2>&1 || continue
        fi
        # A sentinel never says "Ready to accept connections".
        ready="Ready to accept connections"
        [ "$kind" = sentinel ] && ready="+monitor master"
        i=0
        while [ $i -lt 100 ]; do
            if grep -q "$ready" "$dir/redis.log" 2>/dev/null &&
                [ -s "$dir/redis.pid" ]; then
                echo "$port" > "$dir/port"
                printf '%s\n' "$port"
                return 0
            fi
            grep -q "Address already in use\|Could not create server" "$dir/redis.log" \
                2>/dev/null && break
            sleep 0.1
            i=$((i + 1))
        done
        redis_stop "$name"
    done
    echo "redis_start: could not start $kind server $name" >&2
    [ -f "$dir/redis.log" ] && tail -n 20 "$dir/redis.log" >&2
    return 1
}

# ck_tls_certs DIR: a test CA (ca.crt), a server certificate for localhost
# and 127.0.0.1 (server.crt/key), a client certificate (client.crt/key) and
# an unrelated CA (other-ca.crt), all made now with the openssl CLI.
ck_tls_certs() {
    _tc_dir=$1
    mkdir -p "$_tc_dir" || return 1
    (
        set -e
        cd "$_tc_dir"
        umask 077
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        ca() {
            key "$1.key"
            openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "/CN=$2" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        }
        leaf() {
            key "$1.key"
            openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
            printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=$3" \
                "subjectAltName=$4" > "$1.ext"
            openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
                -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
        }
        ca ca "checkup test CA"
        ca other-ca "checkup untrusted CA"
        leaf server localhost serverAuth "DNS:localhost,IP:127.0.0.1"
        leaf client checkup-client clientAuth "DNS:checkup-client"
        chmod 644 ./*.crt
    ) || { echo "ck_tls_certs: openssl failed in $_tc_dir" >&2; return 1; }
}

# Restarts a stopped server on the same port with the same config.
redis_restart() {
    dir="$CK_TEST_TMP/$1"
    "$REDIS_SERVER" "$dir/redis.conf" >/dev/null 2>&1 || return 1
    i=0
    while [ $i -lt 100 ]; do
        [ -s "$dir/redis.pid" ] && redis-cli -p "$(cat "$dir/port")" ping >/dev/null 2>&1 && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ck_alive PID: true while PID runs. A daemonized server that exited stays a
# zombie until init reaps it, which some container inits do only slowly.
ck_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$state" != Z ]
}

ck_stop_pidfile() {
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
    i=0
    while ck_alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    ck_alive "$pid" && kill -9 "$pid" 2>/dev/null
    rm -f "$1"
}

redis_stop() {
    ck_stop_pidfile "$CK_TEST_TMP/$1/redis.pid"
}

redis_stop_all() {
    for f in "$CK_TEST_TMP"/*/*.pid; do
        [ -e "$f" ] && ck_stop_pidfile "$f"
    done
    ck_keep_audit "$CK_TEST_TMP"
    rm -rf "$CK_TEST_TMP"
}
