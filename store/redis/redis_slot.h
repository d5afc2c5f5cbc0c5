/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_slot.h - the Redis Cluster hash slot of a key (internal).
 *
 * The cluster specification's rule: CRC16 (XMODEM: polynomial 0x1021,
 * initial value 0) of the key, modulo 16384; when the key holds a "{"
 * followed later by a "}" with at least one byte between them, only the
 * bytes between the first "{" and the first "}" after it are hashed (the
 * hash tag), so keys with the same tag live in the same slot.
 */
#ifndef CK_REDIS_SLOT_H
#define CK_REDIS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define CK_REDIS_SLOTS 16384

uint16_t ck_redis_crc16(const void *buf, size_t len);

/* The slot of a key of len bytes (binary keys allowed). */
unsigned ck_redis_key_slot(const void *key, size_t len);

#endif
