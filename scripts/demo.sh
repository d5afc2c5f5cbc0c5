#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# checkup demo: a login becomes a session, stays alive while used, ends by
# itself after a short idle time, and ends on logout.
#
# Run on a fresh Debian bookworm machine, as root, from anywhere:
#     ./scripts/demo.sh
# It installs what it needs (scripts/install-deps.sh), builds into
# build/demo, and keeps everything else in a temporary directory that it
# removes at the end, so it is safe to run again. Nothing is installed into
# /etc/pam.d or the system PAM directory: pam_wrapper points the real libpam
# at service files in the temporary directory.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
IDLE=8          # the demo's inactivity timeout, in seconds (production: 1200)
PASSWORD='correct horse battery staple'

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tell() { printf '%s\n' "$*" | fold -s -w 76 | sed 's/^/   /'; }
run()  { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

say "Installing the build and test dependencies (apt-get, skipped when present)"
./scripts/install-deps.sh

say "Building checkup into build/demo"
autoreconf -fi 2>/dev/null
mkdir -p build/demo
(cd build/demo && "$top/configure" --quiet && make -j"$(nproc)" >/dev/null)
b=$top/build/demo
. "$top/tests/lib/pam_env.sh"

d=$(mktemp -d /tmp/checkup-demo.XXXXXX)
trap 'rm -rf "$d"' EXIT INT TERM
ck() { "$b/checkup" -c "$d/checkup.conf" "$@"; }

say "Setting up: a configuration, a token key, one user"
ck_pam_setup "$d" "$b" "$IDLE" 3600
tell "Everything lives in $d: the configuration (inactivity timeout $IDLE s" \
     "instead of the real 20 minutes, so that you need not wait), the embedded" \
     "session store, the users file, the key that signs session tokens, and" \
     "the audit log."
printf '%s\n' "$PASSWORD" > "$d/pw"
run "$b/checkup" -c "$d/checkup.conf" user add alice@example.org --role doctor \
    --clinic clinic-7 --local-user alice --password-stdin < "$d/pw"
tell "The users file keeps a yescrypt hash, never the password:"
sed -n '3p' "$d/users" | sed 's/^/   /'

ck_pam_wrap "$d"
export LD_PRELOAD=libpam_wrapper.so
PAM_DRIVE=$b/tests/pam_drive

say "1. alice logs in with her password"
tell "A login program (think sshd) asks PAM to authenticate, check the account" \
     "and open a session. pam_checkup checks the password, creates a session" \
     "in the store and hands the program a signed session token in" \
     "CHECKUP_SESSION (we keep it in a file: it is a secret)."
run "$PAM_DRIVE" -s checkup -u alice -r 192.0.2.10 -t pts/3 -k "$d/token" \
    auth acct open < "$d/pw"

say "2. The session, as an administrator sees it"
run "$b/checkup" -c "$d/checkup.conf" sessions list
tell "The store holds only a hash of the session id: the SESSION column is" \
     "that hash, useless as a login."

say "3. Keep-alive: 5 seconds later, alice comes back with her token"
sleep 5
run "$b/checkup" -c "$d/checkup.conf" sessions list
tell "pamtester plays a program that already has alice's token (a web tool," \
     "a screen unlocker). The token's signature is checked first, then the" \
     "store refreshes the session: the idle clock starts again from zero."
run "${PAMTESTER:-pamtester}" -v checkup alice authenticate acct_mgmt < "$d/token"
tell "IDLE is back to 0 and EXPIRES to $IDLE s:"
run "$b/checkup" -c "$d/checkup.conf" sessions list

say "4. alice walks away for longer than $IDLE seconds"
if [ -t 1 ]; then
    for i in $(seq "$((IDLE + 1))" -1 1); do printf '\r   waiting %2d s ' "$i"; sleep 1; done
    printf '\r   waited %d s.   \n' "$((IDLE + 1))"
else
    tell "(waiting $((IDLE + 1)) s)"
    sleep "$((IDLE + 1))"
fi
tell "Now the same token is refused, and alice is told why:"
if "${PAMTESTER:-pamtester}" -v checkup alice authenticate acct_mgmt < "$d/token"; then
    echo "unexpected: the idle session was accepted" >&2
    exit 1
fi
tell "The audit log records it (JSON lines; the session is named by a short" \
     "hash, never by its token):"
grep '"session_expired_idle"' "$d/audit.jsonl" | tail -n 1 | sed 's/^/   /'
run "$b/checkup" -c "$d/checkup.conf" sessions list

say "5. alice logs in again, and logs out"
tell "One PAM conversation: authenticate, check the account, open a session" \
     "(a new one), then close it, which is a logout: the session is deleted."
run "${PAMTESTER:-pamtester}" -v checkup alice authenticate acct_mgmt open_session \
    close_session < "$d/pw"
run "$b/checkup" -c "$d/checkup.conf" sessions list

say "The whole audit trail of this demo"
sed 's/^/   /' "$d/audit.jsonl"

say "Done"
tell "That was pam_checkup.so with the embedded store. To use it for real," \
     "see docs/pam_checkup.8 and conf/pam.d/. The temporary directory is" \
     "removed now; run the demo again whenever you like."
