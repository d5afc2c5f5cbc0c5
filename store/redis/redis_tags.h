/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_tags.h - how a session tag (backend.h) is spelled in Redis keys
 * (internal).
 *
 * Every key of one tag carries the same hash tag "{...}", so a user's
 * session records, index and the tag's metrics share one Cluster slot:
 *  - an old tag ("00".."3f") as itself, "{3f}", exactly as ids issued
 *    before the wider tags have their keys;
 *  - new tag index v (0..CK_TAG_NEW_COUNT - 1, ck_tag_index minus
 *    CK_TAG_OLD_COUNT) as 1 to 3 base64url characters whose slot is
 *    floor(v * 16384 / CK_TAG_NEW_COUNT): the new tags lie evenly spaced
 *    over the 16,384 slots, so any split of the slots into contiguous
 *    ranges (redis-cli --cluster create) gives each primary its share.
 *    The string is the first, by length and then base64url order, with
 *    that slot, never two lowercase hex digits (an old tag's spelling).
 *    A storage format: it never changes (scripts/gen-redis-tags.py made
 *    the table, tests/test_tags.c checks it).
 */
#ifndef CK_REDIS_TAGS_H
#define CK_REDIS_TAGS_H

#include <stddef.h>

#include "backend.h"

#define CK_RS_BRACES_MAX 3

/* The slot new tag index v (0..CK_TAG_NEW_COUNT - 1) is meant to land on. */
unsigned ck_rs_tag_slot(int v);

/*
 * The text between the braces of tag t's keys (t: 2 characters), NUL-
 * terminated, and its length; 0 (out = "") when t is not a tag.
 */
size_t ck_rs_tag_braces(const char *t, char out[CK_RS_BRACES_MAX + 1]);

/* The tag whose keys carry the len bytes s between braces; -1 when none. */
int ck_rs_tag_from_braces(const char *s, size_t len, char tag[3]);

/*
 * A session key, "<prefix>s:{<braces>}" then the 32 bytes of the hash,
 * back into its store key; -1 when k is not one.
 */
int ck_rs_session_key_parse(const char *prefix, const char *k, size_t len, ck_skey *out);

#endif
