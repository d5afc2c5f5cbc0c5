#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every line of every JSON audit file the suites wrote (kept by
# tests/lib/audit.sh in $top_builddir/tests/audit-logs; the make rule runs
# this test after them) must be one JSON object with the fields of an
# audit event: a numeric time, an event word, a result of success or
# failure, only known keys, string values without \xNN escapes of
# printable text, and a user either of a known shape (see ck_audit.h) or
# given only as user_hash=sha256:<12 hex> with user_len.
set -eu
: "${top_builddir:?}"
k=$top_builddir/tests/audit-logs
command -v jq > /dev/null || { echo "FAIL: jq is needed (Debian package jq)"; exit 1; }

# One message per bad line; nothing for a good one.
filter='
def plain: test("^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$");
def address: length <= 254 and
    test("^[A-Za-z0-9_%+'"'"'-]([A-Za-z0-9._%+'"'"'-]{0,62}[A-Za-z0-9_%+'"'"'-])?@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$");
. as $raw
| (try fromjson catch null) as $j
| if ($j | type) != "object" then "not a JSON object"
  else
    ( (if ($j.time | type) != "number" then "time is not a number" else empty end),
      (if ($j.event | type) != "string" or ($j.event | test("^[a-z_]+$") | not)
       then "event is not a word" else empty end),
      (if ([$j.result] | inside(["success", "failure"]) | not) or $j.result == null
       then "result is not success or failure" else empty end),
      (($j | keys) - ["time", "event", "user", "user_hash", "user_len", "method", "service",
                      "rhost", "sid", "result", "reason"]
       | if length > 0 then "unknown keys \(.)" else empty end),
      ($j | to_entries[] | select(.key != "time" and .key != "user_len")
       | select(.value | type != "string") | "\(.key) is not a string"),
      ($j | to_entries[] | select(.value | type == "string")
       | select(.value | test("\\\\x(2[0-9a-f]|[3-6][0-9a-f]|7[0-9a-e])"))
       | "\(.key) holds a \\xNN escape of printable text"),
      (if $j.user != null and (($j.user | plain) or ($j.user | address) | not)
       then "a user of no known shape in clear" else empty end),
      (if $j.user_hash != null and (($j.user_hash | test("^sha256:[0-9a-f]{12}$") | not)
           or ($j.user_len | type) != "number")
       then "user_hash without sha256:<12 hex> and user_len" else empty end),
      (if $j.user != null and $j.user_hash != null then "both user and user_hash" else empty end)
    )
  end
| "line \(input_line_number): \(.)"'

files=0 lines=0 bad=0 hashed=0
for f in "$k"/*.jsonl; do
    [ -f "$f" ] || continue
    files=$((files + 1))
    n=$(wc -l < "$f")
    lines=$((lines + n))
    # A last line without its newline would be a torn write.
    if [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
        echo "FAIL: ${f##*/}: the last line has no newline"
        bad=$((bad + 1))
    fi
    jq -R -r "$filter" "$f" > "$k.out" || { echo "FAIL: jq failed on ${f##*/}"; bad=$((bad + 1)); }
    while read -r msg; do
        echo "FAIL: ${f##*/}: $msg"
        bad=$((bad + 1))
    done < "$k.out"
    hashed=$((hashed + $(grep -c '"user_hash":"sha256:' "$f" || true)))
done
rm -f "$k.out"
echo "checked $lines line(s) in $files audit file(s), $hashed with a hashed user name"
# Not vacuous: the suites this test runs after write hundreds of lines,
# and the secrets scan plants tokens and passwords as user names.
[ "$files" -ge 5 ] || { echo "FAIL: only $files audit file(s) kept"; bad=$((bad + 1)); }
[ "$lines" -ge 100 ] || { echo "FAIL: only $lines audit line(s)"; bad=$((bad + 1)); }
[ "$hashed" -ge 3 ] || { echo "FAIL: only $hashed hashed user name(s)"; bad=$((bad + 1)); }
# The check itself must be able to fail: lines of the old writer.
printf '%s\n' '{"time":1,"event":"login_failure","user":"two\\x20words","result":"failure"}' \
    '{"time":1,"event":"login_failure","user":"a token.or.password!","result":"failure"}' \
    'event=login_failure user=x' > "$k.control"
[ "$(jq -R -r "$filter" "$k.control" | wc -l)" -ge 4 ] ||
    { echo "FAIL: the check passes bad lines"; bad=$((bad + 1)); }
rm -f "$k.control"
echo "$bad failure(s)"
[ "$bad" -eq 0 ]
