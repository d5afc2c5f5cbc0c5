#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# pam_checkup.so exports the pam_sm_* entry points and nothing else, and
# loads neither libcurl nor cjose (nor anything that talks to an identity
# provider) into the processes that load PAM.
set -eu
: "${top_builddir:?run through make check}"
so=$top_builddir/.libs/pam_checkup.so
fails=0
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' | sort)
want=$(printf '%s\n' pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session \
    pam_sm_open_session pam_sm_setcred | sort)
if [ "$exported" = "$want" ]; then
    echo "ok: exports exactly: $(echo $exported)"
else
    echo "FAIL: exported symbols:"; echo "$exported"; fails=1
fi
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "needs: $(echo $needed)"
for bad in libcurl libcjose libmicrohttpd; do
    if echo "$needed" | grep -q "$bad"; then echo "FAIL: links $bad"; fails=1; fi
done
echo "$needed" | grep -q '^libpam\.so' || { echo "FAIL: does not link libpam"; fails=1; }
[ "$fails" -eq 0 ] && echo "PASS"
exit "$fails"
