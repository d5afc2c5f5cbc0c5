# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks: built and run on demand by bench/store.sh, not by make check
# (make bench/store_bench; then sh bench/store.sh from the build directory).
EXTRA_PROGRAMS = bench/store_bench
bench_store_bench_SOURCES = bench/store_bench.c
bench_store_bench_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)
bench_store_bench_LDADD = libcheckup.la $(HIREDIS_LIBS)
EXTRA_DIST += bench/store.sh
# bench/cluster.sh: the same store on a 3-primary Redis Cluster (tests/lib/cluster.sh).
EXTRA_DIST += bench/cluster.sh
CLEANFILES += bench/store_bench
