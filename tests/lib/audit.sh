# SPDX-License-Identifier: BSD-3-Clause
# Shell helper: keeps the JSON audit files a test wrote, for
# tests/audit_json.sh, which parses every line of every one of them.
#
#   ck_keep_audit DIR...    copies each audit.jsonl / audit.json under DIR
#                           to $top_builddir/tests/audit-logs/TEST.PID.N.jsonl
#
# Call it from the test's EXIT trap before its temp dirs are removed. The
# files of an earlier run of the same test are replaced.

ck_keep_audit() {
    [ -n "${top_builddir-}" ] || return 0
    _ka_dir=$top_builddir/tests/audit-logs
    _ka_test=$(basename "$0" .sh)
    mkdir -p "$_ka_dir" || return 0
    for _ka_old in "$_ka_dir/$_ka_test".*.jsonl; do
        case $_ka_old in "$_ka_dir/$_ka_test.$$."*) ;; *) rm -f "$_ka_old" ;; esac
    done
    _ka_n=$(ls "$_ka_dir" | grep -c "^$_ka_test\.$$\." || true)
    find "$@" -maxdepth 4 -type f \( -name audit.jsonl -o -name audit.json \) 2>/dev/null |
        while read -r _ka_f; do
            _ka_n=$((_ka_n + 1))
            # Renamed into place: a test reading the dir never sees half a copy.
            cp "$_ka_f" "$_ka_dir/$_ka_test.$$.$_ka_n.tmp" &&
                mv "$_ka_dir/$_ka_test.$$.$_ka_n.tmp" "$_ka_dir/$_ka_test.$$.$_ka_n.jsonl"
        done
}
