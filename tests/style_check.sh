#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# scripts/style-check.sh catches what it claims to, and only that: bad
# samples (banned calls, memset on secret-named buffers) fail with the line
# named; a clean sample (the same words in comments and strings, snprintf,
# OPENSSL_cleanse, memset on a non-secret) passes.
: "${top_srcdir:?run through make check}"
check="$top_srcdir/scripts/style-check.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/ck-style.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
fail=0

cat > "$t/good.c" <<'C'
#include "config.h"
/* sprintf(buf, "x"); strcpy(a, b); memset(password, 0, 9); */
static const char *doc = "never strcat(a, b) or memset(key, 0, n)";
void f(char *buf, size_t n, char *password, char *row)
{
    snprintf(buf, n, "%s", doc); // strcpy(buf, doc) would overflow
    OPENSSL_cleanse(password, n);
    memset(row, 0, n);
    my_strcpy_like(buf);
}
C
"$check" "$t/good.c" > "$t/out" 2>&1 || { echo "clean sample refused:"; cat "$t/out"; fail=1; }

# One bad line per sample: each must be refused, naming that line.
n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '#include "config.h"\nvoid f(void)\n{\n%s\n}\n' "$line" > "$t/bad$n.c"
    if "$check" "$t/bad$n.c" > "$t/out" 2>&1; then
        echo "not refused: $line"; fail=1
    elif ! grep -q "bad$n.c:4:" "$t/out"; then
        echo "refused without naming line 4: $line"; cat "$t/out"; fail=1
    fi
done <<'C'
    sprintf(buf, "%d", 1);
    n = vsprintf(buf, fmt, ap);
    strcat(buf, "x");
    strcpy(buf, src);
    gets(buf);
    memset(password, 0, sizeof(password));
    memset(s->client_secret, 0, n);
    memset(&key, 0, sizeof(key));
    memset(tok_buf, 0, 32);
    memset (cookie, 0, 32);
    memset(nonce, 0, sizeof nonce);
    memset(code_verifier, 0, 43);
C
[ "$n" -eq 12 ] || { echo "only $n bad samples ran"; fail=1; }

# The include rules: config.h first; the store's internals and the OIDC
# client where the dependency rule keeps them out.
mkdir -p "$t/pam" "$t/web" "$t/store"
printf '#include <stdio.h>\n#include "config.h"\n' > "$t/store/late.c"
printf '#include "config.h"\n#include "backend.h"\n' > "$t/web/internal.c"
printf '#include "config.h"\n#include "redis/redis_conn.h"\n' > "$t/web/redis.c"
printf '#include "config.h"\n#include "ck_oidc.h"\n' > "$t/pam/oidc.c"
printf '#include "config.h"\n#include <curl/curl.h>\n' > "$t/pam/curl.c"
printf '#include "config.h"\n#include "backend.h"\n#include "ck_oidc.h"\n' > "$t/store/ok.c"
for f in store/late.c web/internal.c web/redis.c pam/oidc.c pam/curl.c; do
    n=$((n + 1))
    "$check" "$t/$f" > "$t/out" 2>&1 && { echo "not refused: $f"; fail=1; }
done
"$check" "$t/store/ok.c" > "$t/out" 2>&1 || { echo "store's own include refused:"; cat "$t/out"; fail=1; }

# Several files: the bad one is named, the exit status is 1.
"$check" "$t/good.c" "$t/bad1.c" > "$t/out" 2>&1
[ $? -eq 1 ] && grep -q "bad1.c:4:" "$t/out" && ! grep -q good.c "$t/out" ||
    { echo "mixed files not handled"; cat "$t/out"; fail=1; }
[ "$fail" -eq 0 ] && echo "style check: 1 clean and $n bad samples as expected"
exit "$fail"
