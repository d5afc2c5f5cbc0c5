# SPDX-License-Identifier: BSD-3-Clause
# bench/pam: the token method's authenticate + acct_mgmt cycle against the
# bare store touch, in one run (not part of make check: run build/bench/pam).
noinst_PROGRAMS += bench/pam
bench_pam_SOURCES = bench/pam.c tests/lib/pamconv.c tests/lib/pamconv.h
bench_pam_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
bench_pam_LDADD = libcheckup.la $(PAM_LIBS)
EXTRA_bench_pam_DEPENDENCIES = pam_checkup.la
