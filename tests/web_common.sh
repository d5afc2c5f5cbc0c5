# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for the checkupd tests. Source it after tests/lib/redis.sh
# (which makes $CK_TEST_TMP); every daemon started here is stopped by pid
# in web_stop_all.
#
#   web_setup DIR STORE_URL [DAEMON-LINE...]   config, keys and users in DIR
#   web_start NAME CONF                         sets WEB_PORT; log in $CK_TEST_TMP/NAME.log
#   web_stop NAME                               SIGTERM, wait, return the exit status
#   check DESC EXPECTED ACTUAL                  one assertion; web_summary ends the test

WEB_PASSED=0
WEB_FAILED=0
WEB_ORIGIN=https://localhost:8443
WEB_PW_ALICE='correct horse battery'
WEB_PW_BOB='bob-secret-pw-1'
WEB_COOKIE=__Host-checkup_session

check() {
    if [ "$2" = "$3" ]; then
        WEB_PASSED=$((WEB_PASSED + 1))
        echo "ok - $1"
    else
        WEB_FAILED=$((WEB_FAILED + 1))
        echo "not ok - $1: expected '$2', got '$3'"
    fi
}

# check_grep DESC PATTERN FILE: FILE must hold PATTERN (fixed string).
check_grep() {
    if grep -qF -- "$2" "$3"; then check "$1" yes yes; else check "$1" yes no; fi
}

check_nogrep() {
    if grep -qF -- "$2" "$3"; then check "$1" absent present; else check "$1" absent absent; fi
}

web_summary() {
    echo "$WEB_PASSED passed, $WEB_FAILED failed"
    [ "$WEB_FAILED" -eq 0 ]
}

web_setup() {
    _d=$1 _url=$2
    shift 2
    mkdir -p "$_d"
    {
        printf '%s\n' "[store]" "url = $_url" "[users]" "file = $_d/users" \
            "[tokens]" "key_file = $_d/token.keys" "[audit]" "file = $_d/audit.jsonl" \
            "[lockout]" "deny = 5" "fail_interval = 900" "unlock_time = 900" \
            "[daemon]" "listen = 127.0.0.1:0" "public_url = $WEB_ORIGIN"
        for _l in "$@"; do printf '%s\n' "$_l"; done
    } > "$_d/checkup.conf"
    _ck="$top_builddir/checkup"
    "$_ck" -c "$_d/checkup.conf" keys generate >/dev/null || return 1
    printf '%s\n' "$WEB_PW_ALICE" | "$_ck" -c "$_d/checkup.conf" user add alice@example.org \
        --role doctor --clinic clinic-7 --local-user alice --password-stdin >/dev/null || return 1
    printf '%s\n' "$WEB_PW_BOB" | "$_ck" -c "$_d/checkup.conf" user add bob@example.org \
        --role admin --local-user bob --password-stdin >/dev/null || return 1
    # carol: disabled, with alice's password.
    sed -n 's/^alice@example.org:\([^:]*\):.*/carol@example.org:\1:nurse:::disabled:/p' \
        "$_d/users" >> "$_d/users"
}

# web_start NAME CONF [ARGS...]: starts checkupd, waits for its port.
web_start() {
    _n=$1 _c=$2
    shift 2
    _log="$CK_TEST_TMP/$_n.log"
    # A restart keeps the earlier log (for the secrets checks) beside it.
    if [ -f "$_log" ]; then
        cat "$_log" >> "$_log.prev"
        rm -f "$_log"
    fi
    "$top_builddir/checkupd" -c "$_c" "$@" 2> "$_log" &
    echo $! > "$CK_TEST_TMP/$_n.web.pid"
    WEB_PORT=
    _i=0
    while [ $_i -lt 100 ]; do
        WEB_PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$_log" 2>/dev/null)
        [ -n "$WEB_PORT" ] && return 0
        ck_alive "$(cat "$CK_TEST_TMP/$_n.web.pid")" || break
        sleep 0.1
        _i=$((_i + 1))
    done
    echo "checkupd $_n did not start:" >&2
    cat "$CK_TEST_TMP/$_n.log" >&2
    return 1
}

# web_stop NAME: SIGTERM and wait; WEB_RC gets the exit status (124: had to kill).
web_stop() {
    _f="$CK_TEST_TMP/$1.web.pid"
    WEB_RC=0
    [ -s "$_f" ] || return 0
    _p=$(cat "$_f")
    kill "$_p" 2>/dev/null
    _i=0
    while ck_alive "$_p" && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    if ck_alive "$_p"; then
        kill -9 "$_p" 2>/dev/null
        wait "$_p" 2>/dev/null
        rm -f "$_f"
        WEB_RC=124
        return 0
    fi
    wait "$_p" 2>/dev/null
    WEB_RC=$?
    rm -f "$_f"
}

web_stop_all() {
    for _f in "$CK_TEST_TMP"/*.web.pid; do
        [ -e "$_f" ] || continue
        _n=$(basename "$_f" .web.pid)
        web_stop "$_n"
    done
}

# status URL [CURL-ARGS...]: prints the HTTP status code.
status() {
    _u=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$_u"
}

# web_login PORT EMAIL PASSWORD [CURL-ARGS...]: prints the token (empty on failure).
web_login() {
    _p=$1 _e=$2 _pw=$3
    shift 3
    curl -s -o /dev/null -D - --max-time 10 -H "Origin: $WEB_ORIGIN" \
        --data-urlencode "email=$_e" --data-urlencode "password=$_pw" "$@" \
        "http://127.0.0.1:$_p/login" |
        sed -n "s/^[Ss]et-[Cc]ookie: $WEB_COOKIE=\([^;]*\);.*/\1/p"
}

# web_front: checkupd ("ck", embedded store in $CK_TEST_TMP/ngx) behind
# nginx ("front", TLS with a CA made now) serving a dummy tool under /app/
# through auth_request. Sets NP (nginx's port) and WEB_ORIGIN. Needs
# tests/lib/nginx.sh. $WEB_FRONT_HOOK, when set, names a function called
# with the daemon's directory once WEB_ORIGIN is known; what it prints is
# added to checkupd's configuration.
web_front() {
    _D=$CK_TEST_TMP/ngx
    _dir="$CK_TEST_TMP/nginx-front"
    ck_tls_certs "$CK_TEST_TMP/certs" || return 1
    # nginx picks its port first (checkupd's public URL names it); its
    # config is then rewritten with the daemon's port and nginx restarted.
    sed -e "s|@CERTS@|$CK_TEST_TMP/certs|g" -e "s|@CKD@|127.0.0.1:@CKPORT@|g" \
        "$top_srcdir/tests/web_nginx.conf.in" > "$CK_TEST_TMP/block.tmpl"
    sed "s/@CKPORT@/9/g" "$CK_TEST_TMP/block.tmpl" > "$CK_TEST_TMP/block"
    NP=$(nginx_start front "$CK_TEST_TMP/block") || return 1
    nginx_stop front
    WEB_ORIGIN=https://localhost:$NP
    web_setup "$_D" "lmdb:$_D/store" "redirect_allowlist = /app/" \
        "trusted_proxies = 127.0.0.1" || return 1
    # A test may add to the configuration once the public origin is known
    # (identity providers registered with https://localhost:NP/callback).
    if [ -n "${WEB_FRONT_HOOK-}" ]; then
        "$WEB_FRONT_HOOK" "$_D" >> "$_D/checkup.conf" || return 1
    fi
    web_start ck "$_D/checkup.conf" || return 1
    sed "s|@CKPORT@|$WEB_PORT|g" "$CK_TEST_TMP/block.tmpl" > "$CK_TEST_TMP/block"
    ck_nginx_conf "$_dir" "$NP" "$CK_TEST_TMP/block" > "$_dir/nginx.conf"
    "$NGINX" -p "$_dir" -e "$_dir/error.log" -c "$_dir/nginx.conf" ||
        { cat "$_dir/error.log" >&2; return 1; }
    _i=0
    while [ ! -s "$_dir/nginx.pid" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    mkdir -p "$_dir/www/app"
    cat > "$_dir/www/app/index.html" <<'HTML'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dummy tool</title></head>
<body><p id="tool">internal tool</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<form method="post" action="/logout/all"><button type="submit">Log out from all devices</button></form>
</body></html>
HTML
    chmod -R a+rX "$_dir/www"
}
