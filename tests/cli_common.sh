# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/cli_lmdb.sh and tests/cli_redis.sh: every checkup
# command end to end against one store. cli_suite STORE-URL runs it all and
# exits 0 when every check passed, 1 otherwise (TAP-like lines on stdout).

: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

ck=$top_builddir/checkup
workload=$top_builddir/tests/cli_workload
n=0
fails=0
pw_a='correct horse A1'
pw_b='battery staple B2'

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
show() { sed 's/^/#   /' "$1"; }

# expect CODE DESCRIPTION COMMAND...: stdin from /dev/null, output in $d/out, $d/err.
expect() {
    want=$1 desc=$2
    shift 2
    "$@" > "$d/out" 2> "$d/err" < /dev/null
    got=$?
    if [ "$got" = "$want" ]; then ok "$desc"; else
        not_ok "$desc (exit $got, want $want)"; show "$d/out"; show "$d/err"; fi
}

# expect_in CODE DESCRIPTION INPUT COMMAND...: the same with INPUT on stdin.
expect_in() {
    want=$1 desc=$2 input=$3
    shift 3
    printf '%s\n' "$input" | "$@" > "$d/out" 2> "$d/err"
    got=$?
    if [ "$got" = "$want" ]; then ok "$desc"; else
        not_ok "$desc (exit $got, want $want)"; show "$d/out"; show "$d/err"; fi
}

# has FILE PATTERN DESCRIPTION: a fixed string in $d/FILE.
has() {
    if grep -qF -- "$2" "$d/$1"; then ok "$3"; else not_ok "$3"; show "$d/$1"; fi
}

hasnt() {
    if grep -qF -- "$2" "$d/$1"; then not_ok "$3"; show "$d/$1"; else ok "$3"; fi
}

# mkconf NAME [EXTRA LINES...]: a checkup.conf of its own store namespace.
mkconf() {
    name=$1
    shift
    {
        echo "[store]"
        case $store in
        lmdb:*) echo "url = $store/$name" ;;
        *) echo "url = $store"; echo "key_prefix = $name:" ;;
        esac
        echo "[users]"
        echo "file = $d/users"
        echo "[passwords]"
        echo "hash_slot_file = $d/hash-slots"
        echo "[tokens]"
        echo "key_file = $d/token.keys"
        echo "[audit]"
        echo "file = $d/audit.json"
        for line in "$@"; do echo "$line"; done
    } > "$d/$name.conf"
    echo "$d/$name.conf"
}

help_checks() {
    expect 0 "checkup --help" "$ck" --help
    has out "Usage: checkup" "--help shows the usage"
    for c in "user add" "user set" "user passwd" "user disable" "user enable" "user del" \
        "user list" "sessions list" "sessions show" "sessions revoke" "sessions revoke-user" \
        "metrics" "keys generate" "keys rotate" "keys jwks" "config check" "sweep" "login" \
        "lockout list" "lockout clear" "user reindex"; do
        # shellcheck disable=SC2086
        expect 0 "$c --help" "$ck" -c /nonexistent/checkup.conf $c --help
        has out "Usage: checkup [-c CONFIG] $c" "$c --help names the command"
    done
    expect 0 "user --help lists the user commands" "$ck" user --help
    has out "user passwd EMAIL" "user --help shows user passwd"
}

usage_checks() {
    conf=$1
    expect 2 "no command" "$ck"
    expect 2 "unknown command" "$ck" -c "$conf" frobnicate
    has err "unknown command 'frobnicate'" "the unknown command is named"
    expect 2 "unknown global option" "$ck" --bogus metrics
    expect 2 "group without sub-command" "$ck" -c "$conf" user
    expect 2 "unknown sub-command" "$ck" -c "$conf" sessions frob
    expect 2 "user add without --role" "$ck" -c "$conf" user add a@example.org
    expect 2 "user add with a bad email" "$ck" -c "$conf" user add nope --role r
    expect 2 "user add with a bad --corppass" "$ck" -c "$conf" user add x@example.org \
        --role r --corppass 'not an id' --no-password
    has err "--corppass 'not an id' is neither a UUID nor ENTITY/USER" "the bad value is named"
    expect 2 "user set with nothing to set" "$ck" -c "$conf" user set a@example.org
    expect 2 "user del without EMAIL" "$ck" -c "$conf" user del
    expect 2 "sessions show without a prefix" "$ck" -c "$conf" sessions show
    expect 2 "sessions show with a short prefix" "$ck" -c "$conf" sessions show ab
    expect 2 "metrics --json --prometheus" "$ck" -c "$conf" metrics --json --prometheus
    expect 2 "metrics with an argument" "$ck" -c "$conf" metrics now
    expect 2 "keys rotate --keep x" "$ck" -c "$conf" keys rotate --keep x
    expect 2 "sweep with an argument" "$ck" -c "$conf" sweep everything
    expect 2 "login with two names" "$ck" -c "$conf" login a@example.org b@example.org
    expect 1 "a missing -c file" "$ck" -c "$d/none.conf" metrics
    has err "$d/none.conf: cannot open" "the missing file is named"
    printf '[session]\ninactivity_timeout = 0\n' > "$d/bad.conf"
    expect 1 "a bad configuration value" "$ck" -c "$d/bad.conf" config check
    has err "$d/bad.conf:2: [session] inactivity_timeout: 0 is out of range" \
        "the file, line and key are named"
}

user_checks() {
    conf=$1
    expect_in 0 "user add" "$pw_a" "$ck" -c "$conf" user add a@example.org --role doctor \
        --clinic c1 --local-user auser --password-stdin
    expect_in 0 "user add with a CorpPass UUID" "$pw_b" "$ck" -c "$conf" user add \
        b@example.org --role nurse --corppass 123E4567-E89B-12D3-A456-426614174000 \
        --password-stdin
    expect 0 "user add without a password" "$ck" -c "$conf" user add c@example.org \
        --role admin --corppass T08GB0001A/CP1234 --no-password
    expect_in 1 "user add twice" "$pw_a" "$ck" -c "$conf" user add A@example.org --role x \
        --password-stdin
    has err "appears twice" "a duplicate email is refused"
    expect_in 1 "user add with an empty password" "" "$ck" -c "$conf" user add \
        e@example.org --role doctor --password-stdin
    mode=$(stat -c %a "$d/users")
    if [ "$mode" = 600 ]; then ok "users file mode 0600"; else not_ok "users file mode $mode"; fi
    expect 0 "user set" "$ck" -c "$conf" user set b@example.org --clinic c9 --local-user bee
    expect 1 "user set to a taken local account" "$ck" -c "$conf" user set c@example.org \
        --local-user auser
    has err "local account auser appears twice" "the taken local account is named"
    expect 1 "user set of an unknown user" "$ck" -c "$conf" user set nobody@example.org --role x
    has err "no user nobody@example.org" "the unknown user is named"
    expect 0 "user list" "$ck" -c "$conf" user list
    has out "b@example.org                    nurse        c9           bee          set       enabled  123e4567-e89b-12d3-a456-426614174000" \
        "user list shows the changed record, UUID in lower case"
    has out "c@example.org                    admin        -            -            none      enabled  T08GB0001A/CP1234" \
        "user list shows a CorpPass-only user"
    has out "3 users" "user list counts"
    expect_in 0 "a login before the disable" "$pw_b" "$ck" -c "$conf" login b@example.org \
        --password-stdin
    expect 0 "user disable" "$ck" -c "$conf" user disable B@example.org
    has out "ended 1 session of b@example.org" "disabling ends the user's sessions"
    expect 0 "sessions of the disabled user" "$ck" -c "$conf" sessions list --user b@example.org
    has out "0 sessions" "the disabled user has no session left"
    expect_in 1 "a disabled user cannot log in" "$pw_b" "$ck" -c "$conf" login b@example.org \
        --password-stdin
    expect 0 "user enable" "$ck" -c "$conf" user enable b@example.org
    expect_in 0 "an enabled user logs in" "$pw_b" "$ck" -c "$conf" login b@example.org \
        --password-stdin
    expect_in 0 "user passwd" "new pass 3" "$ck" -c "$conf" user passwd b@example.org \
        --password-stdin
    expect_in 1 "the old password no longer works" "$pw_b" "$ck" -c "$conf" login \
        b@example.org --password-stdin
    expect_in 0 "the new one does" "new pass 3" "$ck" -c "$conf" login bee --password-stdin
    expect 0 "user del" "$ck" -c "$conf" user del c@example.org
    expect 1 "user del again" "$ck" -c "$conf" user del c@example.org
    expect 0 "user list after del" "$ck" -c "$conf" user list
    has out "2 users" "the deleted user is gone"
    # The edits keep the index beside the file; a hand edit is reindexed.
    mode=$(stat -c %a "$d/users.index")
    if [ "$mode" = 600 ]; then ok "users index mode 0600"; else not_ok "users index mode $mode"; fi
    cp -p "$d/users" "$d/users.good"
    sed 's/^b@example.org:/bob@example.org:/' "$d/users.good" > "$d/users.hand"
    chmod 600 "$d/users.hand" && mv "$d/users.hand" "$d/users"
    expect 0 "user reindex after a hand edit" "$ck" -c "$conf" user reindex
    has out "$d/users.index rebuilt" "user reindex names the index"
    expect_in 0 "the edited record logs in" "new pass 3" "$ck" -c "$conf" login \
        bob@example.org --password-stdin
    printf '#checkup-users 1\nbroken\n' > "$d/users.hand"
    chmod 600 "$d/users.hand" && mv "$d/users.hand" "$d/users"
    expect 1 "user reindex of a broken file" "$ck" -c "$conf" user reindex
    has err "users:2: expected 7" "the broken line is named"
    mv "$d/users.good" "$d/users"
    expect 0 "user reindex after the repair" "$ck" -c "$conf" user reindex
}

# Two processes add 12 users each at the same time: none may be lost.
concurrency_checks() {
    conf=$1
    for p in 1 2; do
        (
            i=0
            while [ $i -lt 12 ]; do
                printf 'pw-%s-%s\n' "$p" "$i" |
                    "$ck" -c "$conf" user add "p$p-$i@example.org" --role r --password-stdin \
                        > /dev/null 2>> "$d/conc.err" || echo "add p$p-$i failed" >> "$d/conc.err"
                i=$((i + 1))
            done
        ) &
        eval "pid$p=\$!"
    done
    # shellcheck disable=SC2154
    wait "$pid1" "$pid2"
    expect 0 "user list after concurrent adds" "$ck" -c "$conf" user list
    has out "26 users" "no record lost by concurrent edits"
    if [ -s "$d/conc.err" ]; then not_ok "concurrent adds all succeeded"; show "$d/conc.err"
    else ok "concurrent adds all succeeded"; fi
    # Remove them again, one process disabling while the other deletes.
    (
        i=0
        while [ $i -lt 12 ]; do "$ck" -c "$conf" user del "p1-$i@example.org" > /dev/null; i=$((i + 1)); done
    ) &
    pid1=$!
    (
        i=0
        while [ $i -lt 12 ]; do "$ck" -c "$conf" user disable "p2-$i@example.org" > /dev/null; i=$((i + 1)); done
    ) &
    pid2=$!
    wait "$pid1" "$pid2"
    expect 0 "user list after concurrent del and disable" "$ck" -c "$conf" user list
    has out "14 users" "every delete kept"
    if [ "$(grep -c 'disabled' "$d/out")" = 12 ]; then ok "every disable kept"
    else not_ok "every disable kept"; show "$d/out"; fi
}

session_checks() {
    conf=$1
    expect_in 0 "login" "$pw_a" "$ck" -c "$conf" login a@example.org --password-stdin \
        --rhost 192.0.2.10
    has out "logged in as a@example.org" "login says who"
    expect_in 0 "login by local account" "$pw_a" "$ck" -c "$conf" login auser --password-stdin
    expect 0 "sessions list --user" "$ck" -c "$conf" sessions list --user a@example.org
    has out "2 sessions" "both sessions listed"
    has out "192.0.2.10" "the address is listed"
    key=$(awk '$5 != "" && /192\.0\.2\.10/ { print $1 }' "$d/out")
    expect 0 "sessions list (every user)" "$ck" -c "$conf" sessions list
    has out "a@example.org" "every user's sessions listed"
    expect 0 "sessions show" "$ck" -c "$conf" sessions show "$key"
    has out "user:          a@example.org" "show names the user"
    has out "from:          192.0.2.10" "show names the address"
    full=$(awk '/^key:/ { print $2 }' "$d/out")
    expect 1 "sessions show of no session" "$ck" -c "$conf" sessions show 3f0000000000
    has err "no live session with key 3f0000000000" "the missing key is named"
    expect 0 "sessions revoke by prefix" "$ck" -c "$conf" sessions revoke "$key"
    has out "revoked session $key of a@example.org" "revoke names the session"
    expect 1 "show of the revoked session" "$ck" -c "$conf" sessions show "$key"
    expect 0 "sessions revoke of a gone key (idempotent)" "$ck" -c "$conf" sessions revoke "$full"
    expect 2 "sessions revoke of a malformed key" "$ck" -c "$conf" sessions revoke \
        "zz00000000000000000000000000000000000000000000000000000000000000zz"
    expect_in 0 "login again" "$pw_a" "$ck" -c "$conf" login a@example.org --password-stdin
    expect 0 "sessions revoke-user" "$ck" -c "$conf" sessions revoke-user a@example.org
    has out "revoked 2 sessions of a@example.org" "revoke-user counts"
    expect 0 "sessions list after revoke-user" "$ck" -c "$conf" sessions list --user a@example.org
    has out "0 sessions" "no session left"
    expect 0 "sweep" "$ck" -c "$conf" sweep
    has out "removed" "sweep reports"
}

lockout_checks() {
    conf=$(mkconf lock "[lockout]" "deny = 3" "[anomaly]" "spray_accounts = 2")
    for i in 1 2 3; do
        expect_in 1 "bad password $i" "wrong $i" "$ck" -c "$conf" login a@example.org \
            --password-stdin
    done
    expect_in 1 "locked after 3 failures" "$pw_a" "$ck" -c "$conf" login a@example.org \
        --password-stdin
    has err "a@example.org is locked for up to 900 s" "the lock and its length are named"
    # Failures for two accounts from one address lock the address (before
    # the address reaches deny = 3 failures of its own).
    for u in x1 x2; do
        expect_in 1 "failure for $u from one address" "nope" "$ck" -c "$conf" login \
            "$u@example.org" --password-stdin --rhost 198.51.100.7
    done
    expect_in 1 "a good password from the locked address" "new pass 3" "$ck" -c "$conf" login \
        b@example.org --password-stdin --rhost 198.51.100.7
    expect_in 0 "the same login from elsewhere" "new pass 3" "$ck" -c "$conf" login \
        b@example.org --password-stdin --rhost 198.51.100.8
    has audit.json '"event":"anomaly","rhost":"198.51.100.7","result":"failure","reason":"failure_burst"' \
        "the burst is audited"
    expect 0 "metrics after failures" "$ck" -c "$conf" metrics --prometheus
    has out "checkup_login_failures_total 5" "login failures counted"
    has out "checkup_lockouts_total 2" "lockouts counted (account and address)"
    has out "checkup_anomalies_total 1" "anomalies counted"
}

# The locks an administrator sees and clears; what user passwd and user
# enable do to a lock and to sessions; the password length limit.
lockout_admin_checks() {
    conf=$(mkconf admin "[lockout]" "deny = 2" "unlock_time = 0")
    lk=lk@example.org
    expect_in 0 "user add for the lockout checks" "lk pass 1" "$ck" -c "$conf" user add $lk \
        --role r --password-stdin
    for i in 1 2; do
        expect_in 1 "bad password $i for $lk" "wrong" "$ck" -c "$conf" login $lk \
            --password-stdin --rhost 203.0.113.20
    done
    expect_in 1 "the right password while locked" "lk pass 1" "$ck" -c "$conf" login $lk \
        --password-stdin --rhost 203.0.113.21
    has err "$lk is locked until an administrator clears it ('checkup lockout clear')" \
        "login says that only an administrator ends the lock"
    expect 0 "lockout list" "$ck" -c "$conf" lockout list
    has out "account  $lk" "the locked account is listed by its email"
    has out "address  203.0.113.20" "the locked address is listed"
    has out "until cleared" "a lock with unlock_time = 0 lasts until cleared"
    has out "2 locks" "two locks"
    expect 0 "lockout clear in another case" "$ck" -c "$conf" lockout clear LK@Example.org
    has out "cleared the lockout of account $lk" "the account is cleared as the file spells it"
    has audit.json '"event":"lockout_cleared","user":"lk@example.org","service":"checkup","result":"success","reason":"was_locked"' \
        "the clear is audited"
    expect_in 0 "a login after the clear" "lk pass 1" "$ck" -c "$conf" login $lk \
        --password-stdin --rhost 203.0.113.21
    expect 0 "lockout clear --address" "$ck" -c "$conf" lockout clear --address 203.0.113.20
    has out "cleared the lockout of address 203.0.113.20" "the address is cleared"
    expect 0 "lockout list after the clears" "$ck" -c "$conf" lockout list
    has out "0 locks" "nothing is locked any more"
    expect 0 "lockout clear of an address not locked" "$ck" -c "$conf" lockout clear \
        --address 203.0.113.99
    has out "no lockout on address 203.0.113.99" "says there was none"
    expect 2 "lockout clear without a name" "$ck" -c "$conf" lockout clear
    expect 2 "lockout clear with a user and an address" "$ck" -c "$conf" lockout clear $lk \
        --address 203.0.113.20
    expect 2 "lockout list with an argument" "$ck" -c "$conf" lockout list all
    # user passwd: clears the lock and ends every session of the user.
    expect_in 0 "a second session" "lk pass 1" "$ck" -c "$conf" login $lk --password-stdin
    for i in 1 2; do
        expect_in 1 "bad password $i before passwd" "wrong" "$ck" -c "$conf" login $lk \
            --password-stdin --rhost 203.0.113.22
    done
    expect_in 0 "user passwd of a locked user" "lk pass 2" "$ck" -c "$conf" user passwd $lk \
        --password-stdin
    has out "cleared the lockout of account $lk" "passwd clears the lock"
    has out "ended 2 sessions of $lk" "passwd ends the user's sessions"
    has audit.json '"event":"sessions_revoked","user":"lk@example.org","service":"checkup","result":"success","reason":"password_changed"' \
        "the ended sessions are audited"
    expect 0 "sessions after passwd" "$ck" -c "$conf" sessions list --user $lk
    has out "0 sessions" "no session outlives the password change"
    expect_in 0 "the new password logs in at once" "lk pass 2" "$ck" -c "$conf" login $lk \
        --password-stdin
    expect_in 0 "user passwd --keep-sessions" "lk pass 3" "$ck" -c "$conf" user passwd $lk \
        --password-stdin --keep-sessions
    hasnt out "ended" "--keep-sessions ends nothing"
    expect 0 "sessions after passwd --keep-sessions" "$ck" -c "$conf" sessions list --user $lk
    has out "1 session" "the session is kept"
    # user enable clears the lock.
    for i in 1 2; do
        expect_in 1 "bad password $i before enable" "wrong" "$ck" -c "$conf" login $lk \
            --password-stdin --rhost 203.0.113.23
    done
    expect 0 "user enable of a locked user" "$ck" -c "$conf" user enable $lk
    has out "cleared the lockout of account $lk" "enable clears the lock"
    expect_in 0 "a login after enable" "lk pass 3" "$ck" -c "$conf" login $lk --password-stdin
    # The store down: the password stands, the message says what to run.
    printf '[store]\nurl = redis://127.0.0.1:1/0\nconnect_timeout_ms = 200\n[users]\nfile = %s/users\n' \
        "$d" > "$d/down.conf"
    expect_in 1 "user passwd with the store down" "lk pass 4" "$ck" -c "$d/down.conf" user passwd \
        $lk --password-stdin
    has out "new password for $lk" "the new password is written"
    has err "run 'checkup lockout clear $lk'" "the message names the clear to run"
    has err "run 'checkup sessions revoke-user $lk'" "the message names the revoke to run"
    expect_in 0 "the password set with the store down works" "lk pass 4" "$ck" -c "$conf" login \
        $lk --password-stdin
    # yescrypt takes 511 bytes at most: the limit said is the limit kept.
    long=$(printf '%0511d' 0)
    expect_in 0 "a password of 511 bytes" "$long" "$ck" -c "$conf" user passwd $lk \
        --password-stdin
    expect_in 0 "it logs in" "$long" "$ck" -c "$conf" login $lk --password-stdin
    expect_in 1 "a password of 512 bytes" "${long}0" "$ck" -c "$conf" user passwd $lk \
        --password-stdin
    has err "password longer than 511 bytes" "the message gives the limit kept"
    hasnt err "yescrypt hashing failed" "no hashing failure"
    expect_in 1 "user add with a password of 1000 bytes" "$long$long" "$ck" -c "$conf" user add \
        lk2@example.org --role r --password-stdin
    has err "password longer than 511 bytes" "user add gives the same limit"
    # user set: a new role ends the sessions opened with the old one.
    expect_in 0 "a session before user set" "$long" "$ck" -c "$conf" login $lk --password-stdin
    expect 0 "user set --keep-sessions" "$ck" -c "$conf" user set $lk --clinic c7 --keep-sessions
    hasnt out "ended" "--keep-sessions ends nothing"
    expect 0 "user set --role" "$ck" -c "$conf" user set $lk --role auditor
    has out "ended 2 sessions of $lk" "a role change ends the user's sessions"
    expect 0 "user set with nothing changed" "$ck" -c "$conf" user set $lk --role auditor
    hasnt out "ended" "an edit that changes nothing ends nothing"
    expect 2 "user add --keep-sessions" "$ck" -c "$conf" user add x9@example.org --role r \
        --no-password --keep-sessions
    # user del clears the lock, so a user added again later starts unlocked.
    for i in 1 2; do
        expect_in 1 "bad password $i before del" "wrong" "$ck" -c "$conf" login $lk \
            --password-stdin --rhost 203.0.113.24
    done
    expect 0 "user del after the lockout checks" "$ck" -c "$conf" user del $lk
    has out "cleared the lockout of account $lk" "del clears the lock"
    expect 0 "lockout list after del" "$ck" -c "$conf" lockout list
    hasnt out "account  " "no account lock is left"
}

cap_checks() {
    conf=$(mkconf cap "[session]" "max_per_user = 2")
    for i in 1 2 3; do
        expect_in 0 "capped login $i" "new pass 3" "$ck" -c "$conf" login b@example.org \
            --password-stdin
        [ $i = 1 ] && first=$(sed -n 's/.*session \([0-9A-Za-z_-]*\),.*/\1/p' "$d/out")
        # Creation times have one-second resolution: make "oldest" unambiguous.
        [ $i -lt 3 ] && sleep 1
    done
    has out "oldest session ended: per-user cap" "the third login evicts"
    expect 0 "sessions list under the cap" "$ck" -c "$conf" sessions list --user b@example.org
    has out "2 sessions" "two sessions left"
    hasnt out "$first" "the oldest one is the one gone"
    has audit.json '"event":"session_evicted","user":"b@example.org"' "the eviction is audited"
    expect 0 "metrics under the cap" "$ck" -c "$conf" metrics --prometheus
    has out 'checkup_sessions_ended_total{reason="revoked"} 1' "the eviction counts as revoked"
}

metrics_checks() {
    conf=$(mkconf work "[alerts]" "active_sessions = 3" "idle_timeout_rate = 40")
    if "$workload" "$conf" > "$d/wl" 2>&1; then ok "workload"; else not_ok "workload"; show "$d/wl"; fi
    expect 0 "metrics --prometheus" "$ck" -c "$conf" metrics --prometheus
    for line in 'checkup_store_up{backend="'"$backend"'"} 1' \
        'checkup_sessions_active 3' \
        'checkup_sessions_active_by_method{method="email"} 1' \
        'checkup_sessions_active_by_method{method="corppass"} 1' \
        'checkup_sessions_active_by_method{method="oidc"} 1' \
        'checkup_sessions_created_total 10' \
        'checkup_sessions_ended_total{reason="logout"} 2' \
        'checkup_sessions_ended_total{reason="idle"} 3' \
        'checkup_sessions_ended_total{reason="lifetime"} 0' \
        'checkup_sessions_ended_total{reason="revoked"} 2' \
        'checkup_session_timeout_ratio 0.428571429' \
        'checkup_session_duration_seconds_sum 4400' \
        'checkup_session_duration_seconds_avg 628.571429' \
        'checkup_login_failures_total 0' \
        'checkup_alert{name="active_sessions"} 1' \
        'checkup_alert{name="idle_timeout_rate"} 1' \
        'checkup_alert{name="redis_memory_percent"} 0'; do
        if grep -qxF -- "$line" "$d/out"; then ok "prometheus: $line"
        else not_ok "prometheus: $line"; show "$d/out"; fi
    done
    if [ "$backend" = redis ]; then
        has out "checkup_redis_used_memory_bytes " "Redis used_memory shown"
        has out "checkup_redis_maxmemory_bytes 0" "Redis maxmemory shown"
    else
        hasnt out "checkup_redis_used_memory_bytes" "no Redis figures for the embedded store"
    fi
    expect 0 "metrics --json" "$ck" -c "$conf" metrics --json
    has out '"sessions":{"active":3,"active_by_method":{"email":1,"corppass":1,"oidc":1},"created":10,"ended":{"logout":2,"idle":3,"lifetime":0,"revoked":2}' \
        "json: the session figures"
    has out '"duration_sum_seconds":4400' "json: the durations"
    expect 0 "metrics (text)" "$ck" -c "$conf" metrics
    has out "sessions ended:   logout 2, idle 3, lifetime 0, revoked 2" "text: the endings"
    has out "timeout rate:     42.9 %" "text: the timeout rate"
    has out "average duration: 629 s" "text: the average duration"
    oidc_session_checks "$conf"
}

# The workload's OIDC session: method and provider listed, the provider's
# sid shown only as a hash.
oidc_session_checks() {
    conf=$1
    expect 0 "sessions list of an OIDC user" "$ck" -c "$conf" sessions list --user w4@example.org
    has out " IDP " "the list has an IDP column"
    key=$(awk '$3 == "oidc" { print $1 }' "$d/out")
    if [ -n "$key" ] && awk '$3 == "oidc" && $4 == "corp-idp"' "$d/out" | grep -q . &&
        awk '$3 == "email" && $4 == "-"' "$d/out" | grep -q .; then
        ok "OIDC and password sessions list their method and idp"
    else not_ok "OIDC and password sessions list their method and idp"; show "$d/out"; fi
    expect 0 "sessions list of a CorpPass user" "$ck" -c "$conf" sessions list --user w3@example.org
    if awk '$3 == "corppass" && $4 == "corppass"' "$d/out" | grep -q .; then
        ok "a CorpPass session lists its idp"
    else not_ok "a CorpPass session lists its idp"; show "$d/out"; fi
    expect 0 "sessions show of the OIDC session" "$ck" -c "$conf" sessions show "${key:-000000}" \
        --user w4@example.org
    has out "method:        oidc" "show names the method"
    has out "idp:           corp-idp" "show names the provider"
    want=$(printf '%s' idp-sid-7 | openssl dgst -sha256 -r | cut -c1-16)
    has out "idp session:   sha256:$want" "show gives the hash of the provider's sid"
    hasnt out "idp-sid-7" "show never gives the provider's sid itself"
}

keys_checks() {
    conf=$1
    expect 0 "keys generate" "$ck" -c "$conf" keys generate
    expect 0 "keys generate again" "$ck" -c "$conf" keys generate
    mode=$(stat -c %a "$d/token.keys")
    if [ "$mode" = 600 ]; then ok "key ring mode 0600"; else not_ok "key ring mode $mode"; fi
    expect 0 "keys rotate" "$ck" -c "$conf" keys rotate
    has out "1 old key dropped" "rotate keeps the previous key only"
    if [ "$(grep -vc '^#' "$d/token.keys")" = 2 ]; then ok "two keys after rotate"
    else not_ok "two keys after rotate"; show "$d/token.keys"; fi
    expect 0 "keys rotate --keep 0" "$ck" -c "$conf" keys rotate --keep 0
    if [ "$(grep -vc '^#' "$d/token.keys")" = 1 ]; then ok "one key after --keep 0"
    else not_ok "one key after --keep 0"; fi
    expect 1 "keys jwks without a provider" "$ck" -c "$conf" keys jwks
    has err "no relying-party keys: no provider has" "jwks says why"
}

config_checks() {
    conf=$1
    expect 0 "config check" "$ck" -c "$conf" config check
    has out "ok       store: $backend answered" "the store answered"
    has out "ok       users file: $d/users" "the users file loads"
    has out "ok       password-check slots: $d/hash-slots" "the slots file is usable"
    has out "configuration is usable" "config check concludes"
    chmod 644 "$d/hash-slots"
    expect 1 "config check with an open slots file" "$ck" -c "$conf" config check
    has out "FAIL     password-check slots" "the slots file problem is named"
    chmod 600 "$d/hash-slots"
    printf '[store]\nurl = redis://127.0.0.1:1/0\nconnect_timeout_ms = 200\n[users]\nfile = %s/users\n[passwords]\nhash_slot_file = %s/hash-slots\n[tokens]\nkey_file = %s/token.keys\n' \
        "$d" "$d" "$d" > "$d/down.conf"
    expect 1 "config check with the store down" "$ck" -c "$d/down.conf" config check
    has out "FAIL     store: redis" "the store failure is named"
    expect 1 "metrics with the store down" "$ck" -c "$d/down.conf" metrics --prometheus
    has out 'checkup_store_up{backend="redis"} 0' "a down store still renders"
    chmod 644 "$d/users"
    expect 1 "config check with an open users file" "$ck" -c "$conf" config check
    has out "FAIL     users file" "the users file problem is named"
    chmod 600 "$d/users"
}

secret_checks() {
    for f in "$d"/*; do
        [ -f "$f" ] || continue
        case $f in */users|*/token.keys|*/wl) continue ;; esac
        if grep -qF -e "$pw_a" -e "$pw_b" -e "new pass 3" "$f"; then
            not_ok "no password in $(basename "$f")"
            return
        fi
    done
    ok "no password in any output or the audit file"
}

cli_suite() {
    store=$1
    unset SSH_CONNECTION
    case $store in lmdb:*) backend=lmdb ;; *) backend=redis ;; esac
    conf=$(mkconf main)
    help_checks
    usage_checks "$conf"
    user_checks "$conf"
    session_checks "$conf"
    lockout_checks
    cap_checks
    lockout_admin_checks
    metrics_checks
    keys_checks "$conf"
    config_checks "$conf"
    concurrency_checks "$conf"
    secret_checks
    echo "1..$n"
    echo "# $backend: $((n - fails)) of $n checks passed"
    [ "$fails" = 0 ]
}
