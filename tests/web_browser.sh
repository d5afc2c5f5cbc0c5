#!/bin/sh
# Chromium (Debian, headless) driven by playwright-core logs in through
# nginx with email and password, checks the cookie as stored, reaches the
# dummy tool, logs out and is refused; "log out from all devices" in one
# browser context ends the other's session. playwright-core comes from
# tests/browser/package-lock.json (npm ci into the build directory).
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
. "$top_srcdir/tests/lib/redis.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/web_common.sh"
trap 'nginx_stop_all; web_stop_all; redis_stop_all' EXIT
: "${CHROMIUM:=$(command -v chromium || true)}"
for tool in "$NGINX" node npm "$CHROMIUM"; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "$tool is required (scripts/install-deps.sh installs it)"; exit 1; }
done

# The source tree may be read-only (distcheck): install into the build tree.
B="$top_builddir/tests/browser"
mkdir -p "$B"
if [ "$(cd "$B" && pwd -P)" != "$(cd "$top_srcdir/tests/browser" && pwd -P)" ]; then
    for f in package.json package-lock.json login.mjs; do
        cp "$top_srcdir/tests/browser/$f" "$B/$f" || exit 1
    done
fi
if [ ! -d "$B/node_modules/playwright-core" ]; then
    (cd "$B" && npm ci --no-audit --no-fund --silent) || { echo "npm ci failed"; exit 1; }
fi

web_front || exit 1
BASE="https://localhost:$NP" CHROMIUM="$CHROMIUM" EMAIL=alice@example.org \
    PASSWORD="$WEB_PW_ALICE" node "$B/login.mjs"
rc=$?
web_stop ck
[ "$WEB_RC" = 0 ] || { echo "not ok - checkupd exit status $WEB_RC"; rc=1; }
if grep -qF "$WEB_PW_ALICE" "$CK_TEST_TMP/ck.log" "$CK_TEST_TMP/ngx/audit.jsonl"; then
    echo "not ok - a password reached a log"
    rc=1
fi
exit $rc
