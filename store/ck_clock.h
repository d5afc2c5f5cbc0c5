/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_clock.h - the one clock every session decision reads.
 * Tests replace it to step through idle and lifetime expiry.
 */
#ifndef CK_CLOCK_H
#define CK_CLOCK_H

#include <stdint.h>

typedef int64_t (*ck_clock_fn)(void);

/* Seconds since the epoch. */
int64_t ck_now(void);

/* Replaces the clock; NULL restores the real one. */
void ck_clock_set(ck_clock_fn fn);

#endif
