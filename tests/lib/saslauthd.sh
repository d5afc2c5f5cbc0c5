# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for the tests of the saslauthd road: a real saslauthd
# (sasl2-bin) with "-a pam", started by the test as its own child, whose
# PAM reads the services of a test directory (pam_wrapper) with the
# pam_checkup.so of the build tree. Source after tests/lib/pam_env.sh and
# tests/lib/redis.sh (for ck_alive).
#
#   ck_pam_setup "$dir" "$top_builddir" 600 3600   # checkup.conf, services/
#   saslauthd_start "$dir" [OPTION...]   # socket $dir/mux/mux, log $dir/saslauthd.log
#   testsaslauthd -f "$dir/mux/mux" -s SERVICE -u USER -p SECRET
#   saslauthd_stop "$dir"                # by its pid, workers included
#
# pam_wrapper works inside saslauthd: it is preloaded into saslauthd only,
# and gives libpam the service files of $dir/services instead of
# /etc/pam.d, which the tests never touch. pam_wrapper copies the service
# files when saslauthd starts: write them first. saslauthd runs in the
# foreground (-d) so that it stays the process the test started (its pid
# is $!) and pam_wrapper's private copy lives exactly as long as it; -d
# makes it log each request (user, service, realm, result; never the
# secret) to $dir/saslauthd.log.
#
# OPTIONs come after "-a pam -d"; give -m only to override $dir/mux. In
# the sanitizer build the ASan runtime is preloaded too, since the module
# is instrumented and saslauthd is not.

: "${SASLAUTHD:=/usr/sbin/saslauthd}"

# saslauthd_preload: the LD_PRELOAD list for a program that loads the
# build tree's pam_checkup.so through pam_wrapper.
saslauthd_preload() {
    _sp=libpam_wrapper.so
    if [ -n "${CK_SANITIZERS:-}" ]; then
        _sp_asan=$(ldd "$top_builddir/.libs/pam_checkup.so" 2>/dev/null |
            awk '$1 ~ /^libasan\.so/ { print $3; exit }')
        [ -n "$_sp_asan" ] && _sp="$_sp_asan $_sp"
    fi
    printf '%s\n' "$_sp"
}

# saslauthd_start DIR [OPTION...]: returns once the socket accepts.
saslauthd_start() {
    _sd=$1
    shift
    if [ ! -x "$SASLAUTHD" ] || ! command -v testsaslauthd > /dev/null; then
        echo "saslauthd_start: saslauthd and testsaslauthd are required (package sasl2-bin," \
            "scripts/install-deps.sh)" >&2
        return 1
    fi
    mkdir -p "$_sd/mux"
    rm -f "$_sd/mux/mux"
    (
        ck_pam_wrap "$_sd"
        # saslauthd leaks what it keeps until exit and is stopped by a
        # signal: the leak report would be about saslauthd, not checkup.
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0"
        LD_PRELOAD=$(saslauthd_preload)
        export ASAN_OPTIONS LD_PRELOAD
        exec setsid "$SASLAUTHD" -a pam -d -m "$_sd/mux" "$@" > "$_sd/saslauthd.log" 2>&1 < /dev/null
    ) &
    echo $! > "$_sd/saslauthd.pid"
    _si=0
    while [ $_si -lt 100 ]; do
        _sp_pid=$(sed -n 's/^saslauthd\[\([0-9]*\)\] :listening on socket.*/\1/p' \
            "$_sd/saslauthd.log" 2>/dev/null | head -n 1)
        if [ -S "$_sd/mux/mux" ] && [ -n "$_sp_pid" ]; then
            echo "$_sp_pid" > "$_sd/saslauthd.pid"
            return 0
        fi
        ck_alive "$(cat "$_sd/saslauthd.pid")" || break
        sleep 0.1
        _si=$((_si + 1))
    done
    echo "saslauthd_start: saslauthd did not start:" >&2
    tail -n 20 "$_sd/saslauthd.log" >&2
    saslauthd_stop "$_sd"
    return 1
}

# saslauthd_stop DIR: stops the saslauthd started in DIR and its workers,
# each by its own pid (the master ends its workers itself; a worker left
# behind is ended here).
saslauthd_stop() {
    [ -s "$1/saslauthd.pid" ] || return 0
    _sp_pid=$(cat "$1/saslauthd.pid")
    _sp_kids=$(ps -o pid= --ppid "$_sp_pid" 2>/dev/null)
    kill "$_sp_pid" 2>/dev/null
    for _sp_p in "$_sp_pid" $_sp_kids; do
        _si=0
        while ck_alive "$_sp_p" && [ $_si -lt 50 ]; do sleep 0.1; _si=$((_si + 1)); done
        ck_alive "$_sp_p" && kill -9 "$_sp_p" 2>/dev/null
    done
    rm -f "$1/saslauthd.pid"
}
