/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lmdb_backend.c - the embedded default store: sessions, pending logins and
 * failure counters in one LMDB environment shared by every process on the
 * host. Layout in lmdb_internal.h; environment handling in lmdb_env.c.
 *
 * Every decision about a session is taken inside one transaction, so
 * a concurrent touch can never resurrect a deleted session, and the
 * metrics counters (meta DB) change in the same commit as the sessions
 * they count. Expired entries are found through the expiry index, a
 * range scan over expired keys only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ck_clock.h"
#include "lmdb_internal.h"

#define EXP_KEY_MAX   (9 + CK_STATE_NAME_MAX)
#define SWEEP_BATCH   1024

/* ---- keys -------------------------------------------------------------- */

static void skey_bytes(const ck_skey *k, unsigned char out[CK_LMDB_SKEY_LEN])
{
    out[0] = (unsigned char)k->tag[0];
    out[1] = (unsigned char)k->tag[1];
    memcpy(out + 2, k->hash, CK_KEY_LEN);
}

static void skey_hex(const unsigned char kb[CK_LMDB_SKEY_LEN], char out[CK_KEY_HEX_LEN])
{
    ck_skey k;

    k.tag[0] = (char)kb[0];
    k.tag[1] = (char)kb[1];
    k.tag[2] = '\0';
    memcpy(k.hash, kb + 2, CK_KEY_LEN);
    ck_skey_hex(&k, out);
}

static size_t exp_key(unsigned char *out, int64_t expires, char kind, const void *id,
                      size_t idlen)
{
    ck_be64_put(out, expires);
    out[8] = (unsigned char)kind;
    memcpy(out + 9, id, idlen);
    return 9 + idlen;
}

static ck_status exp_add(ck_lmdb_txn *t, int64_t expires, char kind, const void *id,
                         size_t idlen)
{
    unsigned char buf[EXP_KEY_MAX];
    MDB_val k = { exp_key(buf, expires, kind, id, idlen), buf }, v = { 0, buf };
    int rc = mdb_put(t->txn, t->e->expiry, &k, &v, 0);

    return rc ? ck_lmdb_error(t->st, rc, "indexing an expiry") : CK_OK;
}

static ck_status exp_del(ck_lmdb_txn *t, int64_t expires, char kind, const void *id,
                         size_t idlen)
{
    unsigned char buf[EXP_KEY_MAX];
    MDB_val k = { exp_key(buf, expires, kind, id, idlen), buf };
    int rc = mdb_del(t->txn, t->e->expiry, &k, NULL);

    return rc && rc != MDB_NOTFOUND ? ck_lmdb_error(t->st, rc, "unindexing an expiry") : CK_OK;
}

static MDB_val mval(const void *p, size_t n)
{
    MDB_val v = { n, (void *)p };

    return v;
}

/*
 * Pages on LMDB's free list (FREE_DBI values are page lists: count, then
 * pages). LMDB lets only a read txn open a cursor there; with MDB_NOTLS
 * one can run beside our write txn and sees the same committed state.
 */
static ck_status free_pages(ck_lmdb_txn *t, size_t *n)
{
    MDB_txn *rtxn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_txn_begin(t->e->env, NULL, MDB_RDONLY, &rtxn);

    *n = 0;
    if (rc != 0)
        return ck_lmdb_error(t->st, rc, "reading the free list");
    rc = mdb_cursor_open(rtxn, 0, &cur);
    if (rc == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            *n += v.mv_size / sizeof(size_t) - 1;
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(rtxn);
    return rc == MDB_NOTFOUND ? CK_OK : ck_lmdb_error(t->st, rc, "reading the free list");
}

/*
 * The disk side of the reserve. LMDB (without MDB_WRITEMAP) writes pages
 * past the end of data.mdb with pwrite, which fails on a full file system
 * (ENOSPC, or EIO for a short write); and a delete needs new pages too
 * (copy-on-write), so a full disk would stop logouts as well as logins.
 * Pages below the end of the file have their blocks already, so the file
 * is grown ahead of use with posix_fallocate, a chunk at a time (1/16 of
 * the map, 64 to 2,048 pages), up to the map size, and an operation that
 * adds data needs `reserve` allocated pages past the last page in use.
 * When the file cannot grow (the disk is full) that operation is refused
 * with "store full", and the pages still allocated take touches (down to
 * half the reserve) and, past that, deletes only. Preallocating the whole
 * map at open would be simpler but would take map_size (256 MiB by
 * default) of disk from every store, most of it never used. A copy-on-
 * write file system (btrfs, ZFS) does not keep allocated blocks for a
 * rewrite: there the reserve holds for the map size only.
 */
static ck_status disk_room(ck_lmdb_txn *t, size_t used, size_t reserve, size_t total,
                           size_t psize)
{
    mdb_filehandle_t fd;
    struct stat sb;
    size_t have, want, chunk = total / 16 < 2048 ? total / 16 : 2048;
    int err;

    if (mdb_env_get_fd(t->e->env, &fd) != 0 || fstat(fd, &sb) != 0)
        return CK_OK;
    have = (size_t)sb.st_size / psize;
    if (used + reserve <= have || have >= total)
        return CK_OK;
    chunk = chunk > 64 ? chunk : 64;
    want = used + reserve + chunk < total ? used + reserve + chunk : total;
    err = posix_fallocate(fd, (off_t)have * (off_t)psize, (off_t)(want - have) * (off_t)psize);
    /* A disk with less than a chunk left still takes what the login needs. */
    if (err == ENOSPC && used + reserve < want)
        err = posix_fallocate(fd, (off_t)have * (off_t)psize,
                              (off_t)(used + reserve - have) * (off_t)psize);
    if (err == 0 || err == EINVAL || err == EOPNOTSUPP)
        return CK_OK;   /* allocated, or a file system that cannot say ahead */
    return ck_lmdb_error(t->st, err, "growing data.mdb");
}

/*
 * Operations that add data stop short of the map size and of the disk
 * (disk_room), keeping a reserve of pages for what removes data: a delete
 * rewrites a path of pages in every tree it touches, and must still work
 * in a full store. Touches stop at half the reserve (ROOM_TOUCH), so that
 * sessions are refreshed for as long as possible and deletes keep the
 * rest. The free list is only read once the file has grown near the map
 * size.
 */
#define ROOM_ADD   1
#define ROOM_TOUCH 2

static ck_status room_check_as(ck_lmdb_txn *t, size_t share)
{
    MDB_envinfo info;
    MDB_stat ms;
    size_t total, reserve, used, nfree;
    ck_status rc;

    if (mdb_env_info(t->e->env, &info) != 0 || mdb_env_stat(t->e->env, &ms) != 0)
        return CK_OK;
    total = info.me_mapsize / ms.ms_psize;
    /* A delete dirties a path in four trees, the free list and the counters,
     * and may sweep: 48 pages (half the floor) keep a run of them going. */
    reserve = (total / 32 > 96 ? total / 32 : 96) / share;
    used = info.me_last_pgno + 1;
    rc = disk_room(t, used, reserve, total, ms.ms_psize);
    if (rc != CK_OK || used + reserve < total)
        return rc;
    rc = free_pages(t, &nfree);
    if (rc != CK_OK)
        return rc;
    if (used - (nfree < used ? nfree : used) + reserve >= total)
        return ck_lmdb_error(t->st, MDB_MAP_FULL, "adding data");
    return CK_OK;
}

static ck_status room_check(ck_lmdb_txn *t)
{
    return room_check_as(t, ROOM_ADD);
}

/* ---- sessions ----------------------------------------------------------- */

static ck_status sess_load(ck_lmdb_txn *t, const unsigned char *kb, ck_session *s)
{
    MDB_val k = mval(kb, CK_LMDB_SKEY_LEN), v;
    const char *why = NULL;
    int rc = mdb_get(t->txn, t->e->sessions, &k, &v);

    if (rc == MDB_NOTFOUND)
        return CK_NOT_FOUND;
    if (rc != 0)
        return ck_lmdb_error(t->st, rc, "reading a session");
    if (ck_lmdb_rec_decode(v.mv_data, v.mv_size, s, &why) != 0) {
        char hex[CK_KEY_HEX_LEN];

        skey_hex(kb, hex);
        return ck_fail(t->st, CK_ERR_CORRUPT,
                       "store %s/data.mdb: session record %.10s... does not parse: %s",
                       t->h->path, hex, why);
    }
    skey_hex(kb, s->key_hex);
    return CK_OK;
}

/* The session of a caller's key; kb is set to its LMDB key for the writes after. */
static ck_status sess_find(ck_lmdb_txn *t, const ck_skey *key,
                           unsigned char kb[CK_LMDB_SKEY_LEN], ck_session *s)
{
    skey_bytes(key, kb);
    return sess_load(t, kb, s);
}

static ck_status sess_put(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                          unsigned flags)
{
    size_t n = ck_lmdb_rec_size(s);
    MDB_val k = mval(kb, CK_LMDB_SKEY_LEN), v = { n, NULL };
    int rc = mdb_put(t->txn, t->e->sessions, &k, &v, flags | MDB_RESERVE);

    if (rc == MDB_KEYEXIST)
        return ck_fail(t->st, CK_ERR_INTERNAL, "session id collision");
    if (rc != 0)
        return ck_lmdb_error(t->st, rc, "writing a session");
    ck_lmdb_rec_encode(s, v.mv_data);
    return exp_add(t, s->expires, 's', kb, CK_LMDB_SKEY_LEN);
}

static void user_dup(unsigned char out[8 + CK_LMDB_SKEY_LEN], int64_t created,
                     const unsigned char *kb)
{
    ck_be64_put(out, created);
    memcpy(out + 8, kb, CK_LMDB_SKEY_LEN);
}

static ck_status user_dup_del(ck_lmdb_txn *t, const char *user_id, const unsigned char *dup)
{
    MDB_val k = mval(user_id, strlen(user_id)), v = mval(dup, 8 + CK_LMDB_SKEY_LEN);
    int rc = mdb_del(t->txn, t->e->users, &k, &v);

    return rc && rc != MDB_NOTFOUND ? ck_lmdb_error(t->st, rc, "updating a user index")
                                    : CK_OK;
}

/* Removes a session and both its index entries. */
static ck_status sess_unlink(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s)
{
    unsigned char dup[8 + CK_LMDB_SKEY_LEN];
    MDB_val k = mval(kb, CK_LMDB_SKEY_LEN);
    int rc = mdb_del(t->txn, t->e->sessions, &k, NULL);
    ck_status st;

    if (rc && rc != MDB_NOTFOUND)
        return ck_lmdb_error(t->st, rc, "deleting a session");
    user_dup(dup, s->created, kb);
    st = user_dup_del(t, s->user_id, dup);
    if (st == CK_OK)
        st = exp_del(t, s->expires, 's', kb, CK_LMDB_SKEY_LEN);
    return st;
}

/* Ends a session: gone from the store, counted once in the metrics. */
static ck_status sess_end(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                          enum ck_lmdb_end why, int64_t end)
{
    ck_lmdb_counters *c;
    ck_status rc = sess_unlink(t, kb, s);

    if (rc == CK_OK)
        rc = ck_lmdb_counters_get(t, &c);
    if (rc != CK_OK)
        return rc;
    c->active[s->method]--;
    c->ended[why]++;
    c->duration_sum += end - s->created;
    t->c_dirty = 1;
    return CK_OK;
}

/*
 * The policy of backend.h. A stored expiry that has passed also ends the
 * session, so that touch, list and the expiry sweep always agree even if
 * inactivity_timeout changed since the session was last refreshed.
 */
static ck_status sess_policy(const ck_store *st, const ck_session *s, int64_t now)
{
    if (now >= s->deadline)
        return CK_EXPIRED_LIFETIME;
    if (now >= s->last_activity + st->inactivity || now >= s->expires)
        return CK_EXPIRED_IDLE;
    return CK_OK;
}

/*
 * Ends an expired session, counted under what ended it first: its idle
 * expiry if that came before the deadline, else its lifetime, whatever
 * touch reports now (backend.h). The end time is s.expires.
 */
static ck_status sess_expire(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s)
{
    return sess_end(t, kb, s, s->expires < s->deadline ? CK_END_IDLE : CK_END_LIFETIME,
                    s->expires);
}

/* A user's index entries (dup values), oldest first. */
typedef struct dup_list {
    size_t n;
    unsigned char (*v)[8 + CK_LMDB_SKEY_LEN];
} dup_list;

static ck_status user_dups(ck_lmdb_txn *t, const char *user_id, dup_list *out)
{
    MDB_cursor *cur = NULL;
    MDB_val k = mval(user_id, strlen(user_id)), v;
    size_t count = 0;
    ck_status st = CK_OK;
    int rc = mdb_cursor_open(t->txn, t->e->users, &cur);

    out->n = 0;
    out->v = NULL;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc == 0)
        rc = mdb_cursor_count(cur, &count);
    if (rc != 0)
        goto out;
    out->v = calloc(count, sizeof(*out->v));
    if (!out->v) {
        st = ck_fail(t->st, CK_ERR_NOMEM, "out of memory");
        goto out;
    }
    while (rc == 0 && out->n < count) {
        if (v.mv_size != sizeof(*out->v)) {
            st = ck_fail(t->st, CK_ERR_CORRUPT, "store %s/data.mdb: bad user index entry",
                         t->h->path);
            goto out;
        }
        memcpy(out->v[out->n++], v.mv_data, v.mv_size);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    if (rc != 0 && st == CK_OK)
        st = ck_lmdb_error(t->st, rc, "reading a user index");
    if (st != CK_OK) {
        free(out->v);
        out->v = NULL;
        out->n = 0;
    }
    return st;
}

/*
 * Visits a user's sessions in creation order inside a write txn: index
 * entries without a session are dropped, corrupt records deleted and
 * expired sessions ended. fn sees only live sessions.
 */
typedef ck_status (*live_fn)(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                             void *arg);

static ck_status user_walk(ck_lmdb_txn *t, const char *user_id, live_fn fn, void *arg)
{
    dup_list dl;
    ck_session s;
    ck_status rc = user_dups(t, user_id, &dl);

    for (size_t i = 0; rc == CK_OK && i < dl.n; i++) {
        const unsigned char *kb = dl.v[i] + 8;
        ck_status pol;

        rc = sess_load(t, kb, &s);
        if (rc == CK_NOT_FOUND || rc == CK_ERR_CORRUPT) {
            MDB_val k = mval(kb, CK_LMDB_SKEY_LEN);

            mdb_del(t->txn, t->e->sessions, &k, NULL);
            rc = user_dup_del(t, user_id, dl.v[i]);
            continue;
        }
        if (rc != CK_OK)
            break;
        pol = sess_policy(t->st, &s, t->now);
        rc = pol != CK_OK ? sess_expire(t, kb, &s) : fn(t, kb, &s, arg);
    }
    free(dl.v);
    return rc;
}

/* ---- create ----------------------------------------------------------------- */

typedef struct create_arg {
    const ck_skey *key;
    const ck_session *s;
} create_arg;

typedef struct cap_arg {
    size_t live;            /* live sessions seen so far */
    size_t evict;           /* how many of the oldest to evict */
} cap_arg;

static ck_status cap_count(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                           void *arg)
{
    ((cap_arg *)arg)->live++;
    return CK_OK;
}

static ck_status cap_evict(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                           void *arg)
{
    cap_arg *a = arg;

    if (a->evict == 0)
        return CK_OK;
    a->evict--;
    t->st->evicted++;
    return sess_end(t, kb, s, CK_END_REVOKED, t->now);
}

/* Makes room for one more session under the per-user cap, oldest first. */
static ck_status user_cap(ck_lmdb_txn *t, const char *user_id, size_t max)
{
    cap_arg a = { 0, 0 };
    ck_status rc = user_walk(t, user_id, cap_count, &a);

    if (rc != CK_OK || a.live < max)
        return rc;
    a.evict = a.live - max + 1;
    return user_walk(t, user_id, cap_evict, &a);
}

static ck_status create_fn(ck_lmdb_txn *t, void *arg)
{
    create_arg *a = arg;
    const ck_session *s = a->s;
    unsigned char kb[CK_LMDB_SKEY_LEN], dup[8 + CK_LMDB_SKEY_LEN];
    MDB_val k = mval(s->user_id, strlen(s->user_id)), v = mval(dup, sizeof(dup));
    ck_lmdb_counters *c;
    ck_status rc = CK_OK;
    int mrc;

    skey_bytes(a->key, kb);
    t->st->evicted = 0;     /* a retried transaction counts afresh */
    rc = room_check(t);
    if (rc == CK_OK && t->st->max_per_user > 0)
        rc = user_cap(t, s->user_id, (size_t)t->st->max_per_user);
    if (rc == CK_OK)
        rc = sess_put(t, kb, s, MDB_NOOVERWRITE);
    if (rc != CK_OK)
        return rc;
    user_dup(dup, s->created, kb);
    mrc = mdb_put(t->txn, t->e->users, &k, &v, 0);
    if (mrc != 0)
        return ck_lmdb_error(t->st, mrc, "indexing a session");
    rc = ck_lmdb_counters_get(t, &c);
    if (rc != CK_OK)
        return rc;
    c->created++;
    c->active[s->method]++;
    t->c_dirty = 1;
    return CK_OK;
}

static ck_status lmdb_create(ck_store *st, const ck_skey *key, const ck_session *s)
{
    create_arg a = { key, s };

    return ck_lmdb_run(st, 1, s->created, create_fn, &a);
}

/* ---- touch / get / del ---------------------------------------------------- */

/*
 * A session as a read sees it: loaded, then held to its policy (an expired
 * one is reported, not removed: that needs a write).
 */
static ck_status sess_live(ck_lmdb_txn *t, const ck_skey *key, ck_session *s)
{
    unsigned char kb[CK_LMDB_SKEY_LEN];
    ck_status rc = sess_find(t, key, kb, s);

    return rc == CK_OK ? sess_policy(t->st, s, t->now) : rc;
}

typedef struct sess_arg {
    const ck_skey *key;
    ck_session *out;
    int revoked;        /* del: a revocation rather than a logout */
    int done;           /* touch_read_fn: the answer is complete */
} sess_arg;

static ck_status touch_fn(ck_lmdb_txn *t, void *arg)
{
    sess_arg *a = arg;
    unsigned char kb[CK_LMDB_SKEY_LEN];
    ck_session s;
    ck_status rc, pol;
    int64_t old_expires;

    rc = sess_find(t, a->key, kb, &s);
    if (rc != CK_OK)
        return rc;
    pol = sess_policy(t->st, &s, t->now);
    if (pol != CK_OK) {
        rc = sess_expire(t, kb, &s);
        return rc == CK_OK ? pol : rc;
    }
    rc = room_check_as(t, ROOM_TOUCH);
    if (rc != CK_OK)
        return rc;
    old_expires = s.expires;
    s.last_activity = t->now;
    s.expires = t->now + t->st->inactivity < s.deadline ? t->now + t->st->inactivity
                                                         : s.deadline;
    rc = exp_del(t, old_expires, 's', kb, CK_LMDB_SKEY_LEN);
    if (rc == CK_OK)
        rc = sess_put(t, kb, &s, 0);
    if (rc == CK_OK && a->out)
        *a->out = s;
    return rc;
}

/*
 * A session already touched in this second would be rewritten with the
 * same fields: a read transaction finds that out without a write (and its
 * fsync), so a burst of requests on one session (a page and its assets
 * through auth_request) costs one write per second. a->done = 1 when the
 * answer is complete; anything else goes through the write transaction,
 * which decides again under the writer lock.
 */
static ck_status touch_read_fn(ck_lmdb_txn *t, void *arg)
{
    sess_arg *a = arg;
    ck_session s;

    if (sess_live(t, a->key, &s) != CK_OK || s.last_activity != t->now)
        return CK_OK;
    if (a->out)
        *a->out = s;
    a->done = 1;
    return CK_OK;
}

static ck_status get_fn(ck_lmdb_txn *t, void *arg);

/*
 * A store with no room for the refresh (full map or disk) still answers:
 * from a read, held to the session's policy as stored, so the session
 * lives until the expiry it has (unrefreshed) and ends no later.
 */
static ck_status lmdb_touch(ck_store *st, const ck_skey *key, int64_t now, ck_session *out)
{
    sess_arg a = { key, out, 0, 0 };
    ck_status rc = ck_lmdb_run(st, 0, now, touch_read_fn, &a);

    if (rc == CK_OK && a.done)
        return CK_OK;
    rc = ck_lmdb_run(st, 1, now, touch_fn, &a);
    if (rc == CK_ERR_FULL)
        rc = ck_lmdb_run(st, 0, now, get_fn, &a);
    return rc;
}

static int lmdb_touch_cheap(ck_store *st, const ck_skey *key, int64_t now, ck_session *out,
                            ck_status *rc)
{
    sess_arg a = { key, out, 0, 0 };

    *rc = ck_lmdb_run(st, 0, now, touch_read_fn, &a);
    return *rc == CK_OK && a.done;
}

typedef struct touch_many_arg {
    size_t n;
    const ck_skey *keys;
    ck_session *const *outs;
    ck_status *res;
} touch_many_arg;

/*
 * Every touch of a batch in one write transaction: one writer lock and
 * one commit for all. A failure of one (a full map, a corrupt record)
 * aborts them all, and each is then done on its own.
 */
static ck_status touch_many_fn(ck_lmdb_txn *t, void *arg)
{
    touch_many_arg *m = arg;

    for (size_t i = 0; i < m->n; i++) {
        sess_arg a = { &m->keys[i], m->outs[i], 0, 0 };

        m->res[i] = touch_fn(t, &a);
        if (m->res[i] >= CK_ERR_INVALID)
            return m->res[i];
    }
    return CK_OK;
}

static void lmdb_touch_many(ck_store *st, size_t n, const ck_skey *keys, int64_t now,
                            ck_session *const *outs, ck_status *res)
{
    touch_many_arg m = { n, keys, outs, res };

    if (ck_lmdb_run(st, 1, now, touch_many_fn, &m) == CK_OK)
        return;
    for (size_t i = 0; i < n; i++)
        res[i] = lmdb_touch(st, &keys[i], now, outs[i]);
}

/* Read-only: an expired session is reported, and left for the sweep to count. */
static ck_status get_fn(ck_lmdb_txn *t, void *arg)
{
    sess_arg *a = arg;
    ck_session s;
    ck_status rc = sess_live(t, a->key, &s);

    if (rc == CK_OK && a->out)
        *a->out = s;
    return rc;
}

static ck_status lmdb_get(ck_store *st, const ck_skey *key, int64_t now, ck_session *out)
{
    sess_arg a = { key, out, 0, 0 };

    return ck_lmdb_run(st, 0, now, get_fn, &a);
}

static ck_status del_fn(ck_lmdb_txn *t, void *arg)
{
    sess_arg *a = arg;
    unsigned char kb[CK_LMDB_SKEY_LEN];
    MDB_val k = mval(kb, sizeof(kb));
    ck_session s;
    ck_status rc, pol;

    t->sync = 1;
    rc = sess_find(t, a->key, kb, &s);
    if (rc == CK_NOT_FOUND)
        return CK_OK;
    if (rc == CK_ERR_CORRUPT) {
        /* Unreadable, but the caller wants it gone: drop the record. */
        int mrc = mdb_del(t->txn, t->e->sessions, &k, NULL);

        return mrc ? ck_lmdb_error(t->st, mrc, "deleting a session") : CK_OK;
    }
    if (rc != CK_OK)
        return rc;
    pol = sess_policy(t->st, &s, t->now);
    if (pol != CK_OK)
        return sess_expire(t, kb, &s);
    return sess_end(t, kb, &s, a->revoked ? CK_END_REVOKED : CK_END_LOGOUT, t->now);
}

static ck_status lmdb_del(ck_store *st, const ck_skey *key, int64_t now, int revoked)
{
    sess_arg a = { key, NULL, revoked, 0 };

    return ck_lmdb_run(st, 1, now, del_fn, &a);
}

/* ---- per user ------------------------------------------------------------------ */

typedef struct user_arg {
    const char *user_id;
    size_t count;
    ck_session_list *list;
} user_arg;

static ck_status revoke_one(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                            void *arg)
{
    ((user_arg *)arg)->count++;
    return sess_end(t, kb, s, CK_END_REVOKED, t->now);
}

static ck_status revoke_fn(ck_lmdb_txn *t, void *arg)
{
    user_arg *a = arg;
    MDB_val k = mval(a->user_id, strlen(a->user_id));
    ck_status rc;
    int mrc;

    t->sync = 1;
    rc = user_walk(t, a->user_id, revoke_one, a);
    if (rc != CK_OK)
        return rc;
    mrc = mdb_del(t->txn, t->e->users, &k, NULL);
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return ck_lmdb_error(t->st, mrc, "clearing a user index");
    return CK_OK;
}

static ck_status lmdb_revoke_user(ck_store *st, const char *user_id, int64_t now,
                                  size_t *count)
{
    user_arg a = { user_id, 0, NULL };
    ck_status rc = ck_lmdb_run(st, 1, now, revoke_fn, &a);

    *count = rc == CK_OK ? a.count : 0;
    return rc;
}

/* Read-only: index entries whose session is gone or unreadable are skipped. */
static ck_status list_fn(ck_lmdb_txn *t, void *arg)
{
    user_arg *a = arg;
    ck_session_list *l = a->list;
    dup_list dl;
    ck_status rc = user_dups(t, a->user_id, &dl);

    if (rc != CK_OK || dl.n == 0)
        goto out;
    l->items = calloc(dl.n, sizeof(*l->items));
    if (!l->items) {
        rc = ck_fail(t->st, CK_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < dl.n; i++) {
        ck_session *s = &l->items[l->count];
        ck_status lr = sess_load(t, dl.v[i] + 8, s);

        if (lr == CK_NOT_FOUND || lr == CK_ERR_CORRUPT)
            continue;
        if (lr != CK_OK) {
            rc = lr;
            goto out;
        }
        if (sess_policy(t->st, s, t->now) == CK_OK)
            l->count++;
    }
out:
    free(dl.v);
    if (rc != CK_OK || l->count == 0) {
        free(l->items);
        l->items = NULL;
        l->count = 0;
    }
    return rc;
}

static ck_status lmdb_list_user(ck_store *st, const char *user_id, int64_t now,
                                ck_session_list *out)
{
    user_arg a = { user_id, 0, out };

    out->count = 0;
    out->items = NULL;
    return ck_lmdb_run(st, 0, now, list_fn, &a);
}

/* ---- pending states ---------------------------------------------------------- */

typedef struct state_arg {
    const char *name;
    const void *v;
    size_t len;
    int ttl;
    int take;
    void **out;
    size_t *outlen;
} state_arg;

/* Deletes a state or counter record and its expiry entry. */
static ck_status named_del(ck_lmdb_txn *t, MDB_dbi dbi, char kind, const char *name,
                           int64_t expires)
{
    MDB_val k = mval(name, strlen(name));
    int rc = mdb_del(t->txn, dbi, &k, NULL);

    if (rc && rc != MDB_NOTFOUND)
        return ck_lmdb_error(t->st, rc, "deleting an entry");
    return exp_del(t, expires, kind, name, strlen(name));
}

/* Reads a state or counter: value = be64 expires + rest of at least min bytes. */
static ck_status named_get(ck_lmdb_txn *t, MDB_dbi dbi, const char *name, size_t min,
                           MDB_val *v, int64_t *expires)
{
    MDB_val k = mval(name, strlen(name));
    int rc = mdb_get(t->txn, dbi, &k, v);

    if (rc == MDB_NOTFOUND)
        return CK_NOT_FOUND;
    if (rc != 0)
        return ck_lmdb_error(t->st, rc, "reading an entry");
    if (v->mv_size < 8 + min)
        return ck_fail(t->st, CK_ERR_CORRUPT, "store %s/data.mdb: a %s record is truncated",
                       t->h->path, dbi == t->e->states ? "state" : "counter");
    *expires = ck_be64_get(v->mv_data);
    return CK_OK;
}

/*
 * Before a state or lock entry is written over: drops the expiry entry of
 * the record it replaces. A missing or truncated record has none to drop
 * and is replaced either way.
 */
static ck_status named_unindex(ck_lmdb_txn *t, MDB_dbi dbi, char kind, const char *name)
{
    MDB_val v;
    int64_t old;
    ck_status rc = named_get(t, dbi, name, 0, &v, &old);

    if (rc == CK_OK)
        return exp_del(t, old, kind, name, strlen(name));
    return rc == CK_NOT_FOUND || rc == CK_ERR_CORRUPT ? CK_OK : rc;
}

static ck_status state_put_fn(ck_lmdb_txn *t, void *arg)
{
    state_arg *a = arg;
    MDB_val k = mval(a->name, strlen(a->name)), v;
    int64_t expires = t->now + a->ttl;
    ck_status rc = room_check(t);
    int mrc;

    if (rc == CK_OK)
        rc = named_unindex(t, t->e->states, 'p', a->name);
    if (rc != CK_OK)
        return rc;
    v.mv_size = 8 + a->len;
    mrc = mdb_put(t->txn, t->e->states, &k, &v, MDB_RESERVE);
    if (mrc != 0)
        return ck_lmdb_error(t->st, mrc, "writing a state");
    ck_be64_put(v.mv_data, expires);
    if (a->len)
        memcpy((unsigned char *)v.mv_data + 8, a->v, a->len);
    return exp_add(t, expires, 'p', a->name, strlen(a->name));
}

static ck_status lmdb_state_put(ck_store *st, const char *name, const void *v, size_t len,
                                int ttl, int64_t now)
{
    state_arg a = { name, v, len, ttl, 0, NULL, NULL };

    return ck_lmdb_run(st, 1, now, state_put_fn, &a);
}

static ck_status state_get_fn(ck_lmdb_txn *t, void *arg)
{
    state_arg *a = arg;
    MDB_val v;
    int64_t expires;
    size_t len;
    ck_status rc = named_get(t, t->e->states, a->name, 0, &v, &expires);

    if (rc != CK_OK)
        return rc;
    if (t->now >= expires) {
        if (t->write)
            rc = named_del(t, t->e->states, 'p', a->name, expires);
        return rc == CK_OK ? CK_NOT_FOUND : rc;
    }
    len = v.mv_size - 8;
    *a->out = malloc(len ? len : 1);
    if (!*a->out)
        return ck_fail(t->st, CK_ERR_NOMEM, "out of memory");
    memcpy(*a->out, (unsigned char *)v.mv_data + 8, len);
    *a->outlen = len;
    if (a->take)
        rc = named_del(t, t->e->states, 'p', a->name, expires);
    if (rc != CK_OK) {
        free(*a->out);
        *a->out = NULL;
        *a->outlen = 0;
    }
    return rc;
}

static ck_status lmdb_state_get(ck_store *st, const char *name, int take, int64_t now,
                                void **v, size_t *len)
{
    state_arg a = { name, NULL, 0, 0, take, v, len };
    ck_status rc = ck_lmdb_run(st, take, now, state_get_fn, &a);

    /* A take whose commit failed did not happen: hand nothing out. */
    if (rc != CK_OK) {
        free(*v);
        *v = NULL;
        *len = 0;
    }
    return rc;
}

/* ---- failure counters ------------------------------------------------------- */

typedef struct fail_arg {
    const char *name;
    int window;
    int64_t *count;
} fail_arg;

/*
 * Reads a counter: the end of its window and its count, which is 0 once the
 * window has ended at t->now (and on any error).
 */
static ck_status counter_get(ck_lmdb_txn *t, const char *name, int64_t *end, int64_t *count)
{
    MDB_val v;
    ck_status rc = named_get(t, t->e->fails, name, 8, &v, end);

    *count = 0;
    if (rc == CK_OK && t->now < *end)
        *count = ck_be64_get((unsigned char *)v.mv_data + 8);
    return rc;
}

static ck_status fail_add_fn(ck_lmdb_txn *t, void *arg)
{
    fail_arg *a = arg;
    MDB_val k = mval(a->name, strlen(a->name)), v;
    unsigned char buf[16];
    int64_t end, count = 0;
    ck_status rc = room_check(t);
    int mrc;

    if (rc == CK_OK)
        rc = counter_get(t, a->name, &end, &count);
    if (rc == CK_OK && t->now >= end)
        rc = exp_del(t, end, 'f', a->name, strlen(a->name));   /* the window ended */
    else if (rc == CK_NOT_FOUND || rc == CK_ERR_CORRUPT)
        rc = CK_OK;         /* a fresh window replaces it */
    if (rc != CK_OK)
        return rc;
    if (count == 0) {
        end = t->now + a->window;
        rc = exp_add(t, end, 'f', a->name, strlen(a->name));
        if (rc != CK_OK)
            return rc;
    }
    count++;
    ck_be64_put(buf, end);
    ck_be64_put(buf + 8, count);
    v = mval(buf, sizeof(buf));
    mrc = mdb_put(t->txn, t->e->fails, &k, &v, 0);
    if (mrc != 0)
        return ck_lmdb_error(t->st, mrc, "writing a counter");
    *a->count = count;
    return CK_OK;
}

static ck_status lmdb_fail_add(ck_store *st, const char *name, int window, int64_t now,
                               int64_t *count)
{
    fail_arg a = { name, window, count };

    return ck_lmdb_run(st, 1, now, fail_add_fn, &a);
}

static ck_status fail_count_fn(ck_lmdb_txn *t, void *arg)
{
    fail_arg *a = arg;
    int64_t end;
    ck_status rc = counter_get(t, a->name, &end, a->count);

    return rc == CK_NOT_FOUND ? CK_OK : rc;
}

static ck_status lmdb_fail_count(ck_store *st, const char *name, int64_t now, int64_t *count)
{
    fail_arg a = { name, 0, count };

    return ck_lmdb_run(st, 0, now, fail_count_fn, &a);
}

static ck_status fail_reset_fn(ck_lmdb_txn *t, void *arg)
{
    fail_arg *a = arg;
    MDB_val v;
    int64_t end;
    ck_status rc = named_get(t, t->e->fails, a->name, 0, &v, &end);

    if (rc == CK_NOT_FOUND)
        return CK_OK;
    if (rc == CK_ERR_CORRUPT)
        end = 0;            /* no index entry to find; drop the record */
    else if (rc != CK_OK)
        return rc;
    return named_del(t, t->e->fails, 'f', a->name, end);
}

static ck_status lmdb_fail_reset(ck_store *st, const char *name)
{
    fail_arg a = { name, 0, NULL };

    /* Time plays no part in a reset; the incremental sweep uses the clock. */
    return ck_lmdb_run(st, 1, ck_now(), fail_reset_fn, &a);
}

/* ---- the lock index ------------------------------------------------------------ */

/*
 * An entry is a record of the counters' DB named "ix:" + name, shaped as a
 * counter (be64 end, be64 1) and in the expiry index, so the sweep drops it
 * when it ends; listing is a range over that one prefix.
 */
#define LOCK_PREFIX "ix:"
#define LOCK_PREFIX_LEN 3

typedef struct lock_arg {
    char name[LOCK_PREFIX_LEN + CK_LOCK_NAME_MAX];
    int64_t until;
    ck_lock_list *out;
} lock_arg;

static void lock_key(lock_arg *a, const char *name)
{
    snprintf(a->name, sizeof(a->name), LOCK_PREFIX "%s", name);
}

static ck_status lock_note_fn(ck_lmdb_txn *t, void *arg)
{
    lock_arg *a = arg;
    MDB_val k = mval(a->name, strlen(a->name)), v;
    unsigned char buf[16];
    ck_status rc = room_check(t);
    int mrc;

    if (rc == CK_OK)
        rc = named_unindex(t, t->e->fails, 'f', a->name);
    if (rc == CK_OK)
        rc = exp_add(t, a->until, 'f', a->name, strlen(a->name));
    if (rc != CK_OK)
        return rc;
    ck_be64_put(buf, a->until);
    ck_be64_put(buf + 8, 1);
    v = mval(buf, sizeof(buf));
    mrc = mdb_put(t->txn, t->e->fails, &k, &v, 0);
    return mrc ? ck_lmdb_error(t->st, mrc, "writing a lock index entry") : CK_OK;
}

static ck_status lmdb_lock_note(ck_store *st, const char *name, int64_t until, int64_t now)
{
    lock_arg a;

    lock_key(&a, name);
    a.until = until;
    return ck_lmdb_run(st, 1, now, lock_note_fn, &a);
}

static ck_status lmdb_lock_forget(ck_store *st, const char *name)
{
    lock_arg a;
    fail_arg f = { a.name, 0, NULL };

    lock_key(&a, name);
    return ck_lmdb_run(st, 1, ck_now(), fail_reset_fn, &f);
}

static ck_status lock_push(ck_store *st, ck_lock_list *out, const MDB_val *k, int64_t until)
{
    size_t n = k->mv_size - LOCK_PREFIX_LEN;
    ck_lock_entry *e;

    if (n == 0 || n >= CK_LOCK_NAME_MAX)
        return CK_OK;       /* not one this store wrote: leave it to the sweep */
    if ((out->count & (out->count - 1)) == 0) {
        size_t cap = out->count ? out->count * 2 : 8;
        ck_lock_entry *items = realloc(out->items, cap * sizeof(*items));

        if (!items)
            return ck_fail(st, CK_ERR_NOMEM, "out of memory");
        out->items = items;
    }
    e = &out->items[out->count++];
    memcpy(e->name, (const char *)k->mv_data + LOCK_PREFIX_LEN, n);
    e->name[n] = '\0';
    e->until = until;
    return CK_OK;
}

static ck_status lock_list_fn(ck_lmdb_txn *t, void *arg)
{
    lock_arg *a = arg;
    MDB_cursor *cur = NULL;
    MDB_val k = mval(LOCK_PREFIX, LOCK_PREFIX_LEN), v;
    ck_status rc = CK_OK;
    int mrc = mdb_cursor_open(t->txn, t->e->fails, &cur);

    a->out->count = 0;      /* a second attempt starts afresh */
    if (mrc == 0)
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && rc == CK_OK && a->out->count < CK_LOCK_LIST_MAX &&
           k.mv_size > LOCK_PREFIX_LEN && memcmp(k.mv_data, LOCK_PREFIX, LOCK_PREFIX_LEN) == 0) {
        if (v.mv_size >= 16 && ck_be64_get(v.mv_data) > t->now)
            rc = lock_push(t->st, a->out, &k, ck_be64_get(v.mv_data));
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == CK_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = ck_lmdb_error(t->st, mrc, "listing the lock index");
    return rc;
}

static ck_status lmdb_lock_list(ck_store *st, int64_t now, ck_lock_list *out)
{
    lock_arg a;
    ck_status rc;

    a.out = out;
    rc = ck_lmdb_run(st, 0, now, lock_list_fn, &a);
    if (rc != CK_OK)
        ck_lock_list_free(out);
    return rc;
}

/* ---- sweeping and metrics ------------------------------------------------------ */

/* One expired index entry: remove what it points at if that has expired. */
static ck_status sweep_entry(ck_lmdb_txn *t, const unsigned char *key, size_t klen,
                             size_t *removed)
{
    int64_t expires = ck_be64_get(key);
    const unsigned char *id = key + 9;
    size_t idlen = klen - 9;
    char name[CK_STATE_NAME_MAX + 1];
    ck_session s;
    ck_status rc;
    MDB_dbi dbi;
    MDB_val v;
    int64_t current;

    switch (key[8]) {
    case 's':
        if (idlen != CK_LMDB_SKEY_LEN)
            return CK_OK;
        rc = sess_load(t, id, &s);
        if (rc == CK_ERR_CORRUPT) {
            MDB_val k = mval(id, idlen);

            mdb_del(t->txn, t->e->sessions, &k, NULL);
            return CK_OK;
        }
        if (rc != CK_OK || s.expires != expires)
            return rc == CK_NOT_FOUND ? CK_OK : rc;
        (*removed)++;
        return sess_expire(t, id, &s);
    case 'p':
    case 'f':
        if (idlen == 0 || idlen > CK_STATE_NAME_MAX || memchr(id, '\0', idlen))
            return CK_OK;
        memcpy(name, id, idlen);
        name[idlen] = '\0';
        dbi = key[8] == 'p' ? t->e->states : t->e->fails;
        rc = named_get(t, dbi, name, 0, &v, &current);
        if (rc == CK_NOT_FOUND || (rc == CK_OK && current > t->now))
            return CK_OK;
        if (rc != CK_OK && rc != CK_ERR_CORRUPT)
            return rc;
        (*removed)++;
        return named_del(t, dbi, (char)key[8], name, expires);
    default:
        return CK_OK;
    }
}

/* A session entry that expired under CK_STORE_END_GRACE seconds ago. */
static int recent_end(const ck_lmdb_txn *t, const MDB_val *k)
{
    const unsigned char *p = k->mv_data;

    return k->mv_size >= 9 && p[8] == 's' &&
           ck_be64_get(p) > t->now - CK_STORE_END_GRACE;
}

/*
 * Sessions that ended under CK_STORE_END_GRACE seconds ago are left (see
 * ck_store.h: a touch then still says why it ended); states and counters
 * go as soon as they expire.
 */
ck_status ck_lmdb_sweep_some(ck_lmdb_txn *t, int64_t upto, size_t max, size_t *removed)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    unsigned char key[EXP_KEY_MAX];
    size_t klen, n = 0;
    ck_status rc = CK_OK;
    int mrc = mdb_cursor_open(t->txn, t->e->expiry, &cur);
    MDB_cursor_op op = MDB_FIRST;

    while (mrc == 0 && n < max) {
        mrc = mdb_cursor_get(cur, &k, &v, op);
        if (mrc != 0)
            break;
        if (k.mv_size >= 9 && ck_be64_get(k.mv_data) > upto)
            break;
        if (recent_end(t, &k)) {
            op = MDB_NEXT;
            continue;
        }
        /* Copy: the entry and what it points at are deleted below. */
        klen = k.mv_size < sizeof(key) ? k.mv_size : sizeof(key);
        memcpy(key, k.mv_data, klen);
        mrc = mdb_cursor_del(cur, 0);
        if (mrc != 0)
            break;
        /* sweep_entry may change the index: start again at the oldest left. */
        op = MDB_SET_RANGE;
        k = mval(key, klen);
        if (klen >= 9)
            rc = sweep_entry(t, key, klen, removed);
        if (rc != CK_OK)
            break;
        n++;
    }
    t->sweep_visited = n;
    if (cur)
        mdb_cursor_close(cur);
    if (rc == CK_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = ck_lmdb_error(t->st, mrc, "sweeping");
    return rc;
}

typedef struct sweep_arg {
    size_t max;
    size_t removed;
    size_t visited;
    ck_metrics *out;
} sweep_arg;

static ck_status sweep_fn(ck_lmdb_txn *t, void *arg)
{
    sweep_arg *a = arg;
    ck_status rc = ck_lmdb_sweep_some(t, t->now, a->max, &a->removed);

    t->swept = 1;
    a->visited = t->sweep_visited;
    return rc;
}

/* In batches, so that a large backlog never makes one huge transaction. */
static ck_status lmdb_sweep(ck_store *st, int64_t now, size_t *removed)
{
    sweep_arg a = { SWEEP_BATCH, 0, 0, NULL };
    ck_status rc = CK_OK;

    do {
        a.visited = 0;
        rc = ck_lmdb_run(st, 1, now, sweep_fn, &a);
    } while (rc == CK_OK && a.visited >= SWEEP_BATCH);
    *removed = a.removed;
    return rc;
}

/*
 * Sessions the sweep left (ended under CK_STORE_END_GRACE seconds ago) are
 * reported as ended, the same way sess_expire will count them, without
 * writing anything: the store counts them when it removes them.
 */
static ck_status metrics_recent(ck_lmdb_txn *t, ck_metrics *m)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    ck_session s;
    ck_status rc = CK_OK;
    int mrc = mdb_cursor_open(t->txn, t->e->expiry, &cur);
    MDB_cursor_op op = MDB_FIRST;

    while (mrc == 0 && rc == CK_OK) {
        const unsigned char *p;

        mrc = mdb_cursor_get(cur, &k, &v, op);
        op = MDB_NEXT;
        if (mrc != 0 || k.mv_size < 9 || ck_be64_get(k.mv_data) > t->now)
            break;
        p = k.mv_data;
        if (p[8] != 's' || k.mv_size != 9 + CK_LMDB_SKEY_LEN)
            continue;
        rc = sess_load(t, p + 9, &s);
        if (rc == CK_NOT_FOUND || rc == CK_ERR_CORRUPT) {
            rc = CK_OK;
            continue;
        }
        if (rc != CK_OK || s.expires != (int64_t)ck_be64_get(p) ||
            sess_policy(t->st, &s, t->now) == CK_OK)
            continue;
        m->active_by_method[s.method]--;
        m->active--;
        if (s.expires < s.deadline)
            m->ended_idle++;
        else
            m->ended_lifetime++;
        m->duration_sum += s.expires - s.created;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == CK_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = ck_lmdb_error(t->st, mrc, "reading the expiry index");
    return rc;
}

static ck_status metrics_fn(ck_lmdb_txn *t, void *arg)
{
    sweep_arg *a = arg;
    ck_metrics *m = a->out;
    ck_lmdb_counters *c;
    ck_status rc = ck_lmdb_counters_get(t, &c);

    if (rc != CK_OK)
        return rc;
    m->active = 0;
    for (int i = 0; i < CK_AUTH_METHOD_COUNT; i++) {
        m->active_by_method[i] = c->active[i];
        m->active += c->active[i];
    }
    m->created = c->created;
    m->ended_logout = c->ended[CK_END_LOGOUT];
    m->ended_idle = c->ended[CK_END_IDLE];
    m->ended_lifetime = c->ended[CK_END_LIFETIME];
    m->ended_revoked = c->ended[CK_END_REVOKED];
    m->duration_sum = c->duration_sum;
    return metrics_recent(t, m);
}

/*
 * Sweeps first, so that sessions ended by time passing are counted, then
 * reads the counters and adds the sessions that ended too recently to be
 * swept: no scan of the sessions, only of expired entries.
 */
static ck_status lmdb_metrics(ck_store *st, int64_t now, ck_metrics *out)
{
    sweep_arg a = { 0, 0, 0, out };
    size_t removed;
    ck_status rc = lmdb_sweep(st, now, &removed);

    if (rc != CK_OK)
        return rc;
    return ck_lmdb_run(st, 0, now, metrics_fn, &a);
}

static ck_status ping_fn(ck_lmdb_txn *t, void *arg)
{
    return CK_OK;
}

static ck_status lmdb_ping(ck_store *st)
{
    return ck_lmdb_run(st, 0, 0, ping_fn, NULL);
}

static void lmdb_close(ck_store *st)
{
    ck_lmdb *h = st->impl;

    if (!h)
        return;
    ck_lmdb_handle_close(h);
    free(h->path);
    free(h);
    st->impl = NULL;
}

static const struct ck_backend_ops lmdb_ops = {
    .name = "lmdb",
    .create = lmdb_create,
    .touch = lmdb_touch,
    .touch_many = lmdb_touch_many,
    .touch_cheap = lmdb_touch_cheap,
    .get = lmdb_get,
    .del = lmdb_del,
    .revoke_user = lmdb_revoke_user,
    .list_user = lmdb_list_user,
    .state_put = lmdb_state_put,
    .state_get = lmdb_state_get,
    .fail_add = lmdb_fail_add,
    .fail_count = lmdb_fail_count,
    .fail_reset = lmdb_fail_reset,
    .lock_note = lmdb_lock_note,
    .lock_forget = lmdb_lock_forget,
    .lock_list = lmdb_lock_list,
    .metrics = lmdb_metrics,
    .ping = lmdb_ping,
    .sweep = lmdb_sweep,
    .close = lmdb_close,
    .copy_scan = ck_lmdb_copy_scan,
    .copy_import = ck_lmdb_copy_import,
    .copy_raise = ck_lmdb_copy_raise,
};

/* ---- for lmdb_copy.c (lmdb_internal.h) ------------------------------------ */

ck_status ck_lmdb_room_check(ck_lmdb_txn *t)
{
    return room_check(t);
}

ck_status ck_lmdb_sess_load(ck_lmdb_txn *t, const unsigned char *kb, ck_session *s)
{
    return sess_load(t, kb, s);
}

ck_status ck_lmdb_sess_put(ck_lmdb_txn *t, const unsigned char *kb, const ck_session *s,
                           unsigned flags)
{
    return sess_put(t, kb, s, flags);
}

ck_status ck_lmdb_exp_add(ck_lmdb_txn *t, int64_t expires, char kind, const void *id,
                          size_t idlen)
{
    return exp_add(t, expires, kind, id, idlen);
}

ck_status ck_lmdb_exp_del(ck_lmdb_txn *t, int64_t expires, char kind, const void *id,
                          size_t idlen)
{
    return exp_del(t, expires, kind, id, idlen);
}

ck_status ck_lmdb_user_put(ck_lmdb_txn *t, const char *user_id, int64_t created,
                           const unsigned char *kb)
{
    unsigned char dup[8 + CK_LMDB_SKEY_LEN];
    MDB_val k = mval(user_id, strlen(user_id)), v = mval(dup, sizeof(dup));
    int rc;

    user_dup(dup, created, kb);
    rc = mdb_put(t->txn, t->e->users, &k, &v, 0);
    return rc ? ck_lmdb_error(t->st, rc, "indexing a session") : CK_OK;
}

ck_status ck_lmdb_open(ck_store *st, const ck_config *cfg, const char *path)
{
    ck_lmdb *h;
    ck_status rc;

    if (!path || path[0] != '/')
        return ck_fail(st, CK_ERR_INVALID,
                       "lmdb store path must be absolute (lmdb:/run/checkup)");
    h = calloc(1, sizeof(*h));
    if (h)
        h->path = strdup(path);
    if (!h || !h->path) {
        free(h);
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    }
    /* "lmdb:/run/checkup/" and "lmdb:/run/checkup" are one environment. */
    for (size_t n = strlen(h->path); n > 1 && h->path[n - 1] == '/'; n--)
        h->path[n - 1] = '\0';
    h->map_size = cfg->lmdb_map_size ? cfg->lmdb_map_size : (size_t)256 << 20;
    h->lock_timeout_ms = cfg->command_timeout_ms > 0 ? cfg->command_timeout_ms : 1000;
    st->impl = h;
    st->ops = &lmdb_ops;
    rc = ck_lmdb_handle_open(st, h);
    if (rc != CK_OK) {
        free(h->path);
        free(h);
        st->impl = NULL;
        st->ops = NULL;
    }
    return rc;
}
