# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for tests that bind to a real OpenLDAP slapd (package
# slapd) through Cyrus SASL. Source after tests/lib/redis.sh (for
# $CK_TEST_TMP, ck_alive, ck_free_port and ck_tls_certs).
#
#   slapd_setup DIR SASL-CONF        # slapd.conf, sasl2/slapd.conf, plugins/, certs/
#   slapd_sasl_option DIR KEY VALUE  # set "KEY: VALUE" in sasl2/slapd.conf
#   slapd_use_checkup_plugin DIR PLUGIN CHECKUP-CONF   # the OAUTHBEARER hook
#   port=$(slapd_start DIR)          # slapd on ldap://127.0.0.1:PORT/, log in
#                                    # DIR/slapd.log (earlier starts: slapd.log.old)
#   slapd_whoami DIR ARG...          # ldapwhoami over StartTLS, output in DIR/whoami
#   slapd_stop DIR                   # by its pid
#
# slapd_setup writes, in DIR:
#   slapd.conf      slapd's own configuration: the core schema, no database
#                   (whoami needs none), TLS with a test CA, and authz-regexp
#                   rules that map a SASL identity to
#                   uid=NAME,ou=people,dc=example,dc=org, and a user with a
#                   realm (a@example.org sent as user a, realm example.org)
#                   to uid=a@example.org,ou=people,dc=example,dc=org;
#                   sasl-secprops keeps slapd's default (noplain): PLAIN only
#                   over TLS.
#   sasl2/slapd.conf  the Cyrus SASL options of slapd (application name
#                   "slapd"), a copy of SASL-CONF (e.g. conf/sasl/slapd.conf)
#                   to change with slapd_sasl_option.
#   plugins/        the SASL plugin directory slapd and the clients load
#                   (SASL_PATH): links to the system's PLAIN and LOGIN
#                   plugins, and whatever slapd_use_checkup_plugin adds.
#
# Where slapd finds its SASL options: Cyrus SASL reads APPNAME.conf from
# its configuration path, and SASL_CONF_PATH would set that path, but
# Debian's slapd sets its own (/etc/ldap/sasl2:/usr/lib/sasl2), which wins.
# So slapd_start runs slapd in a private mount namespace (unshare -m, as
# root) where DIR/sasl2 is bind-mounted on /etc/ldap/sasl2: slapd reads
# the test's file and the machine's /etc/ldap/sasl2 is never touched (the
# mount is private and ends with slapd). SASL_PATH (the plugin
# directory) is honoured by libsasl2 in slapd and in the clients alike.
#
# The OAUTHBEARER hook, for a test of the checkup plugin:
#   slapd_setup "$s" "$top_srcdir/conf/sasl/slapd.conf"
#   slapd_use_checkup_plugin "$s" "$top_builddir/sasl/.libs/libcheckup_sasl.so" "$d/checkup.conf"
#   port=$(slapd_start "$s")
#   printf '%s' "$token" > "$s/token"       # -y reads the whole file: no newline
#   slapd_whoami "$s" -Y OAUTHBEARER -y "$s/token"   # DIR/whoami: dn:uid=...
# The plugin (server and client halves) is linked into plugins/, and
# checkup_config points at the test's checkup.conf; ldapwhoami gets the
# same SASL_PATH, so its client half is the one just built.

: "${SLAPD:=/usr/sbin/slapd}"
# Debian's slapd reads its SASL options from here (see above).
SLAPD_SASL_CONF_DIR=/etc/ldap/sasl2

# slapd_system_plugin_dir: the directory of the system's Cyrus plugins.
slapd_system_plugin_dir() {
    for _sl_p in /usr/lib/*/sasl2/libplain.so /usr/lib64/sasl2/libplain.so \
        /usr/lib/sasl2/libplain.so; do
        [ -e "$_sl_p" ] && { dirname "$_sl_p"; return 0; }
    done
    echo "slapd: no Cyrus SASL PLAIN plugin (package libsasl2-modules)" >&2
    return 1
}

# slapd_setup DIR SASL-CONF
slapd_setup() {
    _sl_d=$1
    for _sl_t in "$SLAPD" "$(command -v ldapwhoami)"; do
        if [ ! -x "$_sl_t" ]; then
            echo "slapd_setup: slapd and ldapwhoami are required (packages slapd, ldap-utils;" \
                "scripts/install-deps.sh)" >&2
            return 1
        fi
    done
    mkdir -p "$_sl_d/sasl2" "$_sl_d/plugins" "$_sl_d/run" || return 1
    cp "$2" "$_sl_d/sasl2/slapd.conf" || return 1
    _sl_sys=$(slapd_system_plugin_dir) || return 1
    for _sl_m in plain login; do
        ln -sf "$_sl_sys/lib$_sl_m.so" "$_sl_d/plugins/lib$_sl_m.so" || return 1
    done
    ck_tls_certs "$_sl_d/certs" || return 1
    cat > "$_sl_d/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
pidfile $_sl_d/run/slapd.pid
argsfile $_sl_d/run/slapd.args
loglevel none
TLSCACertificateFile $_sl_d/certs/ca.crt
TLSCertificateFile $_sl_d/certs/server.crt
TLSCertificateKeyFile $_sl_d/certs/server.key
authz-regexp "^uid=([^,]+),cn=[^,]+,cn=auth\$" "uid=\$1,ou=people,dc=example,dc=org"
authz-regexp "^uid=([^,]+),cn=([^,]+),cn=[^,]+,cn=auth\$" "uid=\$1@\$2,ou=people,dc=example,dc=org"
EOF
    # The clients: the test CA, no ~/.ldaprc or ./ldaprc, no /etc/ldap/ldap.conf.
    printf 'TLS_CACERT %s\nTLS_REQCERT demand\n' "$_sl_d/certs/ca.crt" > "$_sl_d/ldap.conf"
}

# slapd_sasl_option DIR KEY VALUE: sets (or replaces) "KEY: VALUE" in the
# SASL options; before slapd_start (Cyrus reads them once, at start).
slapd_sasl_option() {
    _sl_f=$1/sasl2/slapd.conf
    grep -v "^$2:" "$_sl_f" > "$_sl_f.new" || :
    printf '%s: %s\n' "$2" "$3" >> "$_sl_f.new"
    mv "$_sl_f.new" "$_sl_f"
}

# slapd_use_checkup_plugin DIR PLUGIN-SO CHECKUP-CONF: the hook for the
# OAUTHBEARER plugin. Links PLUGIN-SO (the build tree's
# sasl/.libs/libcheckup_sasl.so) into the plugin directory of slapd and
# the clients, and points checkup_config at CHECKUP-CONF. mech_list is
# left to SASL-CONF (conf/sasl/slapd.conf offers OAUTHBEARER PLAIN).
slapd_use_checkup_plugin() {
    if [ ! -e "$2" ]; then
        echo "slapd_use_checkup_plugin: $2: no such plugin (built yet?)" >&2
        return 1
    fi
    ln -sf "$2" "$1/plugins/$(basename "$2")" || return 1
    slapd_sasl_option "$1" checkup_config "$3"
}

# slapd_env DIR: the environment of slapd and its clients.
slapd_env() {
    SASL_PATH=$1/plugins
    LDAPCONF=$1/ldap.conf
    LDAPRC=ck-test-no-ldaprc
    export SASL_PATH LDAPCONF LDAPRC
    unset LDAPNOINIT
}

# slapd_start DIR: starts slapd on a free loopback port and prints the
# port once it answers; its pid goes to DIR/slapd.pid.
slapd_start() {
    _sl_d=$1
    if ! unshare -m true 2>/dev/null; then
        echo "slapd_start: unshare -m failed: slapd's SASL options are bind-mounted in a" \
            "private mount namespace, which needs root (CAP_SYS_ADMIN)" >&2
        return 1
    fi
    _sl_tries=0
    while [ $_sl_tries -lt 10 ]; do
        _sl_tries=$((_sl_tries + 1))
        _sl_port=$(ck_free_port)
        # The log of an earlier start goes on in slapd.log.old.
        [ -s "$_sl_d/slapd.log" ] && cat "$_sl_d/slapd.log" >> "$_sl_d/slapd.log.old"
        (
            slapd_env "$_sl_d"
            exec unshare -m sh -c 'mount --bind "$1/sasl2" "$2" && exec "$3" -f "$1/slapd.conf" \
                -h "ldap://127.0.0.1:$4/" -d stats' \
                sh "$_sl_d" "$SLAPD_SASL_CONF_DIR" "$SLAPD" "$_sl_port" \
                > "$_sl_d/slapd.log" 2>&1 < /dev/null
        ) &
        echo $! > "$_sl_d/slapd.pid"
        _sl_i=0
        while [ $_sl_i -lt 100 ]; do
            ck_alive "$(cat "$_sl_d/slapd.pid")" || break
            if grep -q 'slapd starting' "$_sl_d/slapd.log" 2>/dev/null &&
                (slapd_env "$_sl_d"; ldapwhoami -x -H "ldap://127.0.0.1:$_sl_port/" > /dev/null 2>&1)
            then
                echo "$_sl_port" > "$_sl_d/port"
                printf '%s\n' "$_sl_port"
                return 0
            fi
            sleep 0.1
            _sl_i=$((_sl_i + 1))
        done
        slapd_stop "$_sl_d"
        grep -q 'Address already in use' "$_sl_d/slapd.log" 2>/dev/null || break
    done
    echo "slapd_start: slapd did not start:" >&2
    tail -n 20 "$_sl_d/slapd.log" >&2
    return 1
}

# slapd_whoami DIR ARG...: ldapwhoami against the slapd of DIR over
# StartTLS (-ZZ: refused unless TLS is up); output in DIR/whoami.
slapd_whoami() {
    _sl_d=$1
    shift
    (
        slapd_env "$_sl_d"
        ldapwhoami -ZZ -H "ldap://127.0.0.1:$(cat "$_sl_d/port")/" "$@"
    ) > "$_sl_d/whoami" 2>&1 < /dev/null
}

# slapd_stop DIR: stops the slapd of DIR by its pid.
slapd_stop() {
    [ -s "$1/slapd.pid" ] || return 0
    _sl_pid=$(cat "$1/slapd.pid")
    kill "$_sl_pid" 2>/dev/null
    _sl_i=0
    while ck_alive "$_sl_pid" && [ $_sl_i -lt 50 ]; do sleep 0.1; _sl_i=$((_sl_i + 1)); done
    ck_alive "$_sl_pid" && kill -9 "$_sl_pid" 2>/dev/null
    rm -f "$1/slapd.pid"
}
