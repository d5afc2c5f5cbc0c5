/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_copy.h - copying live state from one store to another
 * ("checkup store copy"), so that moving from the embedded store to Redis,
 * from one Redis to another, or back, logs nobody out.
 *
 * What is copied: every live session (its identity fields and its created,
 * last-use, deadline and expiry times, under the same key: the key is
 * SHA-256 of the session id, so the copy answers to the same token), the
 * per-user index, the failure counters with their windows (lockout and
 * rate limits), the lock index, and the cumulative metrics counters.
 * Pending logins (10 minutes, single-use) are not copied: a login in
 * flight during the switch is started again.
 *
 * Semantics, so that running it twice gives the same target and an
 * interrupted copy finishes when run again:
 *  - a session missing on the target is written as it is on the source;
 *    one present on both keeps the later last-use (its expiry with it);
 *    a session that has ended on the source is skipped;
 *  - a failure counter keeps the larger count and the later window end;
 *    a lock index entry the later end; a source counter over INT32_MAX
 *    (not checkup's) stops the copy with CK_ERR_CORRUPT;
 *  - the cumulative counters (created, ended by logout / idle / lifetime /
 *    revocation, duration sum) are raised to at least the source's value,
 *    never added: a second run finds them there and adds nothing. The
 *    active counts follow the sessions written, one each.
 * Nothing is deleted on the target, and the source is only read (a read
 * of an expired session may end it there, as any read does).
 *
 * Both handles belong to the calling process (see ck_store.h).
 */
#ifndef CK_COPY_H
#define CK_COPY_H

#include <stddef.h>

#include "ck_store.h"

typedef struct ck_copy_stats {
    size_t sessions;        /* sessions seen on the source */
    size_t copied;          /* written: missing on the target */
    size_t present;         /* already there, with the same or a later last-use */
    size_t updated;         /* there with an earlier last-use: brought forward */
    size_t expired;         /* ended on the source: skipped */
    size_t counters;        /* failure counters written or raised */
    size_t locks;           /* lock index entries written or moved */
} ck_copy_stats;

/* Called every CK_COPY_PROGRESS_EVERY sessions and once at the end (final = 1). */
#define CK_COPY_PROGRESS_EVERY 1000
typedef void (*ck_copy_progress_fn)(const ck_copy_stats *stats, int final, void *arg);

/*
 * Copies from -> to. On an error returns its status with the detail in
 * err ("target: store full: ..."): what was written so far stays, and a
 * second run finishes the copy. *stats counts what was done either way.
 */
ck_status ck_store_copy(ck_store *from, ck_store *to, ck_copy_progress_fn progress, void *arg,
                        ck_copy_stats *stats, char *err, size_t errlen);

/*
 * Compares both sides: every live session of from must be on to with the
 * same identity fields, created time and deadline, and a last-use and
 * expiry no earlier; every user's index on to must hold the user's
 * sessions of from; the failure counters and lock entries of from must be
 * on to with a count and end no smaller; the cumulative counters of to
 * must be at least from's. Each difference is handed to diff with what
 * (a word: "session", "user", "counter", "lock", "metrics"), the name of
 * the thing (a session's key_hex, never a token; a user id, a counter
 * name) and a line of detail. *ndiff counts them. A session that ends on
 * the source while the comparison runs is not a difference.
 */
typedef void (*ck_copy_diff_fn)(const char *what, const char *name, const char *detail,
                                void *arg);
ck_status ck_store_copy_verify(ck_store *from, ck_store *to, ck_copy_diff_fn diff, void *arg,
                               size_t *ndiff, char *err, size_t errlen);

/*
 * Whether two store URLs name the same store: the same LMDB directory
 * (after removing trailing slashes and resolving the path when it
 * exists; or, when they exist, the same directory or data.mdb by device
 * and inode: a bind mount, a hard link), or the same Redis URL once the scheme and host are lowercased
 * and a default port (6379, 26379 for Sentinel) and database 0 filled in.
 * Returns 1 when they are the same, 0 when not.
 */
int ck_copy_same_store(const char *a, const char *b);

#endif
