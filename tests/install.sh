#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# "make install DESTDIR=..." from this build tree: the module in the PAM
# directory, the programs, every man page in docs/, the sample
# configuration and the examples, nothing group- or world-writable, no
# libtool archive beside the module; a second install keeps an edited
# checkup.conf; "make uninstall" removes the rest and still keeps it.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
: "${ck_pammoddir:?}" "${ck_bindir:?}" "${ck_sysconfdir:?}" "${ck_docdir:?}" "${ck_mandir:?}"
MAKE=${MAKE:-make}
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-install-XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
root=$d/root
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# install [TARGET]: runs make TARGET (default install) into $root, quietly.
install() {
    if ! (cd "$top_builddir" && $MAKE "${1:-install}" DESTDIR="$root") > "$d/make.log" 2>&1; then
        fail "make ${1:-install} DESTDIR=... failed:"; tail -n 30 "$d/make.log"
        exit 1
    fi
}
# has FILE "MODE..." WHAT: FILE exists under $root with one of the MODEs.
has() {
    if [ ! -f "$root$1" ]; then
        fail "$3 missing: $1"
        return
    fi
    m=$(stat -c %a "$root$1")
    case " $2 " in
    *" $m "*) ok "$3: $1 ($m)" ;;
    *) fail "$3: $1 has mode $m, not one of: $2" ;;
    esac
}

# Directories come out 0755 as they would for root's usual umask.
umask 022
install

mod=$ck_pammoddir/pam_checkup.so
has "$mod" '644 755' "PAM module"
if [ -f "$root$mod" ]; then
    syms=$(nm -D --defined-only "$root$mod" | awk '{print $3}' | sort | tr '\n' ' ')
    want="pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred "
    [ "$syms" = "$want" ] && ok "the installed module exports only its pam_sm_* entry points" ||
        fail "the installed module exports: $syms"
fi
[ ! -e "$root$ck_pammoddir/pam_checkup.la" ] && ok "no libtool archive beside the module" ||
    fail "pam_checkup.la installed in the PAM directory"
has "$ck_bindir/checkup" '755' "program"
# checkupd, when its branch has landed.
if grep -q '^sbin_PROGRAMS.*checkupd\|^sbin_PROGRAMS = .*checkupd' "$top_builddir/Makefile" ||
    [ -x "$top_builddir/checkupd" ]; then
    has "${ck_sbindir:?}/checkupd" '755' "daemon"
fi

# Every man page in docs/ is installed in its section.
n=0
for page in "$top_srcdir"/docs/*.[1-8]; do
    [ -e "$page" ] || continue
    name=${page##*/}
    has "$ck_mandir/man${name##*.}/$name" 644 "man page"
    n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n man pages in docs/"

conf=$ck_sysconfdir/checkup/checkup.conf
has "$conf" 644 "sample configuration"
cmp -s "$top_srcdir/conf/checkup.conf" "$root$conf" && ok "it is conf/checkup.conf" ||
    fail "the installed checkup.conf differs from conf/checkup.conf"
ex=$ck_docdir/examples
for f in checkup.conf docker-compose.yml pam.d/sshd pam.d/login pam.d/clinic-portal \
         pam.d/common-auth-checkup pam.d/checkup pam.d/checkup-token pam.d/sshd-checkup \
         nginx/checkup.conf systemd/checkupd.service systemd/checkup-sweep.service \
         systemd/checkup-sweep.timer monitoring/checkup-alerts.yml \
         monitoring/checkup-alerts.test.yml monitoring/checkup-dashboard.json tmpfiles.d/checkup.conf \
         sysusers.d/checkup.conf redis/redis.conf redis/checkup-auth.conf redis/sentinel.conf redis/cluster.conf \
         docker/Dockerfile docker/checkup.conf k8s/00-namespace.yaml k8s/10-secrets.yaml \
         k8s/20-redis.yaml k8s/30-checkupd.yaml k8s/40-networkpolicy.yaml; do
    has "$ex/$f" 644 "example"
done
has "$ck_docdir/operations.md" 644 "operations guide"
# Every file under conf/ is shipped somewhere.
(cd "$top_srcdir/conf" && find . -type f ! -name '*.mk' | sed 's|^\./||') | while read -r f; do
    [ -f "$root$ex/$f" ] || echo "$f"
done > "$d/unshipped"
[ -s "$d/unshipped" ] && fail "conf/ files not installed as examples: $(tr '\n' ' ' < "$d/unshipped")" ||
    ok "every file of conf/ is installed as an example"
[ ! -e "$root$ck_sysconfdir/pam.d" ] && ok "nothing installed into pam.d" ||
    fail "make install wrote into $ck_sysconfdir/pam.d"

find "$root" -perm /022 ! -type l > "$d/writable"
[ -s "$d/writable" ] && { fail "group- or world-writable:"; cat "$d/writable"; } ||
    ok "nothing group- or world-writable"

# A second install keeps the administrator's checkup.conf.
printf '\n[session]\ninactivity_timeout = 600\n' >> "$root$conf"
cp "$root$conf" "$d/edited"
install
cmp -s "$d/edited" "$root$conf" && ok "a second install keeps an edited checkup.conf" ||
    fail "a second install overwrote the edited checkup.conf"
cmp -s "$top_srcdir/conf/checkup.conf" "$root$ex/checkup.conf" &&
    ok "while the example copy is the new sample" || fail "the example checkup.conf is stale"

# Uninstall removes everything but the edited configuration.
install uninstall
find "$root" -type f > "$d/left"
if [ "$(cat "$d/left")" = "$root$conf" ]; then
    ok "make uninstall leaves only the edited checkup.conf"
else
    fail "after make uninstall:"; cat "$d/left"
fi
# An unedited sample goes with the rest.
install
install uninstall
[ -z "$(find "$root" -type f ! -path "$root$conf")" ] && [ -e "$root$conf" ] &&
    ok "and an install over it changes nothing" || fail "install over an edited conf"
rm -f "$root$conf"
install
install uninstall
left=$(find "$root" -type f | wc -l)
[ "$left" = 0 ] && ok "make uninstall of a fresh install leaves no file" ||
    { fail "$left files left:"; find "$root" -type f; }

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
