#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The container samples run as their manifests say, on loopback:
#  - the ACL of the Redis user "checkup" is the same wherever a sample
#    defines it (conf/redis, the Kubernetes init script);
#  - conf/k8s/20-redis.yaml: the ConfigMap's init.sh runs (paths under a
#    temp dir, the Secret's keys as files, hostnames and ports loopback),
#    then redis-server and the sentinel as the containers run them, the
#    readiness probe passes, and checkup as the ACL user logs in through
#    pam_checkup.so, locks an account after 5 wrong passwords, lists the
#    lockout and copies an embedded store in and back out (SCAN granted
#    for that copy only, as docs/operations.md says);
#  - conf/k8s: Secret keys, mounts, selectors, NetworkPolicy ports and
#    namespaces agree;
#  - conf/docker-compose.yml: the Redis primary, replica and sentinels run
#    with their command lines, the sentinels see the primary and replica,
#    and checkupd runs the Dockerfile's ENTRYPOINT and answers /healthz;
#    the Dockerfile's runtime packages hold the libraries the binaries use;
#  - conf/pam.d/checkup-token and clinic-portal do what their comments say.
# Every server started here is stopped by pid.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if [ -z "${REDIS_SERVER:-}" ]; then
    echo "FAIL: redis-server is required (scripts/install-deps.sh)"; exit 1
fi
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/pam_env.sh"
. "$top_srcdir/tests/web_common.sh"
pids=
# Servers run in the foreground, as in a container: stopped by pid.
stop_pids() {
    for _pid in $pids; do
        kill "$_pid" 2>/dev/null
        i=0
        while ck_alive "$_pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        ck_alive "$_pid" && kill -9 "$_pid" 2>/dev/null
    done
    pids=
}
trap 'stop_pids; web_stop_all; redis_stop_all' EXIT INT TERM
d=$CK_TEST_TMP/run
mkdir -p "$d"
conf=$top_srcdir/conf
ck=$top_builddir/checkup
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
drive() {
    LD_PRELOAD=libpam_wrapper.so \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$top_builddir/tests/pam_drive" "$@"
}
pw() { openssl rand -hex 24; }
# wait_redis PORT ARGS...: until the server answers PONG (5 s).
wait_redis() {
    _p=$1; shift
    _i=0
    while [ $_i -lt 50 ]; do
        redis-cli -p "$_p" --no-auth-warning "$@" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1; _i=$((_i + 1))
    done
    return 1
}
# free_port: a port nothing listens on, never one given before (the
# servers of one sample start together, after their ports are chosen).
taken=$d/ports
free_port() {
    while :; do
        _p=$(ck_free_port)
        grep -qx "$_p" "$taken" 2>/dev/null && continue
        ss -Htln "( sport = :$_p )" | grep -q . && continue
        echo "$_p" >> "$taken"; echo "$_p"; return
    done
}

# --- one ACL for user checkup ------------------------------------------------
# The commands granted, sorted, from a "user checkup on >PASSWORD ..." line.
acl() { sed -e 's/>\$(cat [^)]*)/>PW/' | sed -n 's/.*user checkup on >[^ ]* \(.*\)$/\1/p' | tr -d '"' | tr ' ' '\n' | sort | tr '\n' ' '; }
ref=$(grep '^user checkup ' "$conf/redis/checkup-auth.conf" | acl)
k8s=$(grep 'echo "user checkup on' "$conf/k8s/20-redis.yaml" | grep '~ck:' | acl)
[ -n "$ref" ] && [ "$ref" = "$k8s" ] &&
    ok "the k8s init.sh grants user checkup what conf/redis/checkup-auth.conf grants" ||
    fail "user checkup: checkup-auth.conf grants '$ref', the k8s init.sh '$k8s'"
sref=$(grep '^user checkup ' "$conf/redis/sentinel.conf" | acl)
sk8s=$(grep 'echo "user checkup on' "$conf/k8s/20-redis.yaml" | grep -v '~ck:' | acl)
[ -n "$sref" ] && [ "$sref" = "$sk8s" ] &&
    ok "the k8s sentinel's user checkup matches conf/redis/sentinel.conf" ||
    fail "sentinel user checkup: sentinel.conf '$sref', k8s '$sk8s'"
# docker-compose.yml takes the ACL from conf/redis (no copy of its own).
if grep -q 'user checkup' "$conf/docker-compose.yml"; then
    fail "docker-compose.yml has its own copy of the checkup ACL"
else
    ok "docker-compose.yml uses conf/redis/checkup-auth.conf's ACL"
fi
# --- conf/k8s/20-redis.yaml, run -----------------------------------------------
k=$d/k8s
mkdir -p "$k/secrets" "$k/run" "$k/data" "$k/etc" "$k/cm"
python3 - "$conf/k8s/20-redis.yaml" "$k" <<'EOF' || fail "cannot read conf/k8s/20-redis.yaml"
import sys, yaml, json
docs = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
cm = next(x for x in docs if x["kind"] == "ConfigMap")
for name, text in cm["data"].items():
    open(sys.argv[2] + "/cm/" + name, "w").write(text)
sts = next(x for x in docs if x["kind"] == "StatefulSet")
spec = sts["spec"]["template"]["spec"]
out = {"init": spec["initContainers"][0]["command"]}
for c in spec["containers"]:
    out[c["name"]] = c["command"]
    if "readinessProbe" in c:
        out["probe"] = c["readinessProbe"]["exec"]["command"]
json.dump(out, open(sys.argv[2] + "/commands.json", "w"))
EOF
# The Secret's keys, as files in the mounted volume.
python3 -c '
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc["metadata"]["name"] == "checkup-redis":
        print("\n".join(doc["stringData"]))' "$conf/k8s/10-secrets.yaml" > "$k/keys"
[ -s "$k/keys" ] || fail "no keys in the checkup-redis Secret"
umask 077
while read -r key; do pw > "$k/secrets/$key"; done < "$k/keys"
umask 022
rport=$(free_port); sport=$(free_port)
# cmd JSON-KEY: the container's command line, paths rewritten, one word a line.
rewrite() {
    sed -e "s|/etc/redis/run|$k/run|g" -e "s|/etc/redis/|$k/etc/|g" -e "s|/secrets/|$k/secrets/|g" \
        -e "s|/data|$k/data|g" -e "s|26379|$sport|g" -e "s|6379|$rport|g" \
        -e "s|redis-0\.redis\.checkup\.svc\.cluster\.local|127.0.0.1|g" \
        -e "s|sentinel\.checkup\.svc\.cluster\.local|127.0.0.1|g" \
        -e 's|^\( *me=\).*|\1127.0.0.1|' \
        -e "s|^\( *\)echo \"port $sport\"|&; echo \"bind 127.0.0.1\"|"
}
cmd() { python3 -c 'import sys, json; print("\n".join(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
    "$k/commands.json" "$1" | rewrite; }
rewrite < "$k/cm/init.sh" > "$k/etc/init.sh"
{ rewrite < "$k/cm/redis.conf"; echo "bind 127.0.0.1"; } > "$k/etc/redis.conf"
# The init container, then the two containers, as their commands say.
cmd init > "$k/init.argv"
set --
while IFS= read -r w; do set -- "$@" "$w"; done < "$k/init.argv"
if "$@" > "$k/init.out" 2>&1 && [ -s "$k/run/auth.conf" ] && [ -s "$k/run/sentinel.conf" ]; then
    ok "k8s: the init container's init.sh writes the ACL and sentinel.conf"
else
    fail "k8s: init.sh:"; cat "$k/init.out"
fi
grep -q '^replicaof' "$k/run/auth.conf" && fail "k8s: redis-0 with no sentinel up would follow someone"
cmd redis > "$k/redis.argv"
set --
while IFS= read -r w; do set -- "$@" "$w"; done < "$k/redis.argv"
"$@" > "$k/redis.log" 2>&1 &
pids="$pids $!"
app=$(cat "$k/secrets/checkup-password") admin=$(cat "$k/secrets/admin-password")
if wait_redis "$rport" -a "$admin"; then
    ok "k8s: redis-server runs the ConfigMap's redis.conf and init.sh's ACL"
else
    fail "k8s: redis-server does not start:"; tail -n 20 "$k/redis.log"
fi
probe=$(python3 -c 'import sys, json; print(json.load(open(sys.argv[1]))["probe"][2])' "$k/commands.json" |
    rewrite | sed "s|redis-cli |redis-cli -p $rport |")
sh -c "$probe" && ok "k8s: the readiness probe passes" || fail "k8s: the readiness probe fails: $probe"
# Every command checkup's Redis backend sends (in C or in its scripts) is
# granted: the quoted upper-case words of store/redis/*.c that this server
# knows as commands, less AUTH (always allowed), SENTINEL (sent to the
# sentinels), READONLY (an error reply here), SCRIPT (+script|load) and
# SCAN (only a copy from Redis needs it: granted for the copy, below).
# Left out: the cluster client's ck_cluster_route_key, which names
# commands to classify them (keyless or not) and sends none, and the table
# of session tags (redis_tags.c: strings such as "ACL" are tags). CLUSTER
# is sent only as CLUSTER SHARDS (+cluster|shards).
nc=0
for w in $(awk 'FILENAME ~ /redis_tags\.c$/ { next }
        /^int ck_cluster_route_key\(/ { skip = 1 } !skip { print } skip && /^}/ { skip = 0 }' \
        "$top_srcdir"/store/redis/*.c | grep -o "\"[A-Z][A-Z]*[\" ]\\|redis\\.call('[A-Z]*'" |
        tr -d "\"' " | sed 's/^redis\.call(//' | tr 'A-Z' 'a-z' | sort -u); do
    case $w in auth|sentinel|readonly|script|scan) continue ;; esac
    case $(redis-cli -p "$rport" --no-auth-warning -a "$admin" command info "$w" | head -n 1) in
    "$w") ;; *) continue ;; esac
    nc=$((nc + 1))
    [ "$w" = cluster ] && w='cluster|shards'
    case " $ref " in *" +$w "*) ;; *) fail "checkup sends $w, the ACL of user checkup does not grant it" ;; esac
done
[ "$nc" -ge 15 ] && ok "the ACL grants all $nc commands store/redis sends" ||
    fail "only $nc Redis commands found in store/redis/*.c"
cmd sentinel > "$k/sentinel.cmd"
sh -c "$(sed -n 3p "$k/sentinel.cmd")" > "$k/sentinel.log" 2>&1 &
pids="$pids $!"
i=0
while [ $i -lt 50 ] && ! grep -q '+monitor master' "$k/sentinel.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
got=$(redis-cli -p "$sport" --no-auth-warning --user checkup --pass "$app" \
    sentinel get-master-addr-by-name checkup 2>&1 | tr '\n' ' ')
[ "$got" = "127.0.0.1 $rport " ] && ok "k8s: the sentinel names the primary to user checkup" ||
    { fail "k8s: the sentinel answers '$got'"; tail -n 20 "$k/sentinel.log"; }
# init.sh run again (a restarted pod) asks the sentinel and finds itself.
sh "$k/etc/init.sh" > "$k/init2.out" 2>&1 && ! grep -q '^replicaof' "$k/run/auth.conf" &&
    ok "k8s: a restarted redis-0 asks the sentinel and stays primary" ||
    { fail "k8s: init.sh with the sentinel up:"; cat "$k/init2.out"; grep replicaof "$k/run/auth.conf"; }
# redis-1: its init.sh asks the sentinel Service, finds redis-0 and follows
# it (its own name is "localhost" here, so it is not the primary's). With
# Sentinel, checkup waits for a replica to confirm each login (WAIT).
k1=$k/pod1 rport1=$(free_port)
mkdir -p "$k1/run" "$k1/data" "$k1/etc"
pod1() {
    sed -e "s|/etc/redis/run|$k1/run|g" -e "s|/etc/redis/|$k1/etc/|g" -e "s|/secrets/|$k/secrets/|g" \
        -e "s|/data|$k1/data|g" -e "s|26379|$sport|g" -e "s|6379|$1|g" \
        -e "s|redis-0\.redis\.checkup\.svc\.cluster\.local|127.0.0.1|g" \
        -e "s|sentinel\.checkup\.svc\.cluster\.local|127.0.0.1|g" -e 's|^\( *me=\).*|\1localhost|'
}
pod1 "$rport" < "$k/cm/init.sh" > "$k1/etc/init.sh"
{ pod1 "$rport1" < "$k/cm/redis.conf"; echo "bind 127.0.0.1"; } > "$k1/etc/redis.conf"
if sh "$k1/etc/init.sh" > "$k1/init.out" 2>&1 && grep -qx "replicaof 127.0.0.1 $rport" "$k1/run/auth.conf"; then
    ok "k8s: redis-1's init.sh follows the primary the sentinel names"
else
    fail "k8s: redis-1's init.sh:"; cat "$k1/init.out"; grep replicaof "$k1/run/auth.conf"
fi
cmd redis | sed "s|$k/etc/|$k1/etc/|" > "$k1/redis.argv"
set --
while IFS= read -r w; do set -- "$@" "$w"; done < "$k1/redis.argv"
"$@" > "$k1/redis.log" 2>&1 &
pids="$pids $!"
# (A full sync waits repl-diskless-sync-delay, 5 s, for more replicas.)
i=0
while [ $i -lt 150 ] && ! redis-cli -p "$rport1" --no-auth-warning -a "$admin" info replication 2>/dev/null |
        grep -q 'master_link_status:up'; do sleep 0.1; i=$((i + 1)); done
# Then until it acknowledges writes (after the sync it rewrites its AOF).
while [ $i -lt 150 ] && [ "$(redis-cli -p "$rport" --no-auth-warning -a "$admin" wait 1 200)" != 1 ]; do
    i=$((i + 1))
done
[ $i -lt 150 ] && ok "k8s: redis-1 replicates from redis-0 as user replica" ||
    { fail "k8s: redis-1 does not replicate"; tail -n 5 "$k1/redis.log"; }

# checkup as the ACL user, through the sentinel: login, lockout, store copy.
p=$d/pam
ck_pam_setup "$p" "$top_builddir" 600 3600
cp "$p/checkup.conf" "$p/lmdb.conf"
sed -i "s|^url = .*|url = redis+sentinel://127.0.0.1:$sport/checkup\nuser = checkup\npassword_file = $k/secrets/checkup-password|" \
    "$p/checkup.conf"
printf 'pw one\n' > "$p/pw"
"$ck" -c "$p/checkup.conf" user add alice@example.org --role doctor --local-user alice \
    --password-stdin < "$p/pw" > /dev/null
pam() { ( ck_pam_wrap "$p"; drive -s checkup -u "$1" -r 192.0.2.1 -k "$p/token" auth acct open ) \
    > "$p/out" 2>&1; }
pam alice < "$p/pw" && ok "k8s: a PAM login as Redis user checkup" || { fail "k8s: PAM login:"; cat "$p/out"; }
"$ck" -c "$p/checkup.conf" user add bert@example.org --role nurse --local-user bert \
    --password-stdin < "$p/pw" > /dev/null
for n in 1 2 3 4 5; do echo wrong > "$p/bad"; pam bert < "$p/bad"; done
grep -q NOPERM "$p/out" "$k/redis.log" && fail "k8s: NOPERM during the wrong passwords"
if pam bert < "$p/pw"; then fail "k8s: bert is not locked after 5 wrong passwords"
else ok "k8s: 5 wrong passwords lock bert"; fi
"$ck" -c "$p/checkup.conf" lockout list > "$p/locks" 2>&1 && grep -q bert@example.org "$p/locks" &&
    ok "k8s: checkup lockout list shows bert" || { fail "k8s: lockout list:"; cat "$p/locks"; }
# An embedded store with a session, copied in.
sed -i "s|^url = .*|url = lmdb:$p/lstore|" "$p/lmdb.conf"
sed "s|config=[^ ]*|config=$p/lmdb.conf|" "$p/services/checkup" > "$p/services/lmdb"
( ck_pam_wrap "$p"; drive -s lmdb -u alice -k "$p/token2" auth acct open < "$p/pw" ) > "$p/out" 2>&1 ||
    { fail "login on the embedded store:"; cat "$p/out"; }
if "$ck" -c "$p/checkup.conf" store copy --from "lmdb:$p/lstore" \
        --to "redis+sentinel://127.0.0.1:$sport/checkup" > "$p/copy" 2>&1 &&
    "$ck" -c "$p/checkup.conf" store copy --from "lmdb:$p/lstore" \
        --to "redis+sentinel://127.0.0.1:$sport/checkup" --verify >> "$p/copy" 2>&1; then
    ok "k8s: checkup store copy from LMDB (and --verify) as user checkup"
else
    fail "k8s: store copy:"; cat "$p/copy"
fi
n=$("$ck" -c "$p/checkup.conf" sessions list --user alice@example.org 2>&1 | grep -c '^[0-9A-Za-z_-][0-9A-Za-z_-][0-9a-f]\{10\}')
[ "$n" = 2 ] && ok "k8s: alice's two sessions are in Redis" || fail "k8s: alice's sessions in Redis: $n"
# And back (a rollback): reading Redis takes SCAN, which the sample ACL
# leaves out; docs/operations.md grants it for the copy and takes it back.
back() { "$ck" -c "$p/checkup.conf" store copy --from "redis+sentinel://127.0.0.1:$sport/checkup" \
    --to "lmdb:$p/back" > "$p/back.out" 2>&1; }
if back; then fail "k8s: user checkup may SCAN (the sample ACL leaves it out)"
elif grep -q NOPERM "$p/back.out"; then ok "k8s: a copy from Redis is refused SCAN without the grant"
else fail "k8s: store copy back to LMDB without SCAN:"; cat "$p/back.out"; fi
ad() { redis-cli -p "$rport" --no-auth-warning -a "$admin" "$@"; }
ad acl setuser checkup +scan > /dev/null
if back; then ok "k8s: with ACL SETUSER checkup +scan (as documented) the copy back to LMDB works"
else fail "k8s: store copy back to LMDB with +scan:"; cat "$p/back.out"; fi
ad acl setuser checkup -scan > /dev/null
grep -i noperm "$k/redis.log" "$p/copy" && fail "k8s: the ACL refused a command"
stop_pids

# --- conf/k8s: names, mounts, selectors, ports ------------------------------------
python3 - "$conf/k8s" > "$d/k8s.check" 2>&1 <<'EOF'
import sys, yaml, glob
docs = []
for f in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    docs += [(f.rsplit("/", 1)[1], x) for x in yaml.safe_load_all(open(f)) if x]
bad = []
ns = [x for _, x in docs if x["kind"] == "Namespace"]
assert len(ns) == 1, "one Namespace"
nsname = ns[0]["metadata"]["name"]
for f, x in docs:
    if x["kind"] != "Namespace" and x["metadata"].get("namespace") != nsname:
        bad.append("%s %s: namespace %r, not %r" % (f, x["metadata"]["name"], x["metadata"].get("namespace"), nsname))
secrets = {x["metadata"]["name"]: set(x.get("stringData", {}) or {}) | set(x.get("data", {}) or {})
           for _, x in docs if x["kind"] == "Secret"}
configmaps = {x["metadata"]["name"]: set(x["data"]) for _, x in docs if x["kind"] == "ConfigMap"}
workloads = [(f, x) for f, x in docs if x["kind"] in ("Deployment", "StatefulSet")]
pods = []   # (labels, ports)
for f, w in workloads:
    t = w["spec"]["template"]
    labels = t["metadata"]["labels"]
    sel = w["spec"]["selector"]["matchLabels"]
    if any(labels.get(a) != b for a, b in sel.items()):
        bad.append("%s: selector %s does not match its pods' labels" % (f, sel))
    ports = {}
    for c in t["spec"]["containers"]:
        for p in c.get("ports", []):
            ports[p.get("name", p["containerPort"])] = p["containerPort"]
    pods.append((labels, ports))
    mounted = {}
    for v in t["spec"].get("volumes", []):
        if "secret" in v:
            s = v["secret"]["secretName"]
            if s not in secrets:
                bad.append("%s: volume %s mounts Secret %s, which no file defines" % (f, v["name"], s)); continue
            keys = [i["key"] for i in v["secret"].get("items", [])] or sorted(secrets[s])
            for key in keys:
                if key not in secrets[s]:
                    bad.append("%s: Secret %s has no key %s" % (f, s, key))
            mounted[v["name"]] = [i.get("path", i["key"]) for i in v["secret"].get("items", [])] or keys
        if "configMap" in v:
            cm = v["configMap"]["name"]
            if cm not in configmaps:
                bad.append("%s: ConfigMap %s not defined" % (f, cm))
            mounted[v["name"]] = sorted(configmaps.get(cm, []))
    # Every /secrets/NAME or mountPath/NAME the pod's text uses exists.
    for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]:
        for m in c.get("volumeMounts", []):
            if m["name"] in mounted and "subPath" in m and m["subPath"] not in mounted[m["name"]]:
                bad.append("%s: subPath %s not in volume %s" % (f, m["subPath"], m["name"]))
            if m["name"] in mounted:
                print("mount", m["mountPath"], " ".join(mounted[m["name"]]))
for f, svc in docs:
    if svc["kind"] != "Service":
        continue
    sel = svc["spec"]["selector"]
    hit = [p for l, p in pods if all(l.get(a) == b for a, b in sel.items())]
    if not hit:
        bad.append("Service %s selects no pod" % svc["metadata"]["name"])
    for p in svc["spec"]["ports"]:
        t = p.get("targetPort", p["port"])
        if not any(t in ports or t in ports.values() for ports in hit):
            bad.append("Service %s: port %s is no container's" % (svc["metadata"]["name"], t))
for f, np in docs:
    if np["kind"] not in ("NetworkPolicy", "PodDisruptionBudget"):
        continue
    sel = (np["spec"].get("podSelector") or np["spec"].get("selector"))["matchLabels"]
    hit = [p for l, p in pods if all(l.get(a) == b for a, b in sel.items())]
    if not hit:
        bad.append("%s %s selects no pod" % (np["kind"], np["metadata"]["name"]))
    for rule in np["spec"].get("ingress", []):
        for src in rule.get("from", []):
            s = src.get("podSelector", {}).get("matchLabels")
            if s is not None and not any(all(l.get(a) == b for a, b in s.items()) for l, _ in pods):
                bad.append("NetworkPolicy %s: from %s is no pod" % (np["metadata"]["name"], s))
        for p in rule.get("ports", []):
            if not any(p["port"] in ports.values() or p["port"] in ports for ports in hit):
                bad.append("NetworkPolicy %s: port %s: no selected container listens there" % (np["metadata"]["name"], p["port"]))
print("\n".join("BAD " + b for b in bad))
EOF
if grep -q '^BAD\|Error' "$d/k8s.check" || ! grep -q '^mount' "$d/k8s.check"; then
    fail "conf/k8s is not consistent:"; cat "$d/k8s.check"
else
    ok "conf/k8s: namespaces, Secret keys and items, ConfigMaps, selectors, Service and NetworkPolicy ports agree"
fi
# The files the pods read are in the volumes mounted there.
for path in $({ grep -ho '/secrets/[a-z-]*' "$conf/k8s/20-redis.yaml"
        grep -ho '= /run/secrets/[a-z]*/[a-z.-]*' "$conf/k8s/30-checkupd.yaml" | cut -c3-; } | sort -u); do
    dir=${path%/*} file=${path##*/}
    if grep "^mount $dir " "$d/k8s.check" | tr ' ' '\n' | grep -qx "$file"; then
        ok "k8s: $path is mounted"
    else
        fail "k8s: $path is read but no volume mounted at $dir holds $file"
    fi
done

# --- conf/docker-compose.yml, run -------------------------------------------------
c=$d/compose
mkdir -p "$c/secrets" "$c/redis" "$c/docker"
cp "$conf/redis/"* "$c/redis/"; cp "$conf/docker/checkup.conf" "$c/docker/"
# The secrets, as the file's header says (this tree's checkup, the password
# on stdin; chown to the image's redis user is for a real host).
printf 'pw one\n' > "$c/pw"
sed -n '/^# Before the first start/,/^# Compose mounts/p' "$conf/docker-compose.yml" |
    sed -n 's/^#   //p' | sed -e 's/^mkdir -p secrets && cd secrets && //' -e '/^chown /d' \
    -e "s|^checkup \(.*user add .*\)$|$ck \1 --password-stdin < ../pw|" \
    -e "s|^checkup |$ck |" > "$c/make-secrets.sh"
( cd "$c/secrets" && umask 077 && sh -e ../make-secrets.sh ) > "$c/secrets.out" 2>&1 &&
    [ -s "$c/secrets/users" ] && [ -s "$c/secrets/token.keys" ] && [ -s "$c/secrets/redis-auth.conf" ] &&
    [ -s "$c/secrets/sentinel.conf" ] && [ -s "$c/secrets/redis_checkup_password" ] &&
    ok "compose: the header's recipe makes the secrets" ||
    { fail "compose: the header's secrets recipe:"; cat "$c/secrets.out"; }
grep -v '^#' "$c/secrets/redis-auth.conf" "$c/secrets/sentinel.conf" | grep CHANGE-ME &&
    fail "compose: a CHANGE-ME left in the secrets"
# redis.conf includes the ACL where the compose file mounts the secret.
target=$(python3 -c 'import sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
print(y["services"]["redis-primary"]["secrets"][0]["target"])' "$conf/docker-compose.yml")
grep -qx "include $target" "$conf/redis/redis.conf" &&
    ok "compose: redis.conf includes the ACL where the compose file mounts it ($target)" ||
    fail "compose: the ACL secret is mounted at $target, redis.conf includes $(grep '^include' "$conf/redis/redis.conf")"
python3 - "$conf/docker-compose.yml" > "$c/cmds" <<'EOF'
import sys, yaml, json
y = yaml.safe_load(open(sys.argv[1]))
for name, s in y["services"].items():
    if "command" in s:
        print(name, json.dumps(s["command"]))
EOF
pp= rp= s1= s2= s3=
# Each service's paths in $c, its port on loopback; other services by name.
crun() {  # NAME PORT: runs the service's command line in the background
    _n=$1 _port=$2
    python3 -c '
import sys, json
for line in open(sys.argv[1]):
    n, cmd = line.split(" ", 1)
    if n == sys.argv[2]:
        print("\n".join(json.loads(cmd)))' "$c/cmds" "$_n" |
    sed -e "s|/etc/redis/redis.conf|$c/$_n.conf|" -e "s|/run/secrets/sentinel_conf|$c/secrets/sentinel.conf|" \
        -e "s|/data|$c/$_n|g" -e "s|^0\.0\.0\.0$|127.0.0.1|" -e "s|bind 0\.0\.0\.0|bind 127.0.0.1|" \
        -e "s|redis-primary 6379|127.0.0.1 $pp|" -e "s|^redis-primary$|127.0.0.1|" -e "s|^6379$|$pp|" \
        > "$c/$_n.argv"
    mkdir -p "$c/$_n"
    # redis.conf with the ACL secret where it is mounted, the service's port.
    sed -e "s|^include $target$|include $c/secrets/redis-auth.conf|" -e "s|^port .*|port $_port|" \
        "$conf/redis/redis.conf" > "$c/$_n.conf"
    set --
    while IFS= read -r w; do set -- "$@" "$w"; done < "$c/$_n.argv"
    [ $# -gt 0 ] || { fail "compose: $_n has no command"; return 1; }
    if [ "$1" = sh ]; then
        set -- sh -c "$(printf '%s' "$3" | sed "s|\(exec redis-server [^ ]*\) --sentinel|\1 --sentinel --port $_port|")"
    fi
    "$@" > "$c/$_n.log" 2>&1 &
    pids="$pids $!"
}
# crun_port NAME VAR: crun NAME on a free port, again on another when
# another test (make check runs several at once) took that port between
# choosing and binding; VAR gets the port it runs on.
crun_port() {
    _t=0
    while [ $_t -lt 5 ]; do
        _t=$((_t + 1))
        _p=$(free_port)
        crun "$1" "$_p"
        _w=0
        until grep -q 'Address already in use' "$c/$1.log" 2>/dev/null ||
            [ -n "$(ss -Hltn "( sport = :$_p )" 2>/dev/null)" ] || [ $_w -ge 50 ]; do
            sleep 0.1; _w=$((_w + 1))
        done
        grep -q 'Address already in use' "$c/$1.log" 2>/dev/null || break
    done
    eval "$2=\$_p"
}
crun_port redis-primary pp
crun_port redis-replica rp
cadmin=$(cat "$c/secrets/admin.pw")
wait_redis "$pp" -a "$cadmin" && wait_redis "$rp" -a "$cadmin" &&
    ok "compose: redis-primary and redis-replica run their command lines" ||
    { fail "compose: redis did not start"; tail -n 5 "$c"/redis-*.log; }
# (A full sync waits repl-diskless-sync-delay, 5 s, for more replicas.)
i=0
while [ $i -lt 150 ] && ! redis-cli -p "$rp" --no-auth-warning -a "$cadmin" info replication 2>/dev/null |
        grep -q 'master_link_status:up'; do sleep 0.1; i=$((i + 1)); done
while [ $i -lt 150 ] && [ "$(redis-cli -p "$pp" --no-auth-warning -a "$cadmin" wait 1 200)" != 1 ]; do
    i=$((i + 1))
done
[ $i -lt 150 ] && ok "compose: the replica follows the primary as user replica" ||
    { fail "compose: replication link down"; tail -n 5 "$c/redis-replica.log"; }
crun_port sentinel-1 s1; crun_port sentinel-2 s2; crun_port sentinel-3 s3
capp=$(cat "$c/secrets/checkup.pw") cpeer=$(cat "$c/secrets/sentinel-peer.pw")
i=0
while [ $i -lt 150 ]; do
    n=$(redis-cli -p "$s1" --no-auth-warning --user sentinel-peer --pass "$cpeer" \
        sentinel master checkup 2>/dev/null | sed -n '/^num-other-sentinels$/{n;p}')
    r=$(redis-cli -p "$s1" --no-auth-warning --user sentinel-peer --pass "$cpeer" \
        sentinel master checkup 2>/dev/null | sed -n '/^num-slaves$/{n;p}')
    [ "${n:-0}" = 2 ] && [ "${r:-0}" = 1 ] && break
    sleep 0.1; i=$((i + 1))
done
[ "${n:-0}" = 2 ] && [ "${r:-0}" = 1 ] &&
    ok "compose: the sentinels see each other (2 others) and the replica" ||
    { fail "compose: sentinel-1 sees ${n:-?} other sentinels, ${r:-?} replicas"; tail -n 5 "$c/sentinel-1.log"; }
for sp in $s1 $s2 $s3; do
    got=$(redis-cli -p "$sp" --no-auth-warning --user checkup --pass "$capp" \
        sentinel get-master-addr-by-name checkup 2>&1 | tr '\n' ' ')
    [ "$got" = "127.0.0.1 $pp " ] ||
        { fail "compose: sentinel on $sp names '$got'"; tail -n 5 "$c"/sentinel-*.log; }
done
ok "compose: each sentinel names the primary to user checkup"
# checkupd as the Dockerfile's ENTRYPOINT with the compose file's config
# and secrets (docker/checkup.conf, /run/secrets/*).
ep=$(sed -n 's/^ENTRYPOINT \[\(.*\)\]$/\1/p' "$conf/docker/Dockerfile" | tr -d '", ')
[ "$ep" = "/usr/sbin/checkupd-c/etc/checkup/checkup.conf" ] &&
    ok "Dockerfile: ENTRYPOINT /usr/sbin/checkupd -c /etc/checkup/checkup.conf" ||
    fail "Dockerfile ENTRYPOINT is '$ep'"
grep -q -- '--prefix=/usr ' "$conf/docker/Dockerfile" && grep -q -- '--sysconfdir=/etc ' "$conf/docker/Dockerfile" &&
    ok "Dockerfile: configure --prefix=/usr --sysconfdir=/etc puts checkupd in /usr/sbin, its config in /etc/checkup" ||
    fail "Dockerfile: configure flags do not install /usr/sbin/checkupd and /etc/checkup"
grep -q '^sbin_PROGRAMS.*checkupd' "$top_srcdir/Makefile.am" ||
    grep -q 'sbin_PROGRAMS *+= *checkupd' "$top_srcdir"/*.am "$top_srcdir"/*/*.mk 2>/dev/null ||
    fail "checkupd is not installed in sbindir"
# Each /run/secrets/NAME of docker/checkup.conf is a secret of the checkupd
# service, made from a file the header's recipe writes.
python3 - "$conf/docker-compose.yml" > "$c/secret-files" <<'EOF'
import sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
for n in y["services"]["checkupd"]["secrets"]:
    n = n if isinstance(n, str) else n["source"]
    print(n, y["secrets"][n]["file"])
EOF
for name in $(grep -v '^#' "$conf/docker/checkup.conf" | grep -o '/run/secrets/[a-z_]*' | cut -d/ -f4); do
    file=$(awk -v n="$name" '$1 == n { print $2 }' "$c/secret-files")
    [ -n "$file" ] && [ -s "$c/$file" ] && ok "compose: /run/secrets/$name is the checkupd service's secret $file" ||
        fail "compose: /run/secrets/$name: not a secret of the checkupd service, or its file '$file' is not made"
done
# shellcheck disable=SC2046
sed $(awk -v c="$c" '{ printf "-e s|/run/secrets/%s$|%s/%s| ", $1, c, $2 }' "$c/secret-files") \
    -e "s|^url = redis+sentinel://.*/checkup|url = redis+sentinel://127.0.0.1:$s1,127.0.0.1:$s2,127.0.0.1:$s3/checkup|" \
    -e 's|^listen = 0.0.0.0:8080$|listen = 127.0.0.1:0|' "$conf/docker/checkup.conf" > "$c/checkupd.conf"
grep -v '^#' "$c/checkupd.conf" | grep /run/secrets &&
    fail "compose: a /run/secrets path the compose file does not mount"
if web_start compose "$c/checkupd.conf"; then
    check "compose: checkupd answers /healthz" 200 "$(status "http://127.0.0.1:$WEB_PORT/healthz")"
    WEB_ORIGIN=$(sed -n 's|^public_url = \(https://[^/]*\).*|\1|p' "$c/checkupd.conf")
    tok=$(web_login "$WEB_PORT" alice@example.org 'pw one')
    [ -n "$tok" ] && ok "compose: alice (made by the header's recipe) logs in" || fail "compose: no login"
    web_stop compose
else
    fail "compose: checkupd does not start"
fi
fails=$((fails + WEB_FAILED))
stop_pids
# The runtime image's packages hold every library the binaries link to
# (their own or one they depend on): NEEDED entries, the packages that hold
# them (dpkg -S), against the Dockerfile's list and its dependencies.
pkgs=$(sed -n '/^FROM debian:bookworm-slim/,/^COPY/p' "$conf/docker/Dockerfile" |
    tr ' \\' '\n\n' | grep '^lib\|^ca-' | sort -u)
apt-cache depends --recurse --important $pkgs 2>/dev/null | sed -n 's/^ *[A-Za-z]*: *<*\([^>]*\)>*$/\1/p' |
    sed 's/:.*//' | sort -u > "$d/closure"
nlib=0
for bin in "$top_builddir/checkupd" "$top_builddir/checkup" "$top_builddir/.libs/pam_checkup.so"; do
    [ -f "$bin" ] || { fail "Dockerfile check: $bin not built"; continue; }
    for so in $(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }'); do
        case $so in ld-linux*) continue ;; esac
        lib=$(ldd "$bin" | awk -v n="$so" '$1 == n { print $3 }')
        [ -n "$lib" ] || { fail "Dockerfile check: $so of $(basename "$bin") not found"; continue; }
        pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
            dpkg -S "/usr$lib" 2>/dev/null)
        pkg=${pkg%%:*}
        # A sanitizer build's runtimes are no release build's.
        case $pkg in libc6|libasan*|libubsan*|liblsan*|libtsan*) continue ;; esac
        nlib=$((nlib + 1))
        [ -n "$pkg" ] || { fail "Dockerfile check: no package holds $lib"; continue; }
        echo "$pkgs" | grep -qx "$pkg" || grep -qx "$pkg" "$d/closure" ||
            fail "Dockerfile: $(basename "$bin") links $so ($pkg), not in the runtime image"
    done
done
ok "Dockerfile: the runtime packages hold the $nlib libraries checkupd, checkup and pam_checkup.so link to"

# --- conf/pam.d/checkup-token and clinic-portal ---------------------------------
t=$d/pamd
ck_pam_setup "$t" "$top_builddir" 600 3600
m="$top_builddir/.libs/pam_checkup.so config=$t/checkup.conf"
"$ck" -c "$t/checkup.conf" user add cleo@example.org --role doctor --local-user cleo \
    --password-stdin < "$p/pw" > /dev/null
for s in checkup-token clinic-portal; do
    grep -E '^(auth|account|session)' "$conf/pam.d/$s" | sed "s|pam_checkup\.so|$m|" > "$t/services/$s"
done
tdrive() { _s=$1; shift; ( ck_pam_wrap "$t"; drive -s "$_s" -u cleo "$@" ) > "$t/out" 2>&1; }
# A session from a password login (the checkup service), then the stacks.
tdrive checkup -k "$t/token" auth acct open < "$p/pw" && [ -s "$t/token" ] ||
    { fail "pam: no session token to start from"; cat "$t/out"; }
last() {
    _key=$("$ck" -c "$t/checkup.conf" sessions list --user cleo@example.org | awk 'NR == 2 { print $1 }')
    "$ck" -c "$t/checkup.conf" sessions show "$_key" --user cleo@example.org | sed -n 's/^last activity: *\([^ ]*\).*/\1/p'
}
before=$(last)
sleep 1.1
tdrive checkup-token auth acct < "$t/token" && ok "pam.d/checkup-token: a session token passes" ||
    { fail "pam.d/checkup-token refuses the session token:"; cat "$t/out"; }
after=$(last)
[ -n "$before" ] && [ "$before" != "$after" ] &&
    ok "pam.d/checkup-token: the use keeps the session alive ($before -> $after)" ||
    fail "pam.d/checkup-token: last activity '$before', after the token's use '$after'"
tdrive checkup-token auth acct < "$p/pw" && fail "pam.d/checkup-token accepts a password" ||
    ok "pam.d/checkup-token: a password is refused"
forged=$(sed 's/.$/A/' "$t/token"); [ "$forged" = "$(cat "$t/token")" ] && forged=$(sed 's/.$/B/' "$t/token")
printf '%s\n' "$forged" | tdrive checkup-token auth acct && fail "pam.d/checkup-token accepts a forged token" ||
    ok "pam.d/checkup-token: a forged token is refused"
tdrive clinic-portal -k "$t/token3" auth acct open < "$p/pw" && [ -s "$t/token3" ] &&
    ok "pam.d/clinic-portal: a password gives a session in CHECKUP_SESSION" ||
    { fail "pam.d/clinic-portal with a password:"; cat "$t/out"; }
tdrive clinic-portal -k "$t/token4" auth acct open < "$t/token" && [ -s "$t/token4" ] &&
    ok "pam.d/clinic-portal: a session token gives a session in CHECKUP_SESSION" ||
    { fail "pam.d/clinic-portal with a token:"; cat "$t/out"; }
echo 'not it' | tdrive clinic-portal auth acct && fail "pam.d/clinic-portal accepts a wrong password" ||
    ok "pam.d/clinic-portal: a wrong password is refused"
( ck_pam_wrap "$t"; drive -s clinic-portal -u root auth acct < "$p/pw" ) > "$t/out" 2>&1 &&
    fail "pam.d/clinic-portal admits a local account" || ok "pam.d/clinic-portal: local accounts are refused"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
