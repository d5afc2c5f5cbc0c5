#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Debian packages as a new user gets them, on the machine itself (as
# root; "make check-deb", run by scripts/test.sh):
#  1. build them with dpkg-buildpackage -us -uc -b from an unpacked
#     "make dist" tarball, and the source package with dpkg-source;
#  2. lintian: no error, no warning that debian/ does not override;
#  3. apt-get install ./*.deb: the module beside pam_unix.so, the
#     conffile, the group, the store directory, the empty users file, the
#     sweep timer enabled, checkupd not, and /etc/pam.d untouched; an
#     upgrade keeps an edited conffile;
#  4. in a private mount namespace (unshare -m) over copies of /etc/pam.d,
#     /var/lib/pam, debconf's database, /etc/checkup, /run/checkup and the
#     passwd and shadow files: pam-auth-update --enable checkup, then a
#     password login and a token login with pamtester through the
#     generated common-* stacks, root's account and session untouched,
#     and checkupd started from the installed unit's ExecStart= as its
#     User=/Group= answering /healthz;
#  5. purge: nothing the packages made is left (dpkg -L before the purge
#     and what the maintainer scripts make), /etc/pam.d and debconf's PAM
#     profile list as before the install.
# What it installs it purges again, even when it fails (trap). The machine's
# PAM configuration and user database are never written: every change to
# them happens on copies inside the namespace.
set -eu
: "${top_srcdir:?run through make check-deb}" "${ck_tarball:?run through make check-deb}"
: "${ck_version:?run through make check-deb}"
t0=$(date +%s)
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die()  { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] ||
    die "needs root: it installs and purges the packages (scripts/test.sh runs it as root)"
for c in dpkg-buildpackage dpkg-source lintian apt-get pam-auth-update pamtester unshare \
         setpriv curl openssl debconf-communicate; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing (scripts/install-deps.sh installs it)"
done
pkgs="checkup checkupd libpam-checkup libsasl2-checkup checkup-common"
for p in $pkgs; do
    # Refuse rather than purge a copy someone installed for real.
    if dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^.[^n]'; then
        die "$p is installed on this machine; this test would purge it"
    fi
done
for d in /etc/checkup /run/checkup /var/log/checkup; do
    # What a purge removes must be the packages' own: start without checkup.
    [ -e "$d" ] && die "$d exists: checkup was installed here another way"
done
tuser=ckdebtest
getent passwd "$tuser" >/dev/null && die "a user $tuser exists already"

w=$(mktemp -d "${TMPDIR:-/tmp}/ck-deb-XXXXXX")
# apt reads the .debs as _apt; the secrets live in a subdirectory only
# root can enter.
chmod 755 "$w"
mkdir -m 700 "$w/s"
group_before=$(getent group checkup || :)
installed=0
nspid=
cleanup() {
    set +e
    [ -n "$nspid" ] && kill "$nspid" 2>/dev/null
    if [ "$installed" = 1 ]; then
        echo "cleanup: purging $pkgs"
        dpkg --purge $pkgs > "$w/cleanup.log" 2>&1 || cat "$w/cleanup.log"
    fi
    # The packages keep the group on purge (debian/checkup-common.postrm);
    # this test leaves the machine as it found it.
    [ -z "$group_before" ] && getent group checkup >/dev/null && groupdel checkup
    # None of these existed before (checked above); after a failure the
    # files this test made there may be left.
    rm -rf /etc/checkup /run/checkup /var/log/checkup
    rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- 1. build ---------------------------------------------------------------
mkdir "$w/src"
tar -xzf "$ck_tarball" -C "$w/src"
tree=$w/src/checkup-$ck_version
[ -f "$tree/debian/control" ] || die "debian/ is not in $ck_tarball (EXTRA_DIST)"
debver=$(cd "$tree" && dpkg-parsechangelog -S Version)
[ "${debver%-*}" = "$ck_version" ] && ok "debian/changelog ($debver) is configure.ac's version" ||
    fail "debian/changelog says $debver, configure.ac $ck_version"
cp "$ck_tarball" "$w/src/checkup_${debver%-*}.orig.tar.gz"
(cd "$w/src" && dpkg-source -b "checkup-$ck_version") > "$w/source.log" 2>&1 ||
    { tail -n 30 "$w/source.log"; die "dpkg-source -b failed"; }
ok "source package built"
# The unit tier ran in make check already; the package build's own test
# run (override_dh_auto_test) is the same tier, so it is skipped here.
tb=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 2)" \
    dpkg-buildpackage -us -uc -b) > "$w/build.log" 2>&1 ||
    { tail -n 60 "$w/build.log"; die "dpkg-buildpackage -us -uc -b failed"; }
ok "binary packages built in $(($(date +%s) - tb)) s"
mkdir "$w/debs"
for p in $pkgs; do
    set -- "$w/src/${p}_${debver}_"*.deb
    [ -f "$1" ] || die "no $p package was built"
    cp "$1" "$w/debs/"
done

# --- 2. lintian -----------------------------------------------------------
if lintian --fail-on error,warning "$w/src/checkup_${debver}.dsc" \
        "$w/src/checkup_${debver}_$(dpkg --print-architecture).changes" > "$w/lintian.log" 2>&1; then
    ok "lintian: no error and no warning left unexplained"
else
    fail "lintian:"; sed 's/^/    /' "$w/lintian.log"
fi
grep -q '^[EW]: ' "$w/lintian.log" && { echo "lintian said:"; sed 's/^/    /' "$w/lintian.log"; }

# --- 3. install -----------------------------------------------------------
# Every path the packages hold, and those their scripts make: which of them
# exist already (a purge must leave those and remove the rest).
dsh=/var/lib/systemd/deb-systemd-helper-enabled
extra="/etc/checkup /etc/checkup/users /etc/checkup/users.lock /etc/checkup/users.index
/etc/checkup/checkup.conf.dpkg-dist
/run/checkup /var/log/checkup
/usr/share/pam-configs/checkup /etc/systemd/system/timers.target.wants/checkup-sweep.timer
$dsh/timers.target.wants/checkup-sweep.timer $dsh/checkup-sweep.timer.dsh-also
/etc/systemd/system/multi-user.target.wants/checkupd.service $dsh/checkupd.service.dsh-also"
{
    for d in "$w"/debs/*.deb; do
        dpkg-deb --fsys-tarfile "$d" | tar -t | sed 's|^\./|/|; s|/$||' | grep -v '^$'
    done
    printf '%s\n' $extra
} | sort -u > "$w/paths"
while read -r f; do
    if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done < "$w/paths" > "$w/existed"
# /etc/pam.d, and pam-auth-update's state in /var/lib/pam; "seen" lists
# the profiles it has been shown, so it names checkup while installed.
pamsum() {
    (cd /etc/pam.d && sha256sum -- *)
    (cd /var/lib/pam && for f in *; do
        if [ "$f" = seen ] && [ "${1:-}" = installed ]; then
            echo "seen: $(grep -vx checkup seen | sha256sum)"
        else
            sha256sum -- "$f"
        fi
    done)
}
profiles() { echo "get libpam-runtime/profiles" | debconf-communicate libpam-runtime || :; }
pamsum > "$w/pam.before"
pamsum installed > "$w/pam.before.installed"
profiles > "$w/profiles.before"

installed=1
(cd "$w/debs" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ./*.deb) \
    > "$w/install.log" 2>&1 || { tail -n 40 "$w/install.log"; die "apt-get install ./*.deb failed"; }
ok "apt-get install ./*.deb"

unixdir=$(dirname "$(dpkg -L libpam-modules | grep '/security/pam_unix\.so$' | head -n 1)")
mod=$(dpkg -L libpam-checkup | grep '/pam_checkup\.so$' || :)
[ "$mod" = "$unixdir/pam_checkup.so" ] && [ -f "$mod" ] &&
    ok "pam_checkup.so is $mod, beside pam_unix.so" ||
    fail "pam_checkup.so is at '$mod', pam_unix.so in $unixdir"
[ -f /usr/share/pam-configs/checkup ] && ok "the pam-auth-update profile is installed" ||
    fail "no /usr/share/pam-configs/checkup"
dpkg-query -W -f='${Conffiles}\n' checkup-common | grep -q '^ /etc/checkup/checkup.conf ' &&
    ok "/etc/checkup/checkup.conf is a conffile" || fail "checkup.conf is not a conffile"
st() { stat -c '%a %U:%G' "$1" 2>/dev/null || echo missing; }
[ "$(st /etc/checkup/checkup.conf)" = "644 root:root" ] && [ "$(st /etc/checkup)" = "755 root:root" ] &&
    ok "checkup.conf 644 root:root in a 755 root directory" ||
    fail "checkup.conf: $(st /etc/checkup/checkup.conf), /etc/checkup: $(st /etc/checkup)"
[ "$(st /etc/checkup/users)" = "600 root:root" ] &&
    [ "$(cat /etc/checkup/users)" = "#checkup-users 1" ] &&
    ok "an empty users file, 600 root:root" || fail "users file: $(st /etc/checkup/users)"
getent group checkup >/dev/null && ok "the checkup group exists (sysusers.d)" || fail "no checkup group"
[ "$(st /run/checkup)" = "2770 root:checkup" ] && ok "/run/checkup is 2770 root:checkup (tmpfiles.d)" ||
    fail "/run/checkup: $(st /run/checkup)"
pamsum installed | cmp -s - "$w/pam.before.installed" &&
    ok "installing changed nothing in /etc/pam.d and /var/lib/pam (but checkup in seen)" ||
    fail "installing changed /etc/pam.d or /var/lib/pam"
[ -L /etc/systemd/system/timers.target.wants/checkup-sweep.timer ] &&
    ok "checkup-sweep.timer is enabled" || fail "checkup-sweep.timer is not enabled"
[ ! -e /etc/systemd/system/multi-user.target.wants/checkupd.service ] &&
    ok "checkupd.service is not enabled (it needs public_url first)" || fail "checkupd.service was enabled"
"/usr/bin/checkup" config check > "$w/cc.log" 2>&1 && ok "checkup config check passes on the installed files" ||
    { fail "checkup config check:"; sed 's/^/    /' "$w/cc.log"; }
for page in checkup.1 checkup.conf.5 pam_checkup.8 checkupd.8; do
    dpkg -S "/usr/share/man/man${page##*.}/$page.gz" >/dev/null 2>&1 || fail "man page $page is in no package"
done

# An upgrade keeps the administrator's edits. The next version is these
# packages repacked with a higher version whose checkup.conf gained a
# line: dpkg keeps the edited file (--force-confold, as an unattended
# upgrade does) and leaves the new one beside it as .dpkg-dist.
echo "# an administrator's edit" >> /etc/checkup/checkup.conf
newver=$debver+upgrade1
mkdir "$w/debs2" "$w/repack"
for d in "$w"/debs/*.deb; do
    r=$w/repack/$(basename "$d" .deb)
    dpkg-deb -R "$d" "$r"
    sed -i "s/^Version: $debver\$/Version: $newver/; s/(= $debver)/(= $newver)/g" "$r/DEBIAN/control"
    [ -f "$r/etc/checkup/checkup.conf" ] && echo "# a line new in $newver" >> "$r/etc/checkup/checkup.conf"
    dpkg-deb -b "$r" "$w/debs2/" > /dev/null
done
(cd "$w/debs2" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confold ./*.deb) > "$w/upgrade.log" 2>&1 ||
    { tail -n 30 "$w/upgrade.log"; fail "the upgrade to $newver failed"; }
[ "$(dpkg-query -W -f='${Version}\n' checkup-common libpam-checkup checkupd checkup | sort -u)" = "$newver" ] &&
    ok "apt-get upgraded all four to $newver" || fail "not all upgraded to $newver"
tail -n 1 /etc/checkup/checkup.conf | grep -q "an administrator's edit" &&
    ok "the upgrade kept the edited conffile" || fail "the upgrade lost the conffile edit"
tail -n 1 /etc/checkup/checkup.conf.dpkg-dist 2>/dev/null | grep -q "new in $newver" &&
    ok "and left the new version beside it (checkup.conf.dpkg-dist)" || fail "no checkup.conf.dpkg-dist"
[ "$(cat /etc/checkup/users)" = "#checkup-users 1" ] && [ ! -e /etc/checkup/users.dpkg-new ] ||
    fail "the upgrade touched the users file"
pamsum installed | cmp -s - "$w/pam.before.installed" || fail "the upgrade changed /etc/pam.d or /var/lib/pam"

# --- 4. PAM and checkupd inside a private mount namespace ----------------
unit=$(dpkg -L checkupd | grep '/systemd/system/checkupd\.service$' || :)
[ -f "$unit" ] || die "checkupd.service is not in the checkupd package"
execstart=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$(printf '%s\n' "$execstart" | wc -l)" = 1 ] || die "want one ExecStart= in $unit"
execstart=$(printf '%s' "$execstart" | sed 's/^[-@:+!]*//')
case $execstart in
*[\"\'%\$\\]*) die "ExecStart= uses quoting or specifiers this test does not parse: $execstart" ;;
esac
svc_user=$(sed -n 's/^User=//p' "$unit"); svc_group=$(sed -n 's/^Group=//p' "$unit")
svc_umask=$(sed -n 's/^UMask=//p' "$unit")
# below the ephemeral range, where no outgoing connection can hold it
eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
port=$(shuf -i 10000-$((eph > 11000 ? eph - 1 : 59999)) -n 1)
pw=$(openssl rand -hex 12)
printf '%s\n' "$pw" > "$w/s/pw"
printf '%s\n' "x$pw" > "$w/s/badpw"
uid=$(awk -F: '{u[$3] = 1} END {for (i = 64000; i < 65000; i++) if (!(i in u)) {print i; exit}}' /etc/passwd)

cat > "$w/ns.sh" <<'NS'
set -eu
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# Private copies over everything the steps below write.
over() {   # over PATH: a copy of PATH bind-mounted over it
    c=$w/ns$1
    mkdir -p "$(dirname "$c")"
    cp -a "$1" "$c"
    mount --bind "$c" "$1"
}
for p in /etc/pam.d /var/lib/pam /var/cache/debconf /etc/checkup /run/checkup /etc/passwd /etc/shadow; do
    over "$p"
done
# The local account pam_unix needs for account management, in the copies
# only: no password (!), so its logins go through checkup.
echo "$tuser:x:$uid:$uid::/nonexistent:/usr/sbin/nologin" >> /etc/passwd
echo "$tuser:!:20000:0:99999:7:::" >> /etc/shadow

DEBIAN_FRONTEND=noninteractive pam-auth-update --enable checkup > "$w/pau.log" 2>&1 ||
    { fail "pam-auth-update --enable checkup:"; cat "$w/pau.log"; }
awk '/pam_unix\.so/ {u = NR} /pam_checkup\.so/ {c = NR; l = $0} END {exit !(u && c > u &&
     l ~ /^auth[ \t]+\[success=[0-9]+ default=ignore\][ \t]+pam_checkup\.so use_first_pass[ \t]*$/)}' \
    /etc/pam.d/common-auth && ok "common-auth: pam_checkup after pam_unix, on the password it read" ||
    { fail "common-auth:"; cat /etc/pam.d/common-auth; }
grep -Eq '^account[[:space:]]+\[success=ok user_unknown=ignore default=bad\][[:space:]]+pam_checkup\.so[[:space:]]*$' \
    /etc/pam.d/common-account && ok "common-account: pam_checkup, unknown users passed on" ||
    { fail "common-account:"; cat /etc/pam.d/common-account; }
grep -Eq '^session[[:space:]]+required[[:space:]]+pam_checkup\.so[[:space:]]*$' /etc/pam.d/common-session &&
    ok "common-session: pam_checkup" || { fail "common-session:"; cat /etc/pam.d/common-session; }
grep -q pam_checkup /etc/pam.d/common-session-noninteractive &&
    fail "pam_checkup is in common-session-noninteractive" ||
    ok "common-session-noninteractive (cron and the like) has no pam_checkup"

# A service made of the generated stacks, and pam_exec keeping the
# session token that open_session puts into the PAM environment.
cat > "$w/s/keep-token" <<EOF
#!/bin/sh
umask 077
printf '%s' "\${CHECKUP_SESSION:-}" > '$w/s/token'
EOF
chmod 700 "$w/s/keep-token"
cat > /etc/pam.d/ckdebtest <<EOF
@include common-auth
@include common-account
@include common-session
session optional pam_exec.so $w/s/keep-token
EOF
checkup keys generate > "$w/keys.log" 2>&1 || { fail "checkup keys generate:"; cat "$w/keys.log"; }
checkup user add "$tuser@example.org" --role tester --local-user "$tuser" --password-stdin \
    < "$w/s/pw" > "$w/useradd.log" 2>&1 || { fail "checkup user add:"; cat "$w/useradd.log"; }
nsessions() {
    checkup sessions list --user "$tuser@example.org" 2>&1 | sed -n 's/^\([0-9][0-9]*\) sessions*$/\1/p'
}
pt() {   # pt USER INPUT OPERATION...: pamtester on the ckdebtest service
    u=$1 in=$2
    shift 2
    pamtester ckdebtest "$u" "$@" < "$in" > "$w/pt.log" 2>&1
}

pt "$tuser" "$w/s/pw" authenticate acct_mgmt open_session &&
    ok "password login through common-auth/account/session" ||
    { fail "password login:"; cat "$w/pt.log"; }
[ "$(nsessions)" = 1 ] && ok "it opened one checkup session" || fail "sessions after the login: $(nsessions)"
[ -s "$w/s/token" ] && ok "open_session put CHECKUP_SESSION into the PAM environment" ||
    fail "no CHECKUP_SESSION from open_session"
pt "$tuser" "$w/s/badpw" authenticate && fail "a wrong password logged in" ||
    ok "a wrong password is refused"

{ cat "$w/s/token"; echo; } > "$w/s/tokin"
pt "$tuser" "$w/s/tokin" authenticate acct_mgmt open_session close_session &&
    ok "token login through the same stacks" || { fail "token login:"; cat "$w/pt.log"; }
[ "$(nsessions)" = 1 ] && ok "the token attached the session it names (still one session)" ||
    fail "sessions after the token login: $(nsessions)"
# One character in the middle of the signature (the last, changed, could
# be mere padding bits).
awk '{n = length($0) - 10; c = substr($0, n, 1); print substr($0, 1, n - 1) (c == "A" ? "B" : "A") substr($0, n + 1)}' \
    "$w/s/tokin" > "$w/s/badtok"
pt "$tuser" "$w/s/badtok" authenticate && fail "a forged token logged in" ||
    ok "a token with a wrong signature is refused"
pt root /dev/null acct_mgmt open_session close_session &&
    ok "root's account and session pass untouched (not a checkup user)" ||
    { fail "root's account or session:"; cat "$w/pt.log"; }

# checkupd from the installed unit's command line, as the unit's user and
# group, with the test copy of /etc/checkup/checkup.conf the command names.
sed -i "s|^listen = .*|listen = 127.0.0.1:$port|; s|^#public_url = .*|public_url = http://127.0.0.1:$port|" \
    /etc/checkup/checkup.conf
grep -q "^public_url = http://127.0.0.1:$port$" /etc/checkup/checkup.conf ||
    fail "could not set public_url in the test checkup.conf"
(
    umask "${svc_umask:-0022}"
    # shellcheck disable=SC2086
    exec setpriv --reuid="$svc_user" --regid="$svc_group" --clear-groups -- $execstart
) > "$w/checkupd.log" 2>&1 &
dpid=$!
trap 'kill "$dpid" 2>/dev/null' EXIT
code=
for _ in $(seq 50); do
    code=$(curl -s -o "$w/healthz" -w '%{http_code}' "http://127.0.0.1:$port/healthz" || :)
    [ "$code" = 200 ] && break
    kill -0 "$dpid" 2>/dev/null || break
    sleep 0.2
done
[ "$code" = 200 ] && ok "checkupd from the unit's ExecStart ($execstart) as $svc_user:$svc_group: /healthz 200" ||
    { fail "checkupd /healthz: ${code:-no answer}"; cat "$w/checkupd.log"; }
if kill "$dpid" 2>/dev/null; then
    wait "$dpid" || :
    ok "checkupd stopped (pid $dpid)"
else
    fail "checkupd was not running at the end"
fi
trap - EXIT

# The purge of a host where checkup was never used: the empty users file
# goes with its index, which the first login built. Here, on the copies,
# with a private /run and /var/log (the copy of /run/checkup is a mount
# point, which rm cannot remove); the real purge below keeps a users file
# that lists users.
printf '#checkup-users 1\n' > /etc/checkup/users
checkup user reindex > "$w/reindex.log" 2>&1 || { fail "checkup user reindex:"; cat "$w/reindex.log"; }
mount -t tmpfs none /run
mount -t tmpfs none /var/log
sh /var/lib/dpkg/info/checkup-common.postrm purge > "$w/postrm.log" 2>&1 ||
    { fail "checkup-common.postrm purge:"; cat "$w/postrm.log"; }
[ ! -e /etc/checkup/users ] && [ ! -e /etc/checkup/users.index ] && [ ! -e /etc/checkup/users.lock ] &&
    ok "a purge removes the empty users file with its index and lock" ||
    fail "the purge left: $(ls -A /etc/checkup)"
exit "$fails"
NS
ls -A /run/checkup > "$w/store.before"
export w tuser uid port execstart svc_user svc_group svc_umask
set +e
unshare -m --propagation private sh "$w/ns.sh"
nsfails=$?
set -e
fails=$((fails + nsfails))

pamsum installed | cmp -s - "$w/pam.before.installed" &&
    ok "/etc/pam.d and /var/lib/pam outside the namespace are as before" ||
    fail "/etc/pam.d or /var/lib/pam changed outside the namespace"
profiles | cmp -s - "$w/profiles.before" && ok "debconf's PAM profile list is as before" ||
    fail "debconf's PAM profiles changed: $(profiles)"
getent passwd "$tuser" >/dev/null && fail "$tuser leaked out of the namespace"
[ -e /etc/checkup/token.keys ] && fail "the namespace's key ring leaked into /etc/checkup"
ls -A /run/checkup | cmp -s - "$w/store.before" && ok "the machine's session store was not used" ||
    fail "the namespace's sessions leaked into /run/checkup"

# --- 5. purge --------------------------------------------------------------
dpkg -L $pkgs 2>/dev/null | grep -v '^/\.*$' | grep '^/' | cat - "$w/paths" | sort -u > "$w/paths.all"
# What an administrator made is kept: a file of theirs in /etc/checkup
# (a key ring, say) and a users file that lists users.
echo "an administrator's file" > /etc/checkup/admin-made
checkup user add keep@example.org --role r --no-password > "$w/keep.log" 2>&1 ||
    { fail "checkup user add on the installed files:"; cat "$w/keep.log"; }
cp /etc/checkup/users "$w/users.kept"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkgs > "$w/purge.log" 2>&1 ||
    { tail -n 30 "$w/purge.log"; fail "apt-get purge failed"; }
installed=0
[ -f /etc/checkup/admin-made ] && cmp -s /etc/checkup/users "$w/users.kept" &&
    ok "the purge kept the administrator's file and the users file that lists users" ||
    fail "the purge removed what the administrator made"
grep -q "keeping /etc/checkup/users" "$w/purge.log" && ok "and said so" || fail "the purge kept the users file silently"
rm -f /etc/checkup/admin-made /etc/checkup/users /etc/checkup/users.lock /etc/checkup/users.index
rmdir /etc/checkup || fail "/etc/checkup holds more than the administrator's files: $(ls -A /etc/checkup)"
for p in $pkgs; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^.[^n]' && fail "$p is still known to dpkg"
done
left=$(while read -r f; do
    if { [ -e "$f" ] || [ -L "$f" ]; } && ! grep -qxF "$f" "$w/existed"; then echo "$f"; fi
done < "$w/paths.all")
[ -z "$left" ] && ok "the purge left nothing the packages made ($(wc -l < "$w/paths.all") paths checked)" ||
    fail "left after the purge: $left"
pamsum | cmp -s - "$w/pam.before" && ok "/etc/pam.d and /var/lib/pam after the purge are as before the install" ||
    fail "/etc/pam.d or /var/lib/pam changed by install and purge"
profiles | cmp -s - "$w/profiles.before" && ok "debconf's PAM profile list after the purge is as before" ||
    fail "debconf's PAM profiles after the purge: $(profiles)"
[ -z "$group_before" ] && getent group checkup >/dev/null &&
    ok "the checkup group is kept on purge, on purpose (debian/checkup-common.postrm)"

echo "time: $(($(date +%s) - t0)) s"
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
