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
