/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lmdb_internal.h - the embedded LMDB backend's pieces (internal).
 *
 * Layout of one environment (a directory holding data.mdb, lock.mdb and
 * write.lock):
 *   sessions  key = tag(2) + SHA-256(sid)(32)      value = session record
 *   users     key = user id, MDB_DUPSORT           dup = be64 created + skey
 *   expiry    key = be64 expires + kind + id       value = empty
 *             kind 's' session (id = skey), 'p' pending state, 'f' counter
 *   states    key = name                           value = be64 expires + blob
 *   fails     key = name                           value = be64 end + be64 count
 *   meta      "format" = CK_LMDB_FORMAT, "counters" = metrics counters
 * Record formats are in lmdb_record.c.
 *
 * Beyond the LMDB defaults:
 *  - write.lock holds a robust process-shared mutex that every writer takes
 *    with the command timeout before LMDB's own (untimed) writer mutex, so
 *    a stopped writer costs others a "busy" error, never a hang;
 *  - one MDB_env per process and directory (MDB_NOTLS), shared by every
 *    ck_store of the process, because LMDB breaks if a process opens the
 *    same environment twice; after fork() the child drops it unused;
 *  - writes sweep up to CK_LMDB_SWEEP_SOME entries that expired at least
 *    CK_LMDB_SWEEP_GRACE seconds ago; sweep() and metrics() sweep all;
 *  - data-adding operations stop short of the map size, and of the space
 *    allocated to data.mdb (grown ahead with posix_fallocate), by a reserve
 *    of pages, touches by half of it, so that a full map or a full disk
 *    still takes logouts (lmdb_backend.c, room_check);
 *  - ends of sessions are synced to disk before they are answered.
 */
#ifndef CK_LMDB_INTERNAL_H
#define CK_LMDB_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

#include "backend.h"
#include "forkcheck.h"

#define CK_LMDB_FORMAT    "checkup-lmdb-1"
#define CK_LMDB_SKEY_LEN  34        /* tag + SHA-256 */
#define CK_LMDB_MAX_FDS   8

enum ck_lmdb_end {
    CK_END_LOGOUT = 0,
    CK_END_IDLE,
    CK_END_LIFETIME,
    CK_END_REVOKED,
    CK_END_COUNT
};

typedef struct ck_lmdb_counters {
    int64_t created;
    int64_t ended[CK_END_COUNT];
    int64_t duration_sum;
    int64_t active[CK_AUTH_METHOD_COUNT];
} ck_lmdb_counters;

/* One open environment per (process, directory), shared by its handles. */
typedef struct ck_lmdb_env {
    struct ck_lmdb_env *next;
    char *path;
    pid_t pid;                  /* the process that opened it */
    MDB_env *env;
    MDB_dbi sessions, users, expiry, states, fails, meta;
    int refs;
    int abandoned;              /* inherited across fork(): fds closed, never used */
    int fds[CK_LMDB_MAX_FDS];   /* the environment's descriptors */
    dev_t fd_dev[CK_LMDB_MAX_FDS];  /* and what they were open on */
    ino_t fd_ino[CK_LMDB_MAX_FDS];
    int nfds;
    int alloc_fd;               /* lock.mdb, kept open while LMDB's are (lockfile_allocate) */
    pthread_rwlock_t resize_lock; /* txns read-hold it; adopting a new map size writes */
} ck_lmdb_env;

/* One ck_store handle. */
typedef struct ck_lmdb {
    char *path;
    size_t map_size;
    int lock_timeout_ms;
    ck_forkcheck owner;         /* the process env and gate belong to */
    ck_lmdb_env *env;
    struct ck_lmdb_gate *gate;  /* write.lock, mapped: held around write txns */
} ck_lmdb;

/* One transaction as the operations see it. */
typedef struct ck_lmdb_txn {
    ck_store *st;
    ck_lmdb *h;
    ck_lmdb_env *e;
    MDB_txn *txn;
    int64_t now;
    int write;
    ck_lmdb_counters c;
    int c_loaded;
    int c_dirty;
    int swept;                  /* the operation swept already */
    int sync;                   /* sync the commit to disk (an end of session) */
    size_t sweep_visited;       /* index entries the last sweep went through */
} ck_lmdb_txn;

typedef ck_status (*ck_lmdb_fn)(ck_lmdb_txn *t, void *arg);

/* lmdb_env.c */
ck_status ck_lmdb_error(ck_store *st, int rc, const char *what);
#ifdef __clang_analyzer__
/* For the static analyzer, which sees one file at a time: an LMDB error is
 * never CK_OK. The definition is written (ck_lmdb_error) to escape this. */
static inline ck_status ck_lmdb_error_not_ok(ck_status s)
{
    if (s == CK_OK)
        __builtin_unreachable();
    return s;
}
#define ck_lmdb_error(st, rc, what) ck_lmdb_error_not_ok(ck_lmdb_error((st), (rc), (what)))
#endif
ck_status ck_lmdb_handle_open(ck_store *st, ck_lmdb *h);
void ck_lmdb_handle_close(ck_lmdb *h);
ck_status ck_lmdb_run(ck_store *st, int write, int64_t now, ck_lmdb_fn fn, void *arg);
ck_status ck_lmdb_counters_get(ck_lmdb_txn *t, ck_lmdb_counters **c);
ck_status ck_lmdb_gate_lock(ck_store *st, ck_lmdb *h);
void ck_lmdb_gate_unlock(ck_lmdb *h);

/*
 * lmdb_backend.c: removes up to max entries that expired at or before upto
 * inside t. Writes sweep a few in passing, those expired for
 * CK_LMDB_SWEEP_GRACE seconds; sweep() and metrics() take every expired
 * state and counter, and every session but those that ended under
 * CK_STORE_END_GRACE seconds ago, so that a user coming back just after an
 * expiry is told why (EXPIRED_IDLE) rather than NOT_FOUND; metrics()
 * reports those as ended without removing them.
 */
#define CK_LMDB_SWEEP_GRACE CK_STORE_END_GRACE
#define CK_LMDB_SWEEP_SOME  32
ck_status ck_lmdb_sweep_some(ck_lmdb_txn *t, int64_t upto, size_t max, size_t *removed);

/*
 * lmdb_backend.c, for lmdb_copy.c: the session and index primitives
 * (room_check: CK_ERR_FULL short of the reserve; sess_load: CK_NOT_FOUND,
 * CK_ERR_CORRUPT; sess_put: record and expiry entry; exp_*: the expiry
 * index; user_put: the user index entry of a session).
 */
ck_status ck_lmdb_room_check(ck_lmdb_txn *t);
ck_status ck_lmdb_sess_load(ck_lmdb_txn *t, const unsigned char *kb, ck_session *s);
ck_status ck_lmdb_sess_put(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                           unsigned flags);
ck_status ck_lmdb_exp_add(ck_lmdb_txn *t, int64_t expires, char kind, const void *id,
                          size_t idlen);
ck_status ck_lmdb_exp_del(ck_lmdb_txn *t, int64_t expires, char kind, const void *id,
                          size_t idlen);
ck_status ck_lmdb_user_put(ck_lmdb_txn *t, const char *user_id, int64_t created,
                           const unsigned char *kb);

/* lmdb_copy.c: the copy_* operations of backend.h. */
ck_status ck_lmdb_copy_scan(ck_store *st, int kind, char cursor[CK_COPY_CURSOR_MAX],
                            int64_t now, ck_copy_page *page);
ck_status ck_lmdb_copy_import(ck_store *st, const ck_copy_entry *e, size_t n, int64_t now,
                              int *res);
ck_status ck_lmdb_copy_raise(ck_store *st, const ck_metrics *m, int64_t now);

/* lmdb_record.c */
size_t ck_lmdb_rec_size(const ck_session *s);
void ck_lmdb_rec_encode(const ck_session *s, unsigned char *buf);
/* 0, or -1 with *why set to a static reason. */
int ck_lmdb_rec_decode(const void *buf, size_t len, ck_session *s, const char **why);
void ck_lmdb_counters_encode(const ck_lmdb_counters *c, unsigned char *buf, size_t *len);
int ck_lmdb_counters_decode(const void *buf, size_t len, ck_lmdb_counters *c);
#define CK_LMDB_COUNTERS_MAX 128

/* For tests: the handle's environment, and a write txn left open. */
MDB_env *ck_lmdb_test_env(ck_store *st);
ck_status ck_lmdb_test_hold_write(ck_store *st);

static inline void ck_be64_put(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static inline int64_t ck_be64_get(const unsigned char *p)
{
    uint64_t u = 0;

    for (int i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

#endif
