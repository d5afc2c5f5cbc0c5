/* SPDX-License-Identifier: BSD-3-Clause */
#include "config.h"

#include <time.h>

#include "ck_clock.h"

static int64_t real_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static ck_clock_fn current = real_clock;

int64_t ck_now(void)
{
    return current();
}

void ck_clock_set(ck_clock_fn fn)
{
    current = fn ? fn : real_clock;
}
