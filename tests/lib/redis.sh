# Shell helpers for tests that need a real redis-server on loopback.
# Source this file; it makes a private temp dir, $CK_TEST_TMP, and every
# server started below it is stopped (by its pid file) by redis_stop_all.
#
#   trap redis_stop_all EXIT
#   port=$(redis_start name [extra redis.conf lines...])
#   redis_stop name                    # stop one server (e.g. a fault test)
#
# Ports are picked at random in 20000..59999 and retried when taken.
# Server files live in $CK_TEST_TMP/name/ (redis.conf, redis.log, redis.pid).

: "${REDIS_SERVER:=redis-server}"
CK_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ck-test.XXXXXX")

ck_free_port() {
    shuf -i 20000-59999 -n 1
}

# redis_start NAME [CONF-LINE...]: prints the port.
redis_start() {
    name=$1
    shift
    dir="$CK_TEST_TMP/$name"
    mkdir -p "$dir"
    tries=0
    while [ $tries -lt 20 ]; do
        tries=$((tries + 1))
        port=$(ck_free_port)
        {
            echo "port $port"
            echo "bind 127.0.0.1"
            echo "dir $dir"
            echo "pidfile $dir/redis.pid"
            echo "logfile $dir/redis.log"
            echo "save \"\""
            echo "appendonly no"
            echo "daemonize yes"
            for line in "$@"; do echo "$line"; done
        } > "$dir/redis.conf"
        rm -f "$dir/redis.log" "$dir/redis.pid"
        "$REDIS_SERVER" "$dir/redis.conf" >/dev/null 2>&1 || continue
        i=0
        while [ $i -lt 100 ]; do
            if grep -q "Ready to accept connections" "$dir/redis.log" 2>/dev/null &&
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
    echo "redis_start: could not start $REDIS_SERVER for $name" >&2
    [ -f "$dir/redis.log" ] && tail -n 20 "$dir/redis.log" >&2
    return 1
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

ck_stop_pidfile() {
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    rm -f "$1"
}

redis_stop() {
    ck_stop_pidfile "$CK_TEST_TMP/$1/redis.pid"
}

redis_stop_all() {
    for f in "$CK_TEST_TMP"/*/*.pid; do
        [ -e "$f" ] && ck_stop_pidfile "$f"
    done
    rm -rf "$CK_TEST_TMP"
}
