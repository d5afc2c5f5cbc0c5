# SPDX-License-Identifier: BSD-3-Clause
# bench/sasl: full OAUTHBEARER server exchanges (the plugin loaded by
# libsasl2) against the bare store touch, in one run (not part of make
# check: run build/bench/sasl).
if HAVE_SASL
noinst_PROGRAMS += bench/sasl
bench_sasl_SOURCES = bench/sasl.c
bench_sasl_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
bench_sasl_LDADD = libcheckup.la -lsasl2
EXTRA_bench_sasl_DEPENDENCIES = sasl/libcheckup_sasl.la
endif
