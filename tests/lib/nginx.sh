# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for tests and benchmarks that put Debian's nginx in front
# of checkupd. Source after tests/lib/redis.sh (for $CK_TEST_TMP, ck_alive,
# ck_free_port and ck_tls_certs). Every nginx started here runs with its own
# prefix under $CK_TEST_TMP and is stopped by its pid in nginx_stop_all.
#
#   port=$(nginx_start NAME SERVER-BLOCK-FILE)
#       SERVER-BLOCK-FILE holds the lines inside http { server { ... } }
#       with @PORT@ and @DIR@ standing for the chosen port and the prefix.
#   nginx_stop NAME
# NGINX_WORKERS sets worker_processes (default 1; benchmarks use auto).

: "${NGINX:=nginx}"

ck_nginx_conf() {
    _dir=$1 _port=$2 _block=$3
    _user=""
    # As root nginx's workers run as nobody: say so, and keep the prefix readable.
    [ "$(id -u)" = 0 ] && _user="user nobody nogroup;"
    cat <<CONF
$_user
worker_processes ${NGINX_WORKERS:-1};
pid $_dir/nginx.pid;
error_log $_dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log $_dir/access.log;
    client_body_temp_path $_dir/tmp/body;
    proxy_temp_path $_dir/tmp/proxy;
    fastcgi_temp_path $_dir/tmp/fastcgi;
    uwsgi_temp_path $_dir/tmp/uwsgi;
    scgi_temp_path $_dir/tmp/scgi;
    default_type text/html;
    server {
$(sed -e "s|@PORT@|$_port|g" -e "s|@DIR@|$_dir|g" "$_block")
    }
}
CONF
}

nginx_start() {
    _name=$1 _block=$2
    _dir="$CK_TEST_TMP/nginx-$_name"
    mkdir -p "$_dir/tmp" "$_dir/www" || return 1
    chmod 755 "$CK_TEST_TMP" "$_dir" "$_dir/www"
    chmod 777 "$_dir/tmp"
    _tries=0
    while [ $_tries -lt 20 ]; do
        _tries=$((_tries + 1))
        _port=$(ck_free_port)
        ck_nginx_conf "$_dir" "$_port" "$_block" > "$_dir/nginx.conf"
        rm -f "$_dir/nginx.pid"
        if "$NGINX" -p "$_dir" -e "$_dir/error.log" -c "$_dir/nginx.conf" >/dev/null 2>&1; then
            _i=0
            while [ $_i -lt 50 ]; do
                if [ -s "$_dir/nginx.pid" ]; then
                    echo "$_port" > "$_dir/port"
                    printf '%s\n' "$_port"
                    return 0
                fi
                sleep 0.1
                _i=$((_i + 1))
            done
        fi
        grep -q "Address already in use" "$_dir/error.log" 2>/dev/null && continue
        break
    done
    echo "nginx_start: could not start nginx $_name" >&2
    tail -n 20 "$_dir/error.log" >&2
    return 1
}

nginx_stop() {
    ck_stop_pidfile "$CK_TEST_TMP/nginx-$1/nginx.pid"
}

nginx_stop_all() {
    for _f in "$CK_TEST_TMP"/nginx-*/nginx.pid; do
        [ -e "$_f" ] && ck_stop_pidfile "$_f"
    done
}
