# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for the pam_checkup script tests and the demo: a checkup
# configuration, users and keys in a directory, and pam_wrapper service
# files pointing at the module just built. Source it; it sets nothing
# until called.

# ck_pam_setup DIR BUILDDIR INACTIVITY LIFETIME
ck_pam_setup() {
    _d=$1 _b=$2
    mkdir -p "$_d/services"
    cat > "$_d/checkup.conf" <<CONF
[session]
inactivity_timeout = $3
absolute_lifetime = $4

[store]
url = lmdb:$_d/store

[users]
file = $_d/users

[passwords]
hash_slot_file = $_d/hash-slots

[tokens]
key_file = $_d/token.keys

[audit]
file = $_d/audit.jsonl

[lockout]
deny = 5
fail_interval = 900
unlock_time = 900
CONF
    "$_b/checkup" -c "$_d/checkup.conf" keys generate >/dev/null
    _m="$_b/.libs/pam_checkup.so"
    printf '%s\n' \
        "auth     required $_m config=$_d/checkup.conf" \
        "account  required $_m config=$_d/checkup.conf" \
        "session  required $_m config=$_d/checkup.conf" > "$_d/services/checkup"
    printf '%s\n' "auth required pam_deny.so" "account required pam_deny.so" \
        "session required pam_deny.so" > "$_d/services/other"
}

# ck_pam_wrap: exports what pam_wrapper needs to read services from DIR.
ck_pam_wrap() {
    PAM_WRAPPER=1
    PAM_WRAPPER_SERVICE_DIR=$1/services
    # Sanitizers and valgrind need plain dlopen; pam_wrapper 1.1.4
    # (bookworm) reads the switch under the UID_WRAPPER_ name.
    PAM_WRAPPER_DISABLE_DEEPBIND=1
    UID_WRAPPER_DISABLE_DEEPBIND=1
    export PAM_WRAPPER PAM_WRAPPER_SERVICE_DIR PAM_WRAPPER_DISABLE_DEEPBIND
    export UID_WRAPPER_DISABLE_DEEPBIND
}

# ck_pam_drive DIR USER RHOST OPS...: tests/pam_drive through pam_wrapper
# (stdin: the secret), its output in DIR/drive.
ck_pam_drive() {
    _dir=$1 _user=$2 _rhost=$3
    shift 3
    LD_PRELOAD=libpam_wrapper.so \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        "$top_builddir/tests/pam_drive" -s checkup -u "$_user" -r "$_rhost" "$@" \
        > "$_dir/drive" 2>&1
}

# ck_bind_setup DIR PASSWORD: a PAM test dir with [anomaly] bind = enforce
# and one user a@example.org (local name auser) whose password is in DIR/pw.
ck_bind_setup() {
    ck_pam_setup "$1" "$top_builddir" 600 3600
    printf '\n[anomaly]\nbind = enforce\n' >> "$1/checkup.conf"
    printf '%s\n' "$2" > "$1/pw"
    "$top_builddir/checkup" -c "$1/checkup.conf" user add a@example.org --role doctor \
        --local-user auser --password-stdin < "$1/pw" > /dev/null || return 1
    ck_pam_wrap "$1"
}
