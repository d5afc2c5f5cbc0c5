/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * backend.h - what a store backend implements (internal to libcheckup).
 *
 * The front (store.c) validates arguments, generates session ids and
 * hashes them; a backend only ever sees the key. Each operation receives
 * "now" from the one clock and must apply the session policy atomically:
 * inside one LMDB write transaction, or inside one Lua script on Redis.
 *
 * Policy, for a session s at time now:
 *   now >= s.deadline                       -> delete, CK_EXPIRED_LIFETIME
 *   now >= s.last_activity + inactivity     -> delete, CK_EXPIRED_IDLE
 *   otherwise (touch) last_activity = now,
 *             expires = min(now + inactivity, deadline)
 * Metrics: every session that ends is counted once, by the first of
 * logout (delete), revocation (revoke_user, cap eviction, delete_key),
 * idle or lifetime expiry (seen by touch/get/sweep, or by time passing).
 * Its duration is end - created, where end is the time of the logout or
 * revocation, or s.expires for an expiry.
 */
#ifndef CK_BACKEND_H
#define CK_BACKEND_H

#include <stdarg.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "ck_store.h"

/*
 * The store key of a session. tag is the two characters at the start of
 * the session id, derived from the user id, so that all of one user's keys
 * share a Redis Cluster slot; hash is SHA-256 of the whole session id.
 */
typedef struct ck_skey {
    char tag[3];
    unsigned char hash[CK_KEY_LEN];
} ck_skey;

/*
 * Session tags: a format that must never change, because every host and
 * version must derive the same tag for a user (revoke_user and list_user
 * find a user's sessions by it).
 *
 * Old tags, in ids issued before the wider tags: two lowercase hex digits
 * "00".."3f", SHA-256(user_id)[0] mod 64. They are still accepted until
 * the last of those ids has ended (24 h after the upgrade).
 *
 * New tags, in every id issued now: index v = the first 8 bytes of
 * SHA-256(user_id) as a big-endian number, mod CK_TAG_NEW_COUNT; spelled
 * CK_TAG_FIRST[v / 64] then the base64url character of value v % 64. The
 * first character is never a lowercase hex digit, so the two kinds cannot
 * be confused. On Redis each new tag's keys land on their own, evenly
 * spaced Cluster slot (redis_tags.h).
 *
 * Tag indexes: 0..63 are the old tags, 64.. the new ones (CK_TAG_COUNT in
 * all), for code that walks every tag (Redis metrics).
 */
#define CK_TAG_OLD_COUNT 64
#define CK_TAG_NEW_COUNT 3072
#define CK_TAG_COUNT     (CK_TAG_OLD_COUNT + CK_TAG_NEW_COUNT)
/* The base64url characters that are not lowercase hex digits, in base64url order. */
#define CK_TAG_FIRST     "ABCDEFGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz-_"

/* One entry of a store copy (ck_copy.h; copy_* below). */
enum { CK_COPY_SESSIONS = 0, CK_COPY_COUNTERS, CK_COPY_LOCKS };
enum { CK_COPY_PRESENT = 0, CK_COPY_ADDED, CK_COPY_UPDATED, CK_COPY_ENDED };
#define CK_COPY_CURSOR_MAX (2 * CK_STATE_NAME_MAX + 8)
#define CK_COPY_PAGE 512

typedef struct ck_copy_entry {
    int kind;
    ck_skey key;                        /* CK_COPY_SESSIONS */
    ck_session s;                       /* the session as read from the source */
    char name[CK_STATE_NAME_MAX + 1];   /* counters and locks */
    int64_t count;                      /* counters: failures in the window */
    int64_t end;                        /* counters: window end; locks: until */
} ck_copy_entry;

typedef struct ck_copy_page {
    size_t n;
    int done;
    ck_copy_entry items[CK_COPY_PAGE];
} ck_copy_page;

struct ck_backend_ops {
    const char *name;
    ck_status (*create)(ck_store *st, const ck_skey *key, const ck_session *s);
    ck_status (*touch)(ck_store *st, const ck_skey *key, int64_t now, ck_session *out);
    /*
     * Optional: n touches at one now (n <= CK_STORE_BATCH_MAX), each
     * answered in res[i] as touch would. NULL: one touch after another.
     */
    void (*touch_many)(ck_store *st, size_t n, const ck_skey *keys, int64_t now,
                       ck_session *const *outs, ck_status *res);
    /* Optional: 1 when touch's answer needs no write (*rc set), else 0. */
    int (*touch_cheap)(ck_store *st, const ck_skey *key, int64_t now, ck_session *out,
                       ck_status *rc);
    ck_status (*get)(ck_store *st, const ck_skey *key, int64_t now, ck_session *out);
    /* revoked: 0 = logout, 1 = admin revocation (counted as revoked) */
    ck_status (*del)(ck_store *st, const ck_skey *key, int64_t now, int revoked);
    ck_status (*revoke_user)(ck_store *st, const char *user_id, int64_t now, size_t *count);
    ck_status (*list_user)(ck_store *st, const char *user_id, int64_t now, ck_session_list *out);
    ck_status (*state_put)(ck_store *st, const char *name, const void *v, size_t len,
                           int ttl, int64_t now);
    /* take = 1 removes it atomically; take = 0 only reads. */
    ck_status (*state_get)(ck_store *st, const char *name, int take, int64_t now,
                           void **v, size_t *len);
    ck_status (*fail_add)(ck_store *st, const char *name, int window, int64_t now,
                          int64_t *count);
    ck_status (*fail_count)(ck_store *st, const char *name, int64_t now, int64_t *count);
    ck_status (*fail_reset)(ck_store *st, const char *name);
    /* The lock index (see ck_store_lock_note): until is by the store's clock. */
    ck_status (*lock_note)(ck_store *st, const char *name, int64_t until, int64_t now);
    ck_status (*lock_forget)(ck_store *st, const char *name);
    ck_status (*lock_list)(ck_store *st, int64_t now, ck_lock_list *out);
    ck_status (*metrics)(ck_store *st, int64_t now, ck_metrics *out);
    ck_status (*ping)(ck_store *st);
    ck_status (*sweep)(ck_store *st, int64_t now, size_t *removed);
    /* May be NULL: no replicas to wait for (see ck_store_wait_replicas). */
    ck_status (*wait_replicas)(ck_store *st, const char *what);
    /* May be NULL: the backend has no server memory to report. */
    ck_status (*memory)(ck_store *st, ck_store_memory *out);
    void (*close)(ck_store *st);
    /*
     * Copying between stores (ck_copy.h). NULL: the backend cannot.
     * copy_scan lists one page of what kind names (CK_COPY_SESSIONS: keys
     * only, the caller reads each with get; CK_COPY_COUNTERS: failure
     * counters with count and end; CK_COPY_LOCKS, which a backend may
     * answer with an empty page: the copy reads locks with lock_list)
     * from cursor on ("" at the start), and sets cursor for
     * the next page; page->done at the end. A page may repeat an entry
     * of an earlier one (Redis SCAN).
     * copy_import writes each of n entries as given if absent or older
     * (see ck_copy.h), each in one atomic step, and says which in res[i]
     * (CK_COPY_*); on an error the entries before it are written.
     * copy_raise raises the cumulative counters to at least *m.
     */
    ck_status (*copy_scan)(ck_store *st, int kind, char cursor[CK_COPY_CURSOR_MAX],
                           int64_t now, ck_copy_page *page);
    ck_status (*copy_import)(ck_store *st, const ck_copy_entry *e, size_t n, int64_t now,
                             int *res);
    ck_status (*copy_raise)(ck_store *st, const ck_metrics *m, int64_t now);
};

struct ck_store {
    const struct ck_backend_ops *ops;
    void *impl;                 /* the backend's own state */
    int inactivity;             /* seconds */
    int lifetime;               /* seconds */
    int pending_ttl;            /* seconds */
    int max_per_user;           /* 0 = no cap */
    size_t evicted;             /* by the last create, set by the backend */
    EVP_MD *sha256;             /* fetched once per handle; NULL: SHA256() */
    EVP_MD_CTX *sha256_ctx;     /* reused by every hash of a session id */
    char errstr[512];
};

/* Counts one metrics update a full store could not take (ck_store_metrics_lost). */
void ck_store_metrics_lost_add(void);

/* Sets st->errstr (printf-style) and returns status, for "return ck_fail(...)". */
ck_status ck_fail(ck_store *st, ck_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/* The static analyzer (make lint, scan-build) sees one file at a time: this
 * tells it ck_fail returns its status, so "rc = ck_fail(...)" is not taken
 * for a possible CK_OK. The definition is written (ck_fail) to escape it. */
#define ck_fail(st, status, ...) (ck_fail((st), (status), __VA_ARGS__), (status))
#endif

/* Fills s->key_hex from a key. */
void ck_skey_hex(const ck_skey *key, char out[CK_KEY_HEX_LEN]);
/* Parses a tag + 64 hex characters back into a key; -1 when malformed. */
int ck_skey_from_hex(const char *hex, ck_skey *key);
/* The new tag of a user id (the one create uses), NUL-terminated. */
void ck_user_tag(const char *user_id, char tag[3]);
/* The old tag of a user id, that ids issued before the wider tags carry. */
void ck_user_tag_old(const char *user_id, char tag[3]);
/* The index (0..CK_TAG_COUNT - 1) of the tag in t's first two characters; -1: none. */
int ck_tag_index(const char *t);
/* The tag of an index (0..CK_TAG_COUNT - 1), NUL-terminated. */
void ck_tag_name(int index, char tag[3]);
/*
 * ck_store_create with the given tag instead of the user's new tag: for
 * tests that need sessions as earlier versions issued them (old tags).
 */
ck_status ck_store_create_tagged(ck_store *st, ck_session *in, const char tag[2],
                                 char sid_out[CK_SID_LEN]);

/* Backend constructors: set st->ops and st->impl, or return an error. */
ck_status ck_lmdb_open(ck_store *st, const ck_config *cfg, const char *path);
ck_status ck_redis_store_open(ck_store *st, const ck_config *cfg, const char *url);

#endif
