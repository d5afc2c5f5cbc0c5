#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkupd's login pools: password hashes and provider token exchanges run
# off the request threads, so /session answers at once while logins are
# slow. With one login thread, a queue of two and a yescrypt cost that
# makes a hash take a noticeable time:
#  - a full queue answers 503 with Retry-After at once, audited (also in
#    JSON for /v1/auth/login);
#  - a locked account is refused without a hash (the hash counter of
#    /metrics), also when typed in another case;
#  - /session keeps answering quickly during a storm of wrong passwords
#    from many addresses (X-Forwarded-For from a trusted proxy);
#  - a client that hangs up while its login is queued is dropped unhashed;
#  - a provider whose token endpoint or discovery does not answer holds no
#    request thread: /session answers while every request thread would be
#    stuck in a callback or a login start;
#  - SIGTERM with queued logins answers them 503 and exits cleanly.
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/web_common.sh"
. "$top_srcdir/tests/idp/idp.sh"
trap 'web_stop_all; idp_stop_all; redis_stop_all' EXIT
trap 'exit 1' INT TERM

idp_dir || exit 1
D=$CK_TEST_TMP/pool
A=$D/audit.jsonl
BIND=__Host-checkup_login
CB="$WEB_ORIGIN/callback"
CK_MOCKOP_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CK_MOCKOP_SECRET
mp=$(idp_start mockop mockop.mjs) || exit 1
OP="http://127.0.0.1:$mp"

web_setup "$D" "lmdb:$D/store" "threads = 2" "login_threads = 1" "login_queue = 2" \
    "provider_threads = 4" "login_rate_limit = 100000" "trusted_proxies = 127.0.0.1" ||
    exit 1
for p in mock fresh; do
    printf '%s\n' "[provider $p]" "issuer = $OP" "client_id = mock-client" \
        "client_secret = $CK_MOCKOP_SECRET" "redirect_uri = $CB" "scopes = openid" \
        "http_timeout = 4"
done >> "$D/checkup.conf"
printf '%s\n' "alice@clinic.example:*:doctor:c-17:calice::" >> "$D/users"
# Every hash at a cost 16 times the default (the salt of each kept), so a
# hash takes long enough to queue behind (unknown users pay the same).
PA=$WEB_PW_ALICE PB=$WEB_PW_BOB perl -i -pe \
    's/^([^:]*):\$y\$j9T\$([^\$]*)\$[^:]*:/"$1:" . crypt($1 =~ m{^bob} ? $ENV{PB} : $ENV{PA}, "\$y\$jDT\$$2\$") . ":"/e' \
    "$D/users"
check "users rehashed at a higher cost" 3 "$(grep -c ':\$y\$jDT\$' "$D/users")"
web_start pool "$D/checkup.conf" || exit 1
P=$WEB_PORT
U="http://127.0.0.1:$P"
touch "$A"

metric() {
    curl -s --max-time 5 "$U/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
# login N EMAIL PASSWORD: a login from 10.9.0.N; prints "status seconds".
login() {
    curl -s -o /dev/null -D "${HDR:-/dev/null}" -w '%{http_code} %{time_total}\n' \
        --max-time 30 -H "Origin: $WEB_ORIGIN" -H "X-Forwarded-For: 10.9.$(($1 / 250)).$(($1 % 250 + 1))" \
        --data-urlencode "email=$2" --data-urlencode "password=$3" "$U/login"
}
# within LIMIT FILE: yes when every "status seconds" line of FILE took < LIMIT s.
within() {
    awk -v l="$1" '$2 + 0 >= l + 0 { bad = 1 } END { print (NR > 0 && !bad) ? "yes" : "no" }' "$2"
}

TOKEN=$(web_login "$P" alice@example.org "$WEB_PW_ALICE" -H "X-Forwarded-For: 10.8.0.1")
check "a password login through the pool" yes "$([ -n "$TOKEN" ] && echo yes || echo no)"
check "its hash counted" 1 "$(metric checkupd_password_hashes_total)"

# ---- a full queue: 503 with Retry-After at once, one audit event ----
: > "$D/burst"
i=0
bpids=
while [ $i -lt 8 ]; do
    HDR="$D/burst.h$i" login $((i + 10)) "nobody$i@example.org" wrong >> "$D/burst" &
    bpids="$bpids $!"
    i=$((i + 1))
done
wait $bpids
grep '^503 ' "$D/burst" > "$D/burst503"
grep '^401 ' "$D/burst" > "$D/burst401"
check "8 logins at once: 1 running + 2 queued are checked (401)" 3 "$(wc -l < "$D/burst401")"
check "the other 5 are refused with 503" 5 "$(wc -l < "$D/burst503")"
check "503 answered at once (< 1 s)" yes "$(within 1 "$D/burst503")"
check "each 503 carries Retry-After: 1" 5 \
    "$(cat "$D"/burst.h* | tr -d '\r' | grep -ci '^retry-after: 1$')"
n=$(grep -c '"reason":"queue_full"' "$A")
check "queue_full audited, at most once a second (got $n)" yes \
    "$([ "$n" -ge 1 ] && [ "$n" -le 3 ] && echo yes || echo no)"
check "rejections in /metrics" yes \
    "$([ "$(metric 'checkupd_pool_rejected_total{pool="login"}')" -ge 5 ] 2>/dev/null && echo yes || echo no)"
# The JSON API's logins share the pool; a full queue is a JSON 503.
: > "$D/api"
apids=
i=0
while [ $i -lt 5 ]; do
    curl -s -o "$D/api.b$i" -D "$D/api.h$i" -w '%{http_code}\n' --max-time 30 \
        -H "Content-Type: application/json" -H "X-Forwarded-For: 10.5.0.$((i + 1))" \
        -d "{\"email\":\"api$i@example.org\",\"password\":\"wrong\"}" \
        "$U/v1/auth/login" >> "$D/api" &
    apids="$apids $!"
    i=$((i + 1))
done
wait $apids
check "5 JSON logins at once: 3 checked (401)" 3 "$(grep -c '^401$' "$D/api")"
check "2 refused (503)" 2 "$(grep -c '^503$' "$D/api")"
check "in JSON, with Retry-After" "2 2" "$(cat "$D"/api.b* | grep -c '"error":"busy"') \
$(cat "$D"/api.h* | tr -d '\r' | grep -ci '^retry-after: 1$')"
sleep 2

# ---- a locked account: refused before the queue, without a hash ----
i=0
while [ $i -lt 5 ]; do
    login $((i + 40)) bob@example.org wrong > /dev/null
    i=$((i + 1))
done
h1=$(metric checkupd_password_hashes_total)
got=$(login 50 bob@example.org "$WEB_PW_BOB")
check "bob locked after 5 failures: 403 with the right password" 403 "${got%% *}"
got=$(login 51 BOB@example.org "$WEB_PW_BOB")
check "the same account in another case: 403" 403 "${got%% *}"
check "no hash for a locked account" "$h1" "$(metric checkupd_password_hashes_total)"
check "locked audited" yes \
    "$(grep -q '"event":"locked".*"reason":"account_locked"' "$A" && echo yes || echo no)"

# ---- /session during a storm of wrong passwords from many addresses ----
: > "$D/storm"
storm() {
    j=0
    while [ $j -lt 15 ]; do
        login $((100 + $1 * 15 + j)) "storm$1-$j@example.org" wrong >> "$D/storm"
        j=$((j + 1))
    done
}
s=0
spids=
while [ $s -lt 6 ]; do
    storm $s &
    spids="$spids $!"
    s=$((s + 1))
done
sleep 0.5
: > "$D/sess"
k=0
while [ $k -lt 20 ]; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 \
        -H "Cookie: $WEB_COOKIE=$TOKEN" "$U/session" >> "$D/sess"
    k=$((k + 1))
done
curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 "$U/healthz" >> "$D/sess"
busy=$(metric 'checkupd_pool_running{pool="login"}')
wait $spids
check "the storm kept the login thread busy" 1 "$busy"
check "/session and /healthz answered during the storm" 21 "$(grep -c '^200 ' "$D/sess")"
check "each within 0.5 s (slowest $(sort -k2 -n "$D/sess" | tail -n 1 | cut -d' ' -f2) s)" \
    yes "$(within 0.5 "$D/sess")"
check "storm logins answered 401 or 503, none hung" 90 "$(grep -c '^[45]0[13] ' "$D/storm")"
sleep 2

# ---- a client that hangs up while queued: not hashed ----
a0=$(metric 'checkupd_pool_abandoned_total{pool="login"}')
h0=$(metric checkupd_password_hashes_total)
login 200 gone1@example.org wrong > /dev/null &
g1=$!
login 201 gone2@example.org wrong > /dev/null &
g2=$!
sleep 0.1
curl -s -o /dev/null --max-time 0.2 -H "Origin: $WEB_ORIGIN" -H "X-Forwarded-For: 10.6.0.1" \
    --data-urlencode "email=gone3@example.org" --data-urlencode "password=x" "$U/login"
wait $g1 $g2
sleep 0.5
check "the login of a client that hung up was dropped" $((a0 + 1)) \
    "$(metric 'checkupd_pool_abandoned_total{pool="login"}')"
check "and not hashed" $((h0 + 2)) "$(metric checkupd_password_hashes_total)"
check "/healthz after it" 200 "$(status "$U/healthz")"

# ---- a provider that does not answer holds no request thread ----
start() {
    curl -s -o /dev/null -D "$D/start.h" -w '%{http_code}' --max-time 20 "$U/login/mock"
    sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$D/start.h" > "$D/url$1"
    sed -n "s/^[Ss]et-[Cc]ookie: $BIND=\([^;]*\);.*/\1/p" "$D/start.h" > "$D/bind$1"
    q=$(curl -s -o /dev/null -w '%{redirect_url}' --max-time 10 "$(cat "$D/url$1")")
    echo "${q#*\?}" > "$D/q$1"
}
callback() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 20 \
        -H "Cookie: $BIND=$(cat "$D/bind$1")" "$U/callback?$(cat "$D/q$1")"
}
start 0 > /dev/null
check "a provider login through the pool" "200" "$(callback 0 | cut -d' ' -f1)"
# Token endpoint and discovery silent: two callbacks wait on the token
# endpoint, two starts of a provider not yet discovered on discovery.
curl -s -o /dev/null -X POST --max-time 5 "$OP/ctl?token_mode=hang&disc_mode=hang"
for n in 1 2; do start $n > /dev/null; done
: > "$D/cbs"
: > "$D/starts"
cpids=
for n in 1 2; do
    callback $n >> "$D/cbs" &
    cpids="$cpids $!"
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 20 "$U/login/fresh" \
        >> "$D/starts" &
    cpids="$cpids $!"
done
sleep 1
: > "$D/sess2"
k=0
while [ $k -lt 10 ]; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 \
        -H "Cookie: $WEB_COOKIE=$TOKEN" "$U/session" >> "$D/sess2"
    k=$((k + 1))
done
curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 "$U/login" >> "$D/sess2"
held=$(metric 'checkupd_pool_running{pool="provider"}')
wait $cpids
curl -s -o /dev/null -X POST --max-time 5 "$OP/ctl?token_mode=ok&disc_mode=ok"
check "two callbacks and two starts waiting on the provider" 4 "$held"
check "/session and the login page answered meanwhile" 11 "$(grep -c '^200 ' "$D/sess2")"
check "each within 0.5 s" yes "$(within 0.5 "$D/sess2")"
check "the callbacks end at the provider's timeout (502)" 2 "$(grep -c '^502 ' "$D/cbs")"
check "so do the starts" 2 "$(grep -c '^502 ' "$D/starts")"
check "provider_timeout audited" yes \
    "$(grep -q '"reason":"provider_timeout"' "$A" && echo yes || echo no)"

# ---- SIGTERM with logins queued: answered, clean exit ----
: > "$D/term"
tpids=
for n in 1 2 3; do
    login $((300 + n)) "term$n@example.org" wrong >> "$D/term" &
    tpids="$tpids $!"
done
sleep 0.3
web_stop pool
wait $tpids
check "clean exit with logins queued" 0 "$WEB_RC"
check "every queued login answered (401 or 503)" 3 "$(grep -c '^[45]0[13] ' "$D/term")"

# ---- a login refused for a full queue costs no store write ----
# Not even the rate limit's count: 8 logins at once from one address with
# a limit of 6 a minute: 3 are checked and counted, 5 refused uncounted,
# so a 9th login from there is still under the limit.
sed -i 's/^login_rate_limit = .*/login_rate_limit = 6/' "$D/checkup.conf"
web_start pool2 "$D/checkup.conf" || exit 1
U="http://127.0.0.1:$WEB_PORT"
: > "$D/one"
opids=
i=0
while [ $i -lt 8 ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H "Origin: $WEB_ORIGIN" \
        -H "X-Forwarded-For: 10.4.0.1" --data-urlencode "email=one$i@example.org" \
        --data-urlencode "password=wrong" "$U/login" >> "$D/one" &
    opids="$opids $!"
    i=$((i + 1))
done
wait $opids
check "one address, 8 at once: some refused for the full queue" yes \
    "$([ "$(grep -c '^503$' "$D/one")" -ge 3 ] && echo yes || echo no)"
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Origin: $WEB_ORIGIN" \
    -H "X-Forwarded-For: 10.4.0.1" --data-urlencode "email=one9@example.org" \
    --data-urlencode "password=wrong" "$U/login")
check "the refusals were not counted against the address's rate limit" 401 "$got"
web_stop pool2
check_nogrep "no password in the log" "$WEB_PW_ALICE" "$CK_TEST_TMP/pool.log"
web_summary
