# SPDX-License-Identifier: BSD-3-Clause
# Shell helpers for tests that run identity providers from npm on loopback.
# Source this file; it makes a private temp dir, $CK_IDP_TMP. Every node
# process started with idp_start is stopped by its pid in idp_stop_all.
#
#   trap idp_stop_all EXIT
#   idp_dir                       # sets $IDP_DIR: scripts beside node_modules
#   port=$(idp_start name script.mjs [args...])   # script writes its port file
#
# node_modules comes from `npm ci --prefix tests/idp` (scripts/install-deps.sh);
# no test runs npm. When the source tree has none (make distcheck: read-only,
# unpacked from the tarball) the scripts are copied under the build dir
# beside a link to the node_modules of $CK_NODE_TREE/tests/idp (configure
# variable; distcheck passes the tree it was run from).

CK_IDP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ck-idp.XXXXXX")
CK_IDP_PIDS=""
: "${NODE:=node}"

idp_dir() {
    src="$top_srcdir/tests/idp"
    if [ -d "$src/node_modules/oidc-provider" ]; then
        IDP_DIR=$src
        return 0
    fi
    IDP_DIR="$top_builddir/tests/idp-run"
    mkdir -p "$IDP_DIR" || return 1
    nm=${CK_NODE_TREE:+$CK_NODE_TREE/tests/idp/node_modules}
    if [ -z "$nm" ] || [ ! -d "$nm/oidc-provider" ]; then
        echo "tests/idp/node_modules is not installed: run scripts/install-deps.sh" >&2
        return 1
    fi
    # Tests run in parallel: one links, the others wait for it.
    (
        flock 9 || exit 1
        [ -d "$IDP_DIR/node_modules/oidc-provider" ] || ln -sfn "$nm" "$IDP_DIR/node_modules" ||
            exit 1
        # Only changed scripts: another test may be starting node from them.
        for f in "$src"/*.mjs; do
            cmp -s "$f" "$IDP_DIR/${f##*/}" && continue
            cp "$f" "$IDP_DIR/.tmp.mjs" && chmod u+w "$IDP_DIR/.tmp.mjs" &&
                mv "$IDP_DIR/.tmp.mjs" "$IDP_DIR/${f##*/}" || exit 1
        done
    ) 9>"$IDP_DIR/.lock"
}

# idp_start NAME SCRIPT [ARGS...]: starts node, waits up to 60 s for its
# port file, prints the port. Log in $CK_IDP_TMP/NAME.log.
idp_start() {
    name=$1
    script=$2
    shift 2
    portfile="$CK_IDP_TMP/$name.port"
    rm -f "$portfile"
    "$NODE" "$IDP_DIR/$script" "$portfile" "$@" >"$CK_IDP_TMP/$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$CK_IDP_TMP/$name.pid"
    i=0
    while [ ! -s "$portfile" ]; do
        if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 600 ]; then
            echo "$name did not start:" >&2
            cat "$CK_IDP_TMP/$name.log" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    cat "$portfile"
}

idp_stop_all() {
    for f in "$CK_IDP_TMP"/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || :
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null || :
        rm -f "$f"
    done
    rm -rf "$CK_IDP_TMP"
}
