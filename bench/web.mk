# SPDX-License-Identifier: BSD-3-Clause
# bench/web.sh: wrk against checkupd's /session on each store and against a
# static nginx in the same run (not part of make check).
EXTRA_DIST += bench/web.sh
