/* SPDX-License-Identifier: BSD-3-Clause */
/* redis_slot.c - the Redis Cluster hash slot of a key (see redis_slot.h). */
#include "config.h"

#include <string.h>

#include "redis_slot.h"

/*
 * Bit by bit rather than from a 512-byte table: a key is a few dozen
 * bytes, hashed once per command, and the loop is a few nanoseconds a byte.
 */
uint16_t ck_redis_crc16(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint16_t crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned ck_redis_key_slot(const void *key, size_t len)
{
    const unsigned char *k = key, *open = memchr(k, '{', len), *close;

    if (open) {
        size_t rest = len - (size_t)(open - k) - 1;

        close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return ck_redis_crc16(open + 1, (size_t)(close - open - 1)) % CK_REDIS_SLOTS;
    }
    return ck_redis_crc16(k, len) % CK_REDIS_SLOTS;
}
