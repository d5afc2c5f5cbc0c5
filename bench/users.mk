# SPDX-License-Identifier: BSD-3-Clause
# bench/users: a password login through pam_checkup with 100 and with
# 100,000 users in the users file, in one run (not part of make check:
# make bench/users, then run it from the build directory).
noinst_PROGRAMS += bench/users
bench_users_SOURCES = bench/users.c tests/lib/pamconv.c tests/lib/pamconv.h
bench_users_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
bench_users_LDADD = libcheckup.la $(PAM_LIBS)
EXTRA_bench_users_DEPENDENCIES = pam_checkup.la
