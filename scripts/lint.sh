#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Static analysis of every C source in the tree, each tool at zero findings:
#   clang-tidy   checks chosen in .clang-tidy (each disabled one with a reason)
#   cppcheck     warning, portability and performance; scripts/cppcheck.supp
#   style        scripts/style-check.sh (banned calls, memset on secrets)
#   spdx         every source file (C, shell, make, Python, JavaScript, the
#                Debian maintainer scripts) names its licence in an SPDX
#                line at its top
# Usage: scripts/lint.sh SRCDIR [TOOL...]   (TOOL: tidy cppcheck style spdx)
# "make lint" runs it with the build's preprocessor flags, one a line, in
# the file named by CK_LINT_FLAGS; CK_LINT_JOBS sets the clang-tidy processes (default:
# the number of CPUs). Exit status 1 when any tool finds anything.
set -u
top=$(cd "${1:?usage: lint.sh SRCDIR [tidy] [cppcheck] [style]}" && pwd)
shift
tools=${*:-tidy cppcheck style spdx}
flags=$(cd "$(dirname "${CK_LINT_FLAGS:?run through make lint (it writes the compile flags)}")" &&
    pwd)/$(basename "$CK_LINT_FLAGS")
[ -r "$flags" ] || { echo "lint.sh: cannot read $flags" >&2; exit 2; }
nl='
'
jobs=${CK_LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
: "${CLANG_TIDY:=clang-tidy}" "${CPPCHECK:=cppcheck}"

sources() {
    find "$top/store" "$top/oidc" "$top/pam" "$top/sasl" "$top/web" "$top/cli" \
        "$top/tests" "$top/bench" -name node_modules -prune -o \
        -name '*.c' -type f -print | LC_ALL=C sort
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ck-lint.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

for tool in $tools; do
    start=$(date +%s)
    case $tool in
    tidy)
        # One clang-tidy per file, in parallel; the config is found from
        # each file's directory up to $top/.clang-tidy.
        sources | xargs -P "$jobs" -n 1 sh -c '
            # $0 clang-tidy, $1 flags file, $2 newline, $3 analyzer.h, $4 source
            IFS="$2"; set -f
            # shellcheck disable=SC2046
            out=$("$0" --quiet "$4" -- -include "$3" $(cat "$1") 2>&1) && exit 0
            printf "%s\n" "$out" | grep -v "^[0-9]* warnings\{0,1\} generated\.$"
            exit 1' "$CLANG_TIDY" "$flags" "$nl" "$top/tests/lib/analyzer.h" \
            > "$tmp/tidy.log" 2>&1
        st=$?
        ;;
    cppcheck)
        sources > "$tmp/files"
        # Only -I and -D: cppcheck takes no compiler flags. One process:
        # with -j cppcheck skips its whole-program (cross-file) checks.
        grep -e '^-I' -e '^-D' "$flags" > "$tmp/cppflags"
        IFS=$nl; set -f
        # shellcheck disable=SC2046
        "$CPPCHECK" --quiet --error-exitcode=1 --inline-suppr \
            --enable=warning,portability,performance --std=c11 \
            --platform=unix64 \
            --suppressions-list="$top/scripts/cppcheck.supp" \
            -D__CPPCHECK__ --include="$top/tests/lib/analyzer.h" \
            $(cat "$tmp/cppflags") -U__cplusplus \
            --file-list="$tmp/files" > "$tmp/cppcheck.log" 2>&1
        st=$?
        unset IFS; set +f
        ;;
    style)
        # Product sources: the tests may copy into buffers they sized.
        sources | grep -v -e "^$top/tests/" -e "^$top/bench/" |
            xargs "$top/scripts/style-check.sh" > "$tmp/style.log" 2>&1
        st=$?
        ;;
    spdx)
        # The first two lines (a #! line may come first). Generated files
        # (libtool's, autoconf's) and the npm packages are not ours.
        find "$top" \( -name node_modules -o -name build -o -name build-aux -o -name m4 \
            -o -name autom4te.cache -o -name .git -o -name '_build' -o -name 'checkup-*' \) -prune \
            -o -type f \( -name '*.[ch]' -o -name '*.sh' -o -name '*.mk' -o -name '*.py' \
            -o -name '*.js' -o -name '*.mjs' -o -name '*.lua' -o -name Makefile.am -o -name configure.ac \
            -o -name rules -o -name '*.postinst' -o -name '*.postrm' -o -name '*.prerm' \) -print |
            LC_ALL=C sort | while IFS= read -r f; do
                head -n 2 "$f" | grep -q 'SPDX-License-Identifier: BSD-3-Clause' ||
                    echo "$f: no SPDX-License-Identifier line at the top"
            done > "$tmp/spdx.log"
        [ ! -s "$tmp/spdx.log" ]
        st=$?
        ;;
    *)
        echo "lint.sh: unknown tool $tool (tidy, cppcheck, style, spdx)" >&2
        exit 2
        ;;
    esac
    end=$(date +%s)
    if [ "$st" -eq 0 ]; then
        printf 'lint: %-8s clean (%ss)\n' "$tool" "$((end - start))"
    else
        printf 'lint: %-8s FAILED (%ss):\n' "$tool" "$((end - start))"
        sed 's/^/  /' "$tmp/$tool.log"
        fail=1
    fi
done
exit $fail
