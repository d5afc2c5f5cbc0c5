# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for the OAUTHBEARER plugin tests: a checkup directory
# (configuration, key ring, users, embedded store, audit file) and the SASL
# configuration that points libsasl2 at the plugin just built. Source it.

# cks_setup DIR INACTIVITY LIFETIME: alice@example.org (local name alice)
# and bob@example.org; DIR/sasl/sample.conf names DIR/checkup.conf.
cks_setup() {
    _d=$1
    mkdir -p "$_d/sasl"
    chmod 700 "$_d"
    cat > "$_d/checkup.conf" <<CONF
[session]
inactivity_timeout = $2
absolute_lifetime = $3

[store]
url = lmdb:$_d/store

[users]
file = $_d/users

[tokens]
key_file = $_d/token.keys

[audit]
file = $_d/audit.jsonl

[daemon]
public_url = https://login.example.org/
CONF
    "$top_builddir/checkup" -c "$_d/checkup.conf" keys generate > /dev/null || return 1
    for _u in alice bob; do
        "$top_builddir/checkup" -c "$_d/checkup.conf" user add "$_u@example.org" \
            --role doctor --local-user "$_u" --no-password > /dev/null || return 1
    done
    # sasl-sample-server reads "sample.conf" (its application name).
    printf 'checkup_config: %s\nmech_list: OAUTHBEARER\n' "$_d/checkup.conf" \
        > "$_d/sasl/sample.conf"
}

# The plugin as built (libtool keeps the shared object in .libs).
CKS_PLUGIN_DIR=$top_builddir/sasl/.libs

# cks_mint DIR EMAIL > file: a session's token, made through the store API.
cks_mint() {
    "$top_builddir/tests/sasl_drive" mint "$1/checkup.conf" "$2"
}

# cks_sys PROGRAM ARGS...: runs a program of the system (sasl2-bin's) that
# loads the plugin. In the sanitizer build the plugin carries ASan and
# UBSan and the program does not: their runtimes are preloaded so that they
# come first, and leak checks are left to tests/sasl_valgrind.sh (these
# programs' own allocations are not ours to judge).
cks_sys() {
    if [ -n "${CK_SANITIZERS:-}" ]; then
        _rt="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
        LD_PRELOAD="$_rt${LD_PRELOAD:+ $LD_PRELOAD}" \
            ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
    else
        "$@"
    fi
}
