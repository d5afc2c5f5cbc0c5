#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every man page in docs/ renders without a single warning under
# "man --warnings -l", and checkup.conf(5) and conf/checkup.conf describe
# every key that store/config.c reads.
set -u
: "${top_srcdir:?run through make check}"
if ! command -v man > /dev/null || ! command -v groff > /dev/null; then
    echo "FAIL: man and groff are required (packages man-db and groff-base)"
    exit 1
fi
d=$(mktemp -d "${TMPDIR:-/tmp}/ck-man-XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
fails=0
ok()   { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# render PAGE: formatted text on stdout, groff's and man's complaints in $d/err.
render() {
    LC_ALL=C.UTF-8 MANWIDTH=80 MAN_KEEP_FORMATTING=0 \
        man --warnings -E UTF-8 -l "$1" 2> "$d/err" | col -b
}

# The check must be able to fail: a page with a mistake in it warns.
printf '%s\n' '.TH BROKEN 1' '.SH NAME' 'broken \- a test' '.SH DESCRIPTION' \
    '.BR' '.foo' 'text \fBbold' '.in -40' > "$d/broken.1"
render "$d/broken.1" > /dev/null
if [ -s "$d/err" ]; then
    ok "a faulty page is caught ($(head -n 1 "$d/err" | cut -c1-60)...)"
else
    fail "man --warnings reports nothing for a faulty page: this test would prove nothing"
fi

pages=0
for page in "$top_srcdir"/docs/*.[1-8]; do
    [ -e "$page" ] || continue
    pages=$((pages + 1))
    name=${page##*/}
    render "$page" > "$d/out"
    if [ -s "$d/err" ]; then
        fail "$name warns:"; sed 's/^/    /' "$d/err"
    elif ! grep -q '^NAME' "$d/out" || [ "$(wc -l < "$d/out")" -lt 10 ]; then
        fail "$name renders to almost nothing"
    else
        ok "$name renders cleanly ($(wc -l < "$d/out") lines)"
    fi
done
[ "$pages" -ge 2 ] || fail "only $pages man page(s) found in docs/"

# Every [section] key of store/config.c is in the man page and the sample.
sed -n 's/^ *\(INT\|STR\|BOOL\)_KEY("\([a-z_]*\)", *"\([a-z_]*\)".*/\2 \3/p;
        s/^ *{ *"\([a-z_]*\)", *"\([a-z_]*\)", *T_.*/\1 \2/p' \
    "$top_srcdir/store/config.c" > "$d/keys"
nkeys=$(wc -l < "$d/keys")
[ "$nkeys" -ge 20 ] || fail "read only $nkeys keys from store/config.c"
render "$top_srcdir/docs/checkup.conf.5" > "$d/conf5"
missing=0
while read -r section key; do
    # In the man page: the section heading, then the key as an item.
    awk -v s="[$section]" -v k="$key" '
        $0 ~ "^ +\\" s " *$" { in_s = 1; next }
        in_s && (/^ +\[[a-z]+\] *$/ || /^[A-Z]/) { in_s = 0 }
        in_s && $1 == k { found = 1 }
        END { exit !found }' "$d/conf5" ||
        { fail "checkup.conf(5) does not describe [$section] $key"; missing=1; }
    awk -v s="[$section]" -v k="$key" '
        $0 == s { in_s = 1; next }
        /^\[/ { in_s = 0 }
        in_s && ($1 == k || $1 == "#" k) { found = 1 }
        END { exit !found }' "$top_srcdir/conf/checkup.conf" ||
        { fail "conf/checkup.conf does not show [$section] $key"; missing=1; }
done < "$d/keys"
[ "$missing" -eq 0 ] && ok "all $nkeys keys of store/config.c are documented and in the sample"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
