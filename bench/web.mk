# SPDX-License-Identifier: BSD-3-Clause
# bench/web.sh: wrk against checkupd's /session on each store and against a
# static nginx in the same run (not part of make check).
EXTRA_DIST += bench/web.sh
# bench/web_mint: the sessions bench/web.sh rotates through (built on demand).
EXTRA_PROGRAMS += bench/web_mint
bench_web_mint_SOURCES = bench/web_mint.c
bench_web_mint_LDADD = libcheckup.la $(OPENSSL_LIBS)
EXTRA_DIST += bench/web_session.lua bench/web_storm.lua
CLEANFILES += bench/web_mint
