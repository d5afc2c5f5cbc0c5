#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Prints the table of store/redis/redis_tags.c: for each new session tag v
# (0..3071), the text its Redis keys carry between braces. It is the first
# string, by length (1, 2, 3 characters) and then in base64url value order
# with the first character most significant, whose Redis Cluster slot
# (CRC16-XMODEM mod 16384) is floor(v * 16384 / 3072); strings of exactly
# two lowercase hex digits are skipped, because old tags ("{3f}") are
# spelled that way. tests/test_tags.c recomputes the table the same way.
# Run it only to look: the table is a storage format and never changes.
import itertools

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HEX = "0123456789abcdef"
NTAGS, SLOTS = 3072, 16384


def crc16(data):
    crc = 0
    for c in data:
        crc ^= c << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


first = {}
for n in (1, 2, 3):
    for t in itertools.product(B64, repeat=n):
        s = "".join(t)
        if n == 2 and s[0] in HEX and s[1] in HEX:
            continue
        first.setdefault(crc16(s.encode()) % SLOTS, s)
table = [first[v * SLOTS // NTAGS] for v in range(NTAGS)]
for i in range(0, NTAGS, 10):
    print("    " + " ".join('"%s",' % s for s in table[i:i + 10]))
