#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# libcheckup_sasl.so exports the two Cyrus SASL entry points and nothing
# else, and loads neither libcurl nor cjose (nor anything that talks to an
# identity provider) into slapd, the mail servers and the other services
# that load SASL plugins.
set -eu
: "${top_builddir:?run through make check}"
so=$top_builddir/sasl/.libs/libcheckup_sasl.so
fails=0
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' | sort)
want=$(printf '%s\n' sasl_client_plug_init sasl_server_plug_init | sort)
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
[ "$fails" -eq 0 ] && echo "PASS"
exit "$fails"
