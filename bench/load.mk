# SPDX-License-Identifier: BSD-3-Clause
# bench/load.sh, bench/faults.sh, bench/scale.sh (not part of make check).
# bench/load_gen is their load generator (libcurl multi, one thread); it is
# built on demand, and by make check for tests/faults.sh.
EXTRA_PROGRAMS += bench/load_gen
bench_load_gen_SOURCES = bench/load_gen.c
bench_load_gen_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
bench_load_gen_LDADD = $(CURL_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += bench/load.sh bench/load.k6.js bench/faults.sh bench/scale.sh bench/load_common.sh \
	bench/faults_common.sh
CLEANFILES += bench/load_gen
