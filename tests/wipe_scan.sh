#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Secrets are wiped with OPENSSL_cleanse, which the compiler may not drop.
# A memset (or bzero) of a buffer that is freed or goes out of scope right
# after is a dead store that -O2 removes, and explicit_bzero is not what
# the rest of the code uses. This scan fails on:
#   - memset(X, 0, ...) followed within three lines by free(X);
#   - memset of a buffer named like a secret (password, pw, secret, token,
#     key, sid, cookie, nonce, verifier) that is not an initialisation of
#     a whole struct (sizeof(*X) of a struct is allowed for plain records);
#   - bzero and explicit_bzero anywhere.
: "${top_srcdir:?run through make check}"
fails=0
for dir in store oidc pam web cli sasl; do
    [ -d "$top_srcdir/$dir" ] || continue
    find "$top_srcdir/$dir" -name '*.[ch]'
done | sort > "${TMPDIR:-/tmp}/wipe_scan.$$"
while read -r f; do
    out=$(awk -v file="${f#"$top_srcdir"/}" '
        {
            line[NR] = $0
        }
        END {
            for (i = 1; i <= NR; i++) {
                l = line[i]
                if (l ~ /(^|[^_a-z])(explicit_)?bzero\(/)
                    print file ":" i ": bzero: use OPENSSL_cleanse"
                if (match(l, /memset\([^,]*, *0,/)) {
                    arg = substr(l, RSTART + 7, RLENGTH - 7)
                    sub(/, *0,$/, "", arg)
                    gsub(/^ +| +$/, "", arg)
                    for (j = i + 1; j <= i + 3 && j <= NR; j++)
                        if (index(line[j], "free(" arg ")"))
                            print file ":" i ": memset before free(" arg "): use OPENSSL_cleanse"
                    if (arg ~ /(pass|(^|[^a-z])pw|secret|token|(^|[^a-z_])key$|(^|[^a-z])sid|cookie|nonce|verifier)/ &&
                        l !~ /sizeof\(\*/ && l !~ /\/\* not a secret/ && line[i - 1] !~ /not a secret/)
                        print file ":" i ": memset of " arg ": use OPENSSL_cleanse for secrets"
                }
            }
        }' "$f")
    if [ -n "$out" ]; then
        echo "$out"
        fails=$((fails + 1))
    fi
done < "${TMPDIR:-/tmp}/wipe_scan.$$"
rm -f "${TMPDIR:-/tmp}/wipe_scan.$$"
if [ "$fails" -ne 0 ]; then
    echo "FAIL: secrets wiped with memset or bzero in $fails file(s)"
    exit 1
fi
echo "PASS: every wipe of a secret is OPENSSL_cleanse"
