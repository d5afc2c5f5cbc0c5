# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for bench/load.sh, bench/faults.sh and tests/faults.sh.
# Source after tests/lib/redis.sh and tests/web_common.sh.
#
#   load_setup DIR STORE_URL N [DAEMON-LINE...]  config, keys, users load1..loadN
#                                                (one password, in DIR/pw, mode 600)
#   load_gen OUT [ARGS...]                       bench/load_gen against $WEB_PORT;
#                                                its output in OUT, the GEN line in LOAD_GEN
#   gen_field NAME                               a field of LOAD_GEN
#   me_status PORT TOKEN                         HTTP status of /v1/users/me for TOKEN

load_setup() {
    _ld=$1 _lurl=$2 _ln=$3
    shift 3
    web_setup "$_ld" "$_lurl" "$@" || return 1
    (umask 077; od -An -tx1 -N12 /dev/urandom | tr -d ' \n' > "$_ld/pw")
    "$top_builddir/checkup" -c "$_ld/checkup.conf" user add load1@example.org --role nurse \
        --clinic clinic-1 --password-stdin < "$_ld/pw" > /dev/null || return 1
    # The other users share load1's hash: one yescrypt here, not N.
    _lh=$(sed -n 's/^load1@example.org:\([^:]*\):.*/\1/p' "$_ld/users")
    _li=2
    while [ "$_li" -le "$_ln" ]; do
        printf 'load%d@example.org:%s:nurse:clinic-1:::\n' "$_li" "$_lh"
        _li=$((_li + 1))
    done >> "$_ld/users"
}

load_gen() {
    _lo=$1
    shift
    "$top_builddir/bench/load_gen" -u "http://127.0.0.1:$WEB_PORT" -o "$WEB_ORIGIN" "$@" \
        > "$_lo" 2> "$_lo.err"
    _lrc=$?
    LOAD_GEN=$(sed -n 's/^GEN //p' "$_lo")
    return $_lrc
}

gen_field() {
    printf '%s\n' "$LOAD_GEN" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

me_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -H "Cookie: $WEB_COOKIE=$2" "http://127.0.0.1:$1/v1/users/me"
}

# load_login_many PORT DIR N: N sessions of users load1..loadN (one each);
# their tokens in DIR/tokens (mode 600), one a line.
load_login_many() {
    _lp=$1 _ld=$2 _ln=$3
    (umask 077; : > "$_ld/tokens")
    _li=1
    while [ "$_li" -le "$_ln" ]; do
        _lt=$(web_login "$_lp" "load$_li@example.org" "$(cat "$_ld/pw")")
        [ -n "$_lt" ] || return 1
        printf '%s\n' "$_lt" >> "$_ld/tokens"
        _li=$((_li + 1))
    done
}

# load_count_alive PORT DIR: how many of DIR/tokens still answer 200.
load_count_alive() {
    _la=0
    while read -r _lt; do
        [ "$(me_status "$1" "$_lt")" = 200 ] && _la=$((_la + 1))
    done < "$2/tokens"
    echo "$_la"
}

# load_wait_ok PORT TOKEN LIMIT_S: polls /v1/users/me every 50 ms until 200;
# prints the seconds it took (a float), or fails after LIMIT_S.
load_wait_ok() {
    _ls=$(date +%s.%N)
    while :; do
        [ "$(me_status "$1" "$2")" = 200 ] && break
        _le=$(date +%s.%N)
        awk -v s="$_ls" -v e="$_le" -v l="$3" 'BEGIN {exit !(e - s > l)}' && return 1
        sleep 0.05
    done
    awk -v s="$_ls" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", e - s}'
}
