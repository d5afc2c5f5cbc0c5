#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The house style rules a compiler does not check, on the C files named:
#  - no sprintf, vsprintf, strcat, strcpy, gets (unbounded writes: use
#    snprintf and the lengths at hand);
#  - no memset on a buffer named like a secret (pass, secret, key, token,
#    cookie, nonce, verifier, ...): the compiler may drop a memset of memory
#    that is not read again; OPENSSL_cleanse is never dropped.
#  - every .c file includes "config.h" first;
#  - the dependency rule: only store/ includes the store's internal headers
#    (backend.h, forkcheck.h, lmdb/, redis/), and pam/ and sasl/ include
#    nothing of the OIDC client, libcurl or cjose (they are loaded into
#    sshd, sudo and slapd).
# A line may opt out with a comment "style: ok" and the reason beside it.
# Prints file:line: rule, and exits 1 when anything is found.
[ $# -gt 0 ] || { echo "usage: style-check.sh FILE.c..." >&2; exit 2; }
# Comments and string literals would give false hits; they are blanked
# first (a simple scanner: no trigraphs, enough for this tree).
awk '
function strip(line,   out, i, c, n) {
    out = ""; n = length(line)
    for (i = 1; i <= n; i++) {
        c = substr(line, i, 1)
        if (incomment) {
            if (c == "*" && substr(line, i + 1, 1) == "/") { incomment = 0; i++ }
            continue
        }
        if (instr) {
            if (c == "\\") { i++; continue }
            if (c == instr) { instr = ""; out = out c }
            continue
        }
        if (c == "/" && substr(line, i + 1, 1) == "*") { incomment = 1; i++; continue }
        if (c == "/" && substr(line, i + 1, 1) == "/") break
        if (c == "\"" || c == "'\''") instr = c
        out = out c
    }
    return out
}
FNR == 1 {
    incomment = 0; instr = ""; seen_include = 0
    dir = FILENAME; sub(/\/[^\/]*$/, "", dir); sub(/.*\//, "", dir)
}
/^[ \t]*#[ \t]*include/ {
    if (!seen_include && FILENAME ~ /\.c$/ && $0 !~ /^#include "config\.h"/) {
        printf "%s:%d: the first include must be \"config.h\": %s\n", FILENAME, FNR, $0
        bad = 1
    }
    seen_include = 1
    if (dir != "store" && dir != "lmdb" && dir != "redis" &&
        $0 ~ /"(backend\.h|forkcheck\.h|lmdb\/|redis\/|lmdb_internal\.h|redis_conn[a-z_]*\.h|redis_scripts\.h)/) {
        printf "%s:%d: the store'"'"'s internals are for store/ only: %s\n", FILENAME, FNR, $0
        bad = 1
    }
    if ((dir == "pam" || dir == "sasl") &&
        $0 ~ /(ck_oidc|ck_jose|ck_idtoken|oidc_int|jose_internal)\.h|<curl\/|<cjose\//) {
        printf "%s:%d: no OIDC, libcurl or cjose in %s/: %s\n", FILENAME, FNR, dir, $0
        bad = 1
    }
}
{
    raw = $0
    code = strip($0)
    instr = ""
    if (raw ~ /style: ok/) next
    if (code ~ /(^|[^A-Za-z0-9_])(v?sprintf|strcat|strcpy|gets)[ \t]*\(/) {
        printf "%s:%d: banned call (use snprintf and known lengths): %s\n", FILENAME, FNR, raw
        bad = 1
    }
    if (code ~ /(^|[^A-Za-z0-9_])memset[ \t]*\(/) {
        arg = code
        sub(/.*memset[ \t]*\(/, "", arg)
        sub(/,.*/, "", arg)
        if (tolower(arg) ~ /(pass|pw|secret|key|tok|cookie|nonce|verifier|cred|priv|otp|hmac|seed)/) {
            printf "%s:%d: memset on a secret (use OPENSSL_cleanse): %s\n", FILENAME, FNR, raw
            bad = 1
        }
    }
}
END { exit bad }
' "$@"
