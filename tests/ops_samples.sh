#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The deployment samples in conf/ work as shipped:
#  - conf/checkup.conf loads (with its store moved to a temp dir);
#  - conf/redis/redis.conf + checkup-auth.conf run a real redis-server on
#    which a PAM login through pam_checkup.so makes a session as the ACL
#    user "checkup", while that user is refused everything checkup never
#    sends (FLUSHALL, CONFIG, KEYS, keys outside "ck:"), and the server
#    keeps noeviction and appendonly;
#  - conf/redis/sentinel.conf runs a real redis-sentinel through which
#    checkup finds the primary with the same user and password;
#  - conf/redis/cluster.conf runs a 6-node Redis Cluster with the same ACL,
#    whose shape checkup config check reports and on which a PAM login
#    makes a session as user "checkup";
#  - the systemd unit passes systemd-analyze verify, the tmpfiles entry
#    gives the mode the embedded store creates, and every YAML file parses.
# Every server started here is stopped by pid.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
for tool in "${REDIS_SERVER:-}" "${REDIS_SENTINEL:-}"; do
    if [ -z "$tool" ]; then
        echo "FAIL: redis-server and redis-sentinel are required (scripts/install-deps.sh)"
        exit 1
    fi
done
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'web_stop_all; redis_stop_all' EXIT INT TERM
d=$CK_TEST_TMP/ops
mkdir -p "$d"
conf=$top_srcdir/conf
ck=$top_builddir/checkup
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cli()  { redis-cli -p "$port" --no-auth-warning "$@" 2>&1; }
# drive ARGS...: tests/pam_drive through pam_wrapper (in a sanitizer build
# the ASan runtime cannot come first once libpam_wrapper is preloaded).
drive() {
    LD_PRELOAD=libpam_wrapper.so \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$top_builddir/tests/pam_drive" "$@"
}

# --- checkup.conf --------------------------------------------------------
sed "s|^url = .*|url = lmdb:$d/store0|" "$conf/checkup.conf" > "$d/sample.conf"
if "$ck" -c "$d/sample.conf" sessions list --user nobody@example.org > "$d/out" 2>&1; then
    ok "conf/checkup.conf loads"
else
    fail "conf/checkup.conf does not load:"; cat "$d/out"
fi
# Every commented-out key is a real key with a usable example value.
sed -e "s|^url = .*|url = lmdb:$d/store0|" -e 's|^#\([a-z_]* = ..*\)$|\1|' \
    -e '/^password = *$/d' -e '/^tls_verify/d' \
    -e "s|^password_file = .*|password_file = $d/none|" "$conf/checkup.conf" > "$d/all.conf"
if "$ck" -c "$d/all.conf" sessions list --user nobody@example.org > "$d/out" 2>&1; then
    ok "conf/checkup.conf with every example uncommented loads"
else
    fail "conf/checkup.conf with its examples uncommented:"; cat "$d/out"
fi

# The configurations inside the Docker and Kubernetes samples load too.
python3 - "$conf/k8s/30-checkupd.yaml" > "$d/k8s.conf" <<'EOF' || fail "no checkup.conf in the k8s ConfigMap"
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "ConfigMap":
        sys.stdout.write(doc["data"]["checkup.conf"])
EOF
for c in "$conf/docker/checkup.conf" "$d/k8s.conf"; do
    sed "s|^url = .*|url = lmdb:$d/store0|" "$c" > "$d/other.conf"
    if "$ck" -c "$d/other.conf" sessions list --user nobody@example.org > "$d/out" 2>&1; then
        ok "$(basename "$c") loads"
    else
        fail "$c does not load:"; cat "$d/out"
    fi
done

# --- redis.conf and its ACL ----------------------------------------------
pw() { openssl rand -hex 24; }
admin=$(pw) app=$(pw) repl=$(pw) sent=$(pw) peer=$(pw)
sed -e "s/CHANGE-ME-admin/$admin/" -e "s/CHANGE-ME-checkup/$app/" \
    -e "s/CHANGE-ME-replica/$repl/g" -e "s/CHANGE-ME-sentinel/$sent/" \
    "$conf/redis/checkup-auth.conf" > "$d/auth.conf"
if grep -v '^#' "$d/auth.conf" | grep -q CHANGE-ME; then fail "a CHANGE-ME left in checkup-auth.conf"; fi
# The sample's own lines, less where it puts files and how it listens
# (the helper sets those for a test server).
set --
while IFS= read -r line; do
    case $line in
    ''|'#'*|'dir '*|'logfile '*|'port '*|'bind '*|'include '*|'appendonly '*) continue ;;
    esac
    set -- "$@" "$line"
done < "$conf/redis/redis.conf"
port=$(redis_start sample "$@" "appendonly yes" "include $d/auth.conf") || {
    fail "redis-server refuses conf/redis/redis.conf"; exit 1; }
ok "redis-server runs conf/redis/redis.conf"

case $(cli ping) in *NOAUTH*) ok "no password, no service" ;; *) fail "PING without AUTH answered" ;; esac
policy=$(cli -a "$admin" config get maxmemory-policy | tail -n 1)
[ "$policy" = noeviction ] && ok "maxmemory-policy noeviction" || fail "maxmemory-policy is '$policy'"
aof=$(cli -a "$admin" config get appendonly | tail -n 1)
[ "$aof" = yes ] && ok "appendonly yes" || fail "appendonly is '$aof'"
set -f   # "keys *" is a command here, not a glob
for cmd in "flushall" "config get maxmemory" "keys *" "debug sleep 0" "get other:key" \
           "eval return(1) 0" "script flush"; do
    # shellcheck disable=SC2086
    case $(cli --user checkup --pass "$app" $cmd) in
    *NOPERM*|*"not allowed"*) ok "checkup user refused: $cmd" ;;
    *) fail "checkup user may run: $cmd" ;;
    esac
done
set +f
# Commands checkup sends outside its scripts: [store] wait_replicas (WAIT)
# and the lock index (ZREMRANGEBYSCORE).
for cmd in "wait 0 10" "zremrangebyscore ck:x:locks -inf 0"; do
    # shellcheck disable=SC2086
    case $(cli --user checkup --pass "$app" $cmd) in
    [0-9]*) ok "checkup user may run: $cmd" ;;
    *) fail "checkup user refused: $cmd" ;;
    esac
done

# A real login through pam_checkup.so as the ACL user.
ck_pam_setup "$d" "$top_builddir" 600 3600
umask 077
printf '%s\n' "$app" > "$d/redis.password"
sed -i "s|^url = .*|url = redis://127.0.0.1:$port/0\nuser = checkup\npassword_file = $d/redis.password|" \
    "$d/checkup.conf"
printf 'pw one\n' > "$d/pw"
"$ck" -c "$d/checkup.conf" user add alice@example.org --role doctor --local-user alice \
    --password-stdin < "$d/pw" > /dev/null
(
    ck_pam_wrap "$d"
    drive -s checkup -u alice \
        -r 192.0.2.1 -t pts/1 -k "$d/token" auth acct open < "$d/pw"
) > "$d/pam.out" 2>&1 && ok "PAM login on the sample Redis as user checkup" ||
    { fail "PAM login on the sample Redis:"; cat "$d/pam.out"; }
n=$("$ck" -c "$d/checkup.conf" sessions list --user alice@example.org 2>&1 | grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}')
[ "$n" = 1 ] && ok "the session is listed" || fail "sessions listed: $n"
# Counted inside Redis: session keys hold raw hash bytes, newlines included.
counts=$(cli -a "$admin" eval "local all, other = redis.call('KEYS', '*'), 0
    for _, k in ipairs(all) do if string.sub(k, 1, 3) ~= 'ck:' then other = other + 1 end end
    return {#all, other}" 0 | tr '\n' ' ')
case $counts in
"0 "*|"") fail "no key in Redis after a login ($counts)" ;;
*" 0 ") ok "every key checkup wrote starts with ck: ($counts)" ;;
*) fail "keys outside ck: (all, outside: $counts)" ;;
esac

# --- sentinel.conf -------------------------------------------------------
sed -e "s/CHANGE-ME-sentinel-peer/$peer/g" -e "s/CHANGE-ME-sentinel/$sent/g" \
    -e "s/CHANGE-ME-checkup/$app/g" "$conf/redis/sentinel.conf" > "$d/sentinel.lines"
set --
while IFS= read -r line; do
    case $line in
    ''|'#'*|'dir '*|'logfile '*|'port '*|'bind '*|'sentinel monitor '*) continue ;;
    esac
    set -- "$@" "$line"
done < "$d/sentinel.lines"
# A replica, as the samples run one: with a Sentinel URL, [store]
# wait_replicas (1 by default) needs it to confirm every login.
rport=$(redis_start sample-replica "replicaof 127.0.0.1 $port" "masteruser replica" \
    "masterauth $repl") || fail "a replica of the sample Redis does not start"
i=0
until redis-cli -p "$rport" info replication 2>/dev/null | grep -q 'master_link_status:up'; do
    i=$((i + 1))
    [ $i -gt 100 ] && { fail "the replica never synced as user replica"; break; }
    sleep 0.1
done
sport=$(sentinel_start sentinel checkup "$port" "$@") || {
    fail "redis-sentinel refuses conf/redis/sentinel.conf"; exit 1; }
ok "redis-sentinel runs conf/redis/sentinel.conf"
sed -i "s|^url = .*|url = redis+sentinel://127.0.0.1:$sport/checkup|" "$d/checkup.conf"
if "$ck" -c "$d/checkup.conf" sessions list --user alice@example.org > "$d/out" 2>&1 &&
    [ "$(grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}' "$d/out")" = 1 ]; then
    ok "checkup finds the primary through the sample sentinel"
else
    fail "through the sentinel:"; cat "$d/out"
fi
case $(redis-cli -p "$sport" sentinel masters 2>&1) in
*NOAUTH*|*WRONGPASS*|*NOPERM*) ok "the sentinel refuses anonymous clients" ;;
*) fail "the sentinel answers anonymous clients" ;;
esac
case $(redis-cli -p "$sport" --no-auth-warning --user checkup --pass "$app" sentinel masters 2>&1) in
*NOPERM*) ok "the checkup user may only ask where the primary is" ;;
*) fail "the checkup user may run SENTINEL MASTERS" ;;
esac

# --- checkupd from the Docker and Kubernetes samples ----------------------
# Each sample's checkup.conf, as shipped, runs checkupd on the sample Redis
# through the sample sentinel. Changed for loopback only: the store's host
# list (the master name stays), where the secrets are mounted (a Docker
# secret is a plain file; a Kubernetes secret volume is symlinks into a
# ..data directory, mode 0400) and the listen address (0.0.0.0:8080 becomes
# a free loopback port, after checking that 8080 is the port the image,
# the compose file, the probes and the Service use).
python3 - "$conf/k8s/30-checkupd.yaml" "$conf/docker-compose.yml" "$conf/docker/Dockerfile" \
    > "$d/ports" 2>&1 <<'EOF'
import sys, yaml
docs = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
dep = next(x for x in docs if x["kind"] == "Deployment")
svc = next(x for x in docs if x["kind"] == "Service")
c = dep["spec"]["template"]["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
for probe in ("readinessProbe", "livenessProbe"):
    g = c[probe]["httpGet"]
    print("k8s", probe, g["path"], ports.get(g["port"], g["port"]))
t = svc["spec"]["ports"][0]["targetPort"]
print("k8s service-target", ports.get(t, t))
compose = yaml.safe_load(open(sys.argv[2]))
for p in compose["services"]["checkupd"]["ports"]:
    print("compose published", p.rsplit(":", 1)[1])
for line in open(sys.argv[3]):
    if line.startswith("EXPOSE"):
        print("docker expose", line.split()[1])
EOF
[ "$(grep -c . "$d/ports")" -ge 5 ] || { fail "cannot read the ports of the samples:"; cat "$d/ports"; }
bad=$(grep -v ' 8080$' "$d/ports")
[ -z "$bad" ] && ok "image, compose file, probes and Service all use port 8080" ||
    fail "a sample port is not 8080: $bad"

# run_sample NAME CONF SECRETS-LAYOUT: checkupd with CONF on the sentinel.
run_sample() {
    _n=$1 _c=$2 _layout=$3 _s=$d/$1/secrets
    mkdir -p "$_s"
    grep -q '^listen = 0.0.0.0:8080$' "$_c" && ok "$_n: checkupd listens on 0.0.0.0:8080" ||
        fail "$_n: checkup.conf does not listen on 0.0.0.0:8080 (the probes' and Service's port)"
    sed -e "s|^url = redis+sentinel://[^/]*/|url = redis+sentinel://127.0.0.1:$sport/|" \
        -e "s|/run/secrets/|$_s/|" -e 's|^listen = 0.0.0.0:8080$|listen = 127.0.0.1:0|' \
        "$_c" > "$d/$_n/checkup.conf"
    # The secret files, as the sample's comments say to make them.
    _users=$(sed -n "s|^file = $_s/||p" "$d/$_n/checkup.conf")
    _keys=$(sed -n "s|^key_file = $_s/||p" "$d/$_n/checkup.conf")
    _pwf=$(sed -n "s|^password_file = $_s/||p" "$d/$_n/checkup.conf")
    [ -n "$_users" ] && [ -n "$_keys" ] && [ -n "$_pwf" ] ||
        { fail "$_n: users, key ring or Redis password not under /run/secrets"; return 1; }
    _src=$_s
    [ "$_layout" = k8s ] && _src=$d/$_n/volume-data
    mkdir -p "$_src/$(dirname "$_users")" "$_src/$(dirname "$_keys")" "$_src/$(dirname "$_pwf")"
    printf '[users]\nfile = %s\n[tokens]\nkey_file = %s\n' "$_src/$_users" "$_src/$_keys" \
        > "$d/$_n/local.conf"
    "$ck" -c "$d/$_n/local.conf" keys generate > /dev/null &&
        "$ck" -c "$d/$_n/local.conf" user add dana@example.org --role doctor \
            --password-stdin < "$d/pw" > /dev/null || { fail "$_n: cannot make the secrets"; return 1; }
    printf '%s\n' "$app" > "$_src/$_pwf"
    chmod 0400 "$_src/$_users" "$_src/$_keys" "$_src/$_pwf"
    if [ "$_layout" = k8s ]; then
        # A secret volume: DIR/name -> ..data/name, ..data -> ..TIMESTAMP.
        for _f in "$_users" "$_keys" "$_pwf"; do
            _vol=$_s/$(dirname "$_f")
            mkdir -p "$_vol"
            [ -e "$_vol/..2026_01_01_00_00_00.1" ] ||
                cp -a "$_src/$(dirname "$_f")" "$_vol/..2026_01_01_00_00_00.1"
            ln -sfn ..2026_01_01_00_00_00.1 "$_vol/..data"
            ln -sfn "..data/$(basename "$_f")" "$_vol/$(basename "$_f")"
        done
    fi
    web_start "$_n" "$d/$_n/checkup.conf" ||
        { fail "$_n: checkupd does not start with the sample's checkup.conf"; return 1; }
    ok "$_n: checkupd starts with the sample's checkup.conf"
    for _path in $(awk '$1 == "k8s" && $2 ~ /Probe$/ { print $3 }' "$d/ports") /healthz; do
        check "$_n: probe $_path" 200 "$(status "http://127.0.0.1:$WEB_PORT$_path")"
    done
    WEB_ORIGIN=$(sed -n 's|^public_url = \(https://[^/]*\).*|\1|p' "$d/$_n/checkup.conf")
    _tok=$(web_login "$WEB_PORT" dana@example.org 'pw one')
    [ -n "$_tok" ] && ok "$_n: a password login gives a session cookie" ||
        fail "$_n: the login gave no cookie"
    check "$_n: the session is valid (through the sentinel's primary)" 200 \
        "$(status "http://127.0.0.1:$WEB_PORT/session" -H "Cookie: $WEB_COOKIE=$_tok")"
    check "$_n: /metrics from this host" 200 "$(status "http://127.0.0.1:$WEB_PORT/metrics")"
    web_stop "$_n"
    check "$_n: checkupd stops cleanly" 0 "$WEB_RC"
}
mkdir -p "$d/docker" "$d/k8s"
run_sample docker "$conf/docker/checkup.conf" docker
run_sample k8s "$d/k8s.conf" k8s
fails=$((fails + WEB_FAILED))
redis_stop sentinel

# --- pam.d stacks ---------------------------------------------------------
# The auth and account lines of the stacks that combine pam_unix and
# pam_checkup, with the real pam_unix: a checkup user gets in with the
# password pam_unix read (use_first_pass), a wrong one is refused.
pd=$CK_TEST_TMP/pamd
mkdir -p "$pd"
ck_pam_setup "$pd" "$top_builddir" 600 3600
"$ck" -c "$pd/checkup.conf" user add bea@example.org --role nurse --local-user bea \
    --password-stdin < "$d/pw" > /dev/null
m="$top_builddir/.libs/pam_checkup.so config=$pd/checkup.conf"
for sample in common-auth-checkup login sshd sshd-checkup; do
    grep -E '^(auth|account)[[:space:]]' "$conf/pam.d/$sample" |
        grep -v 'pam_faildelay\|pam_nologin\|pam_group' |
        sed "s|pam_checkup\.so|$m|" > "$pd/services/stack"
    grep -q 'pam_unix.so' "$pd/services/stack" && grep -q 'use_first_pass' "$pd/services/stack" ||
        fail "pam.d/$sample: no pam_unix with pam_checkup use_first_pass after it"
    grep -q '^account' "$pd/services/stack" ||
        echo "account [success=ok user_unknown=ignore default=bad] $m" >> "$pd/services/stack"
    printf '%s\n' "account required pam_permit.so" "session required $m" \
        "session required pam_permit.so" >> "$pd/services/stack"
    run() {
        ( ck_pam_wrap "$pd"
          printf '%s\n' "$2" | drive -s stack -u "$1" -k "$pd/token" auth acct open ) > "$pd/out" 2>&1
    }
    if run bea 'pw one'; then
        ok "pam.d/$sample: a checkup user logs in through the stack"
    else
        fail "pam.d/$sample: the checkup user is refused:"; cat "$pd/out"
    fi
    if run bea 'not it'; then
        fail "pam.d/$sample: a wrong password gets in"
    else
        ok "pam.d/$sample: a wrong password is refused"
    fi
done

# --- nginx auth_request ------------------------------------------------------
# conf/nginx/checkup.conf in a real nginx, over TLS, in front of a stand-in
# checkupd (200 with X-Checkup-* headers for one cookie, 401 otherwise) and
# a stand-in tool that echoes the headers it receives.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
    fail "nginx is required (scripts/install-deps.sh installs it)"
else
    nx=$CK_TEST_TMP/nginx
    mkdir -p "$nx"
    cat > "$nx/stub.py" <<'EOF'
import http.server, sys
role = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, as checkupd does: the sample must
    # reuse them for auth subrequests.
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if role == "checkupd":
            if self.path == "/session":
                with open(sys.argv[3], "a") as f:
                    f.write("%d %s\n" % (self.client_address[1],
                                         self.headers.get("X-Forwarded-For", "-")))
                if "__Host-checkup=good" in (self.headers.get("Cookie") or ""):
                    self.send_response(200)
                    self.send_header("X-Checkup-User", "alice@example.org")
                    self.send_header("X-Checkup-Role", "doctor")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                return
            body = ("checkupd page " + self.path).encode()
        else:
            body = "".join("%s: %s\n" % (k.lower(), v) for k, v in self.headers.items()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
EOF
    python3 "$nx/stub.py" checkupd "$nx/ckd.port" "$nx/session.log" & echo $! > "$nx/ckd.pid"
    python3 "$nx/stub.py" tool "$nx/tool.port" & echo $! > "$nx/tool.pid"
    i=0
    while { [ ! -s "$nx/ckd.port" ] || [ ! -s "$nx/tool.port" ]; } && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=tools.example.org -keyout "$nx/key.pem" -out "$nx/cert.pem" 2>/dev/null
    tries=0
    while [ $tries -lt 10 ]; do
        tries=$((tries + 1))
        hp=$(ck_free_port); sp=$(ck_free_port)
        sed -e "s|127.0.0.1:8080|127.0.0.1:$(cat "$nx/ckd.port")|" \
            -e "s|127.0.0.1:3000|127.0.0.1:$(cat "$nx/tool.port")|" \
            -e "s|/etc/ssl/certs/tools.example.org.pem|$nx/cert.pem|" \
            -e "s|/etc/ssl/private/tools.example.org.key|$nx/key.pem|" \
            -e "s|listen 80;|listen 127.0.0.1:$hp;|" -e "s|listen 443 ssl http2;|listen 127.0.0.1:$sp ssl http2;|" \
            -e '/listen \[::\]/d' "$conf/nginx/checkup.conf" > "$nx/site.conf"
        cat > "$nx/nginx.conf" <<EOF
pid $nx/nginx.pid;
error_log $nx/error.log;
daemon off;
events {}
http {
    access_log off;
    client_body_temp_path $nx/body; proxy_temp_path $nx/proxy;
    fastcgi_temp_path $nx/fastcgi; uwsgi_temp_path $nx/uwsgi; scgi_temp_path $nx/scgi;
    include $nx/site.conf;
}
EOF
        "$NGINX" -p "$nx" -c "$nx/nginx.conf" 2>> "$nx/error.log" & echo $! > "$nx/nginx.run"
        i=0
        while ! curl -sk -o /dev/null "https://127.0.0.1:$sp/login" && [ $i -lt 30 ]; do
            ck_alive "$(cat "$nx/nginx.run")" || break
            sleep 0.1; i=$((i + 1))
        done
        ck_alive "$(cat "$nx/nginx.run")" && break
    done
    u=https://127.0.0.1:$sp
    curl -sk -H 'Cookie: __Host-checkup=good' -H 'X-Checkup-User: mallory@example.org' \
        -H 'X-Checkup-Role: admin' "$u/chart/7" > "$nx/tool.out"
    if grep -qx 'x-checkup-user: alice@example.org' "$nx/tool.out" &&
        grep -qx 'x-checkup-role: doctor' "$nx/tool.out" &&
        ! grep -q 'mallory\|admin' "$nx/tool.out" && ! grep -qi '^cookie:' "$nx/tool.out"; then
        ok "nginx: a live session reaches the tool with checkupd's headers, never the client's or the cookie"
    else
        fail "nginx: what the tool received:"; cat "$nx/tool.out"; tail -n 5 "$nx/error.log"
    fi
    got=$(curl -sk -o /dev/null -w '%{http_code} %{redirect_url}' "$u/chart/7?x=1")
    [ "$got" = "302 https://127.0.0.1/login?rd=/chart/7?x=1" ] &&
        ok "nginx: no session, off to the login page ($got)" || fail "nginx: without a session: $got"
    got=$(curl -sk "$u/login")
    [ "$got" = "checkupd page /login" ] && ok "nginx: /login reaches checkupd without a session" ||
        fail "nginx: /login: $got"
    got=$(curl -sk -o /dev/null -w '%{http_code}' "$u/metrics")
    [ "$got" = 302 ] && ok "nginx: /metrics is not published" || fail "nginx: /metrics answers $got"
    # 20 pages, each an auth subrequest: nginx must reuse its connections to
    # checkupd (the stub logs the source port of each /session) and pass
    # the client's address.
    : > "$nx/session.log"
    i=0
    while [ $i -lt 20 ]; do
        curl -sk -o /dev/null -H 'Cookie: __Host-checkup=good' "$u/page/$i"
        i=$((i + 1))
    done
    n=$(wc -l < "$nx/session.log")
    ports=$(cut -d' ' -f1 "$nx/session.log" | sort -u | wc -l)
    [ "$n" -eq 20 ] && [ "$ports" -le 2 ] &&
        ok "nginx: 20 auth subrequests over $ports connection(s) to checkupd" ||
        fail "nginx: 20 pages made $n auth subrequests over $ports connections (keepalive lost?)"
    [ "$(cut -d' ' -f2 "$nx/session.log" | sort -u)" = 127.0.0.1 ] &&
        ok "nginx: auth subrequests carry the client's address" ||
        fail "nginx: X-Forwarded-For of auth subrequests: $(cut -d' ' -f2 "$nx/session.log" | sort -u | tr '\n' ' ')"
    # Under load, with the real checkupd behind the sample: the auth
    # subrequests of a few thousand pages keep to a few kept-alive
    # connections (checkupd's count stays flat, nothing piles up in
    # TIME-WAIT), where losing keepalive would open one per page.
    rd=$nx/real
    web_setup "$rd" "lmdb:$rd/store" "trusted_proxies = 127.0.0.1" > /dev/null || fail "real checkupd setup"
    sed -i "s|^public_url = .*|public_url = https://127.0.0.1:$sp|" "$rd/checkup.conf"
    if web_start real "$rd/checkup.conf"; then
        rp=$WEB_PORT
        tok=$(WEB_ORIGIN=https://127.0.0.1:$sp web_login "$rp" alice@example.org "$WEB_PW_ALICE")
        sed -i "s|server 127.0.0.1:$(cat "$nx/ckd.port")|server 127.0.0.1:$rp|" "$nx/site.conf"
        kill -HUP "$(cat "$nx/nginx.run")"
        i=0
        while [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Cookie: $WEB_COOKIE=$tok" \
                  "$u/page/0")" != 200 ] && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        conns() { ss -Htn state established "( sport = :$rp )" | wc -l; }
        waits() { ss -Htan state time-wait "( sport = :$rp or dport = :$rp )" | wc -l; }
        w0=$(waits)
        wrk -t1 -c16 -d3s -H "Cookie: $WEB_COOKIE=$tok" "$u/page/1" > "$nx/wrk.out" 2>&1 &
        wp=$!
        most=0
        i=0
        while ck_alive "$wp" && [ $i -lt 60 ]; do
            c=$(conns); [ "$c" -gt "$most" ] && most=$c
            sleep 0.2; i=$((i + 1))
        done
        wait "$wp"
        reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$nx/wrk.out")
        non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$nx/wrk.out")
        w1=$(waits)
        echo "load: ${reqs:-?} pages, at most $most connections to checkupd, TIME-WAIT $w0 -> $w1"
        [ "${reqs:-0}" -ge 500 ] && [ -z "$non2xx" ] ||
            { fail "nginx + checkupd under load: too few pages or errors:"; cat "$nx/wrk.out"; }
        [ "$most" -ge 1 ] && [ "$most" -le 32 ] && [ $((w1 - w0)) -le 32 ] &&
            ok "nginx: ${reqs:-?} pages under load kept to $most connection(s) to the real checkupd" ||
            fail "nginx: ${reqs:-?} pages: up to $most connections, TIME-WAIT grew by $((w1 - w0))"
        web_stop real
    else
        fail "the real checkupd behind nginx did not start"
    fi
    got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$hp/x")
    [ "$got" = "301 https://127.0.0.1/x" ] && ok "nginx: plain http goes to https" ||
        fail "nginx: plain http: $got"
    for p in nginx.run ckd.pid tool.pid; do
        pid=$(cat "$nx/$p")
        kill "$pid" 2>/dev/null
        i=0
        while ck_alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    done
fi

# --- systemd, tmpfiles ---------------------------------------------------
unit=$d/checkupd.service
sed -e 's|^ExecStart=.*|ExecStart=/bin/sleep 1|' "$conf/systemd/checkupd.service" > "$unit"
if ! command -v systemd-analyze > /dev/null; then
    fail "systemd-analyze is required (package systemd)"
else
    # verify exits 0 on unknown keys and bad values, but complains: any
    # output is a failure.
    if systemd-analyze verify --man=no "$unit" > "$d/verify" 2>&1 && [ ! -s "$d/verify" ]; then
        ok "systemd-analyze verify: clean"
    else
        fail "systemd-analyze verify:"; cat "$d/verify"
    fi
fi
# The sweep timer and its service: clean, and the service's command line
# (with this tree's binary and a scratch store) sweeps.
cp "$conf/systemd/checkup-sweep.timer" "$d/"
sweep_cmd=$(sed -n 's/^ExecStart=//p' "$conf/systemd/checkup-sweep.service")
sed -e 's|^ExecStart=.*|ExecStart=/bin/true|' "$conf/systemd/checkup-sweep.service" \
    > "$d/checkup-sweep.service"
if systemd-analyze verify --man=no "$d/checkup-sweep.service" "$d/checkup-sweep.timer" \
        > "$d/verify" 2>&1 && [ ! -s "$d/verify" ]; then
    ok "systemd-analyze verify checkup-sweep.service checkup-sweep.timer: clean"
else
    fail "systemd-analyze verify checkup-sweep.*:"; cat "$d/verify"
fi
grep -q '^OnUnitActiveSec=' "$d/checkup-sweep.timer" && ok "the timer repeats" ||
    fail "checkup-sweep.timer has no OnUnitActiveSec="
printf '[store]\nurl = lmdb:%s/sweepstore\n' "$d" > "$d/sweep.conf"
# shellcheck disable=SC2086
set -- $sweep_cmd
if [ "$1" = /usr/bin/checkup ] && [ "$2" = -c ] && [ "$3" = /etc/checkup/checkup.conf ]; then
    shift 3
    "$ck" -c "$d/sweep.conf" "$@" > "$d/sweep.out" 2>&1 &&
        grep -q 'removed 0 expired' "$d/sweep.out" && ok "the sweep service's command sweeps" ||
        { fail "the sweep service's command:"; cat "$d/sweep.out"; }
else
    fail "checkup-sweep.service runs '$sweep_cmd', not /usr/bin/checkup -c /etc/checkup/checkup.conf ..."
fi

for want in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/run/checkup PrivateTmp=yes \
            ProtectHome=yes CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter=; do
    grep -q "^$want" "$unit" && ok "unit has $want" || fail "unit lacks $want"
done
# sysusers.d and tmpfiles.d, applied to a scratch root: the group exists,
# and /run/checkup is 2770 root:checkup, as the embedded store makes its
# directory (store/lmdb/lmdb_env.c creates it 02770 with files 0660).
grep -q 'mkdir(dir, 02770)' "$top_srcdir/store/lmdb/lmdb_env.c" ||
    fail "store/lmdb/lmdb_env.c no longer creates the store 02770: update conf/tmpfiles.d"
sr=$d/sysroot
mkdir -p "$sr/etc/tmpfiles.d" "$sr/etc/sysusers.d" "$sr/run"
cp "$conf/sysusers.d/checkup.conf" "$sr/etc/sysusers.d/"
cp "$conf/tmpfiles.d/checkup.conf" "$sr/etc/tmpfiles.d/"
echo 'root:x:0:' > "$sr/etc/group"
echo 'root:x:0:0::/root:/bin/sh' > "$sr/etc/passwd"
if systemd-sysusers --root="$sr" checkup.conf > "$d/tmpfiles.out" 2>&1 &&
    systemd-tmpfiles --create --root="$sr" checkup.conf >> "$d/tmpfiles.out" 2>&1; then
    gid=$(awk -F: '$1 == "checkup" { print $3 }' "$sr/etc/group")
    got=$(stat -c '%a %u %g' "$sr/run/checkup" 2>&1)
    [ -n "$gid" ] && [ "$got" = "2770 0 $gid" ] &&
        ok "sysusers + tmpfiles: /run/checkup 2770 root:checkup" ||
        fail "sysusers + tmpfiles: /run/checkup is '$got', group checkup '$gid'"
else
    fail "systemd-sysusers / systemd-tmpfiles:"; cat "$d/tmpfiles.out"
fi

# --- cluster.conf ----------------------------------------------------------
# conf/redis/cluster.conf on top of redis.conf and checkup-auth.conf runs
# 6 cluster nodes (3 primaries, replicas as user "replica"); checkup, as
# user "checkup" of the same ACL, checks the cluster's shape and logs in
# (the PAM service's checkup.conf now names the cluster).
. "$top_srcdir/tests/lib/cluster.sh"
set --
while IFS= read -r line; do
    case $line in
    ''|'#'*|'dir '*|'logfile '*|'port '*|'bind '*|'include '*|'appendonly '*) continue ;;
    esac
    set -- "$@" "$line"
done < "$conf/redis/redis.conf"
grep -q '^include /etc/redis/redis.conf$' "$conf/redis/cluster.conf" ||
    fail "cluster.conf does not include redis.conf"
while IFS= read -r line; do
    case $line in ''|'#'*|'include '*) continue ;; esac
    set -- "$@" "$line"
done < "$conf/redis/cluster.conf"
if CL_ADMIN_PW=$admin cluster_start samplecl "$@" "include $d/auth.conf"; then
    ok "6 redis-server nodes run conf/redis/cluster.conf and form a cluster as user replica"
    cport=${CL_PORTS%% *}
    nt=$(CL_ADMIN_PW=$admin cl_cli "$cport" config get cluster-node-timeout | tail -n 1)
    [ "$nt" = "$(sed -n 's/^cluster-node-timeout //p' "$conf/redis/cluster.conf")" ] &&
        ok "the nodes run the sample's cluster-node-timeout ($nt)" || fail "cluster-node-timeout is '$nt'"
    sed -i "s|^url = .*|url = redis+cluster://$CL_SEEDS/\nwait_replicas = 1|" "$d/checkup.conf"
    if "$ck" -c "$d/checkup.conf" config check > "$d/out" 2>&1 &&
        grep -q '3 primaries, 3 replicas, 16384 of 16384 slots covered, 0 nodes unreachable' "$d/out"; then
        ok "checkup config check as user checkup reports the sample cluster's shape"
    else
        fail "config check on the sample cluster:"; cat "$d/out"
    fi
    (
        ck_pam_wrap "$d"
        drive -s checkup -u alice \
            -r 192.0.2.1 -t pts/1 -k "$d/token" auth acct open < "$d/pw"
    ) > "$d/pam.out" 2>&1 && ok "PAM login on the sample cluster as user checkup" ||
        { fail "PAM login on the sample cluster:"; cat "$d/pam.out"; }
    n=$("$ck" -c "$d/checkup.conf" sessions list --user alice@example.org 2>&1 |
        grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}')
    [ "$n" = 1 ] && ok "the session is listed from the cluster" || fail "sessions listed from the cluster: $n"
    case $(REDISCLI_AUTH=$app redis-cli --no-auth-warning --user checkup -p "$cport" flushall 2>&1) in
    *NOPERM*) ok "cluster: the checkup user is refused FLUSHALL" ;;
    *) fail "cluster: the checkup user may run FLUSHALL" ;;
    esac
else
    fail "conf/redis/cluster.conf: the cluster does not form"
fi

# --- YAML ----------------------------------------------------------------
if ! python3 -c 'import yaml' 2>/dev/null; then
    fail "python3 with the yaml module is required (package python3-yaml)"
else
    for y in "$conf"/docker-compose.yml "$conf"/k8s/*.yaml; do
        if python3 - "$y" > "$d/yaml" 2>&1 <<'EOF'
import sys, yaml
docs = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x is not None]
assert docs, "no document"
for doc in docs:
    assert isinstance(doc, dict), "a document is not a mapping"
    if "apiVersion" in doc or "kind" in doc:
        assert doc.get("apiVersion") and doc.get("kind"), "apiVersion and kind"
        assert doc.get("metadata", {}).get("name"), "metadata.name"
    else:
        assert "services" in doc, "a compose file has services"
print(len(docs), "document(s)")
EOF
        then
            ok "YAML: ${y#"$conf"/}: $(cat "$d/yaml")"
        else
            fail "YAML: ${y#"$conf"/}:"; cat "$d/yaml"
        fi
    done
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
