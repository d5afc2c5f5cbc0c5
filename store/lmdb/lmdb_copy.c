/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lmdb_copy.c - the embedded store's side of "checkup store copy"
 * (ck_copy.h, copy_* in backend.h): listing sessions, failure counters and
 * lock index entries page by page, and writing them as given when absent
 * or older. A page of imports is one write transaction, so a copy costs
 * one commit per CK_COPY_PAGE entries, not one per session.
 *
 * Cursors: the last key of the page, as hex for a session key (binary),
 * as the name itself for counters and locks (text): the next page starts
 * after it, so pages survive writes made in between.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ck_encode.h"
#include "lmdb_internal.h"

#define LOCK_PREFIX     "ix:"
#define LOCK_PREFIX_LEN 3

static MDB_val mval(const void *p, size_t n)
{
    MDB_val v = { n, (void *)p };

    return v;
}

/* ---- listing ------------------------------------------------------------- */

typedef struct scan_arg {
    int kind;
    char *cursor;
    ck_copy_page *page;
} scan_arg;

static int is_lock(const MDB_val *k)
{
    return k->mv_size > LOCK_PREFIX_LEN &&
           memcmp(k->mv_data, LOCK_PREFIX, LOCK_PREFIX_LEN) == 0;
}

/* A fails record as a page entry; 0 when it is one of kind and still live. */
static int named_entry(const scan_arg *a, const MDB_val *k, const MDB_val *v, int64_t now,
                       ck_copy_entry *e)
{
    size_t skip = a->kind == CK_COPY_LOCKS ? LOCK_PREFIX_LEN : 0;
    size_t n = k->mv_size - skip;

    if ((a->kind == CK_COPY_LOCKS) != is_lock(k) || v->mv_size < 16 || n == 0 ||
        n > CK_STATE_NAME_MAX || memchr((const char *)k->mv_data + skip, '\0', n))
        return -1;
    memset(e, 0, sizeof(*e));
    e->kind = a->kind;
    memcpy(e->name, (const char *)k->mv_data + skip, n);
    e->name[n] = '\0';
    e->end = ck_be64_get(v->mv_data);
    e->count = ck_be64_get((const unsigned char *)v->mv_data + 8);
    return e->end > now ? 0 : -1;
}

/* A session key, tag (old or new, backend.h) then hash; -1 when it is not one. */
static int session_entry(const MDB_val *k, ck_copy_entry *e)
{
    if (k->mv_size != CK_LMDB_SKEY_LEN || ck_tag_index(k->mv_data) < 0)
        return -1;
    memset(e, 0, sizeof(*e));
    e->kind = CK_COPY_SESSIONS;
    e->key.tag[0] = ((const char *)k->mv_data)[0];
    e->key.tag[1] = ((const char *)k->mv_data)[1];
    e->key.tag[2] = '\0';
    memcpy(e->key.hash, (const unsigned char *)k->mv_data + 2, CK_KEY_LEN);
    return 0;
}

/* Where the page starts: after the cursor, or at the kind's first key. */
static int scan_start(scan_arg *a, MDB_cursor *cur, MDB_val *k, MDB_val *v, unsigned char *kb)
{
    size_t n = strlen(a->cursor);
    MDB_val want;
    int rc;

    if (n == 0 && a->kind == CK_COPY_LOCKS) {
        *k = mval(LOCK_PREFIX, LOCK_PREFIX_LEN);
        return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    }
    if (n == 0)
        return mdb_cursor_get(cur, k, v, MDB_FIRST);
    if (a->kind == CK_COPY_SESSIONS) {
        if (n != 2 * CK_LMDB_SKEY_LEN || ck_hex_decode(a->cursor, CK_LMDB_SKEY_LEN, kb) != 0)
            return EINVAL;
        *k = mval(kb, CK_LMDB_SKEY_LEN);
    } else {
        *k = mval(a->cursor, n);
    }
    want = *k;
    rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == 0 && k->mv_size == want.mv_size &&
        memcmp(k->mv_data, want.mv_data, want.mv_size) == 0)
        rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
    return rc;
}

static void cursor_set(scan_arg *a, const MDB_val *k)
{
    if (a->kind == CK_COPY_SESSIONS) {
        ck_hex_encode(k->mv_data, CK_LMDB_SKEY_LEN, a->cursor);
        return;
    }
    memcpy(a->cursor, k->mv_data, k->mv_size);
    a->cursor[k->mv_size] = '\0';
}

static ck_status scan_fn(ck_lmdb_txn *t, void *arg)
{
    scan_arg *a = arg;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    unsigned char kb[CK_LMDB_SKEY_LEN];
    MDB_dbi dbi = a->kind == CK_COPY_SESSIONS ? t->e->sessions : t->e->fails;
    int rc = mdb_cursor_open(t->txn, dbi, &cur);

    a->page->n = 0;
    a->page->done = 0;
    if (rc == 0)
        rc = scan_start(a, cur, &k, &v, kb);
    while (rc == 0 && a->page->n < CK_COPY_PAGE) {
        ck_copy_entry *e = &a->page->items[a->page->n];

        /* Keys longer than a cursor holds are not checkup's: never resumable, skip. */
        if (a->kind == CK_COPY_LOCKS && !is_lock(&k))
            break;
        if (k.mv_size < CK_COPY_CURSOR_MAX && (a->kind == CK_COPY_SESSIONS
                                                   ? session_entry(&k, e) == 0
                                                   : named_entry(a, &k, &v, t->now, e) == 0))
            a->page->n++;
        if (k.mv_size < CK_COPY_CURSOR_MAX && (a->kind == CK_COPY_SESSIONS
                                                   ? k.mv_size == CK_LMDB_SKEY_LEN
                                                   : !memchr(k.mv_data, '\0', k.mv_size)))
            cursor_set(a, &k);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || (rc == 0 && a->kind == CK_COPY_LOCKS && !is_lock(&k))) {
        a->page->done = 1;
        return CK_OK;
    }
    if (rc == EINVAL)
        return ck_fail(t->st, CK_ERR_INVALID, "bad copy cursor");
    return rc ? ck_lmdb_error(t->st, rc, "listing the store") : CK_OK;
}

ck_status ck_lmdb_copy_scan(ck_store *st, int kind, char cursor[CK_COPY_CURSOR_MAX],
                            int64_t now, ck_copy_page *page)
{
    scan_arg a = { kind, cursor, page };

    return ck_lmdb_run(st, 0, now, scan_fn, &a);
}

/* ---- writing ------------------------------------------------------------- */

static int live(const ck_store *st, const ck_session *s, int64_t now)
{
    return now < s->deadline && now < s->expires && now < s->last_activity + st->inactivity;
}

static ck_status import_session(ck_lmdb_txn *t, const ck_copy_entry *e, int *res)
{
    unsigned char kb[CK_LMDB_SKEY_LEN];
    ck_session old;
    ck_lmdb_counters *c;
    ck_status rc;

    kb[0] = (unsigned char)e->key.tag[0];
    kb[1] = (unsigned char)e->key.tag[1];
    memcpy(kb + 2, e->key.hash, CK_KEY_LEN);
    if (!live(t->st, &e->s, t->now)) {
        *res = CK_COPY_ENDED;
        return CK_OK;
    }
    rc = ck_lmdb_sess_load(t, kb, &old);
    if (rc == CK_OK) {
        if (old.last_activity >= e->s.last_activity) {
            *res = CK_COPY_PRESENT;
            return CK_OK;
        }
        *res = CK_COPY_UPDATED;
        rc = ck_lmdb_exp_del(t, old.expires, 's', kb, CK_LMDB_SKEY_LEN);
        return rc == CK_OK ? ck_lmdb_sess_put(t, kb, &e->s, 0) : rc;
    }
    if (rc != CK_NOT_FOUND)
        return rc;
    *res = CK_COPY_ADDED;
    rc = ck_lmdb_sess_put(t, kb, &e->s, MDB_NOOVERWRITE);
    if (rc == CK_OK)
        rc = ck_lmdb_user_put(t, e->s.user_id, e->s.created, kb);
    if (rc == CK_OK)
        rc = ck_lmdb_counters_get(t, &c);
    if (rc != CK_OK)
        return rc;
    c->active[e->s.method]++;
    t->c_dirty = 1;
    return CK_OK;
}

/* A counter ("name") or lock entry ("ix:name"): larger count, later end. */
static ck_status import_named(ck_lmdb_txn *t, const ck_copy_entry *e, int *res)
{
    char key[LOCK_PREFIX_LEN + CK_STATE_NAME_MAX + 1];
    size_t n = 0;
    MDB_val k, v;
    unsigned char buf[16];
    int64_t end = e->end, count = e->kind == CK_COPY_LOCKS ? 1 : e->count;
    int mrc;
    ck_status rc;

    if (e->end <= t->now || count <= 0) {
        *res = CK_COPY_ENDED;
        return CK_OK;
    }
    if (e->kind == CK_COPY_LOCKS) {
        memcpy(key, LOCK_PREFIX, LOCK_PREFIX_LEN);
        n = LOCK_PREFIX_LEN;
    }
    memcpy(key + n, e->name, strlen(e->name));
    n += strlen(e->name);
    k = mval(key, n);
    *res = CK_COPY_ADDED;
    mrc = mdb_get(t->txn, t->e->fails, &k, &v);
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return ck_lmdb_error(t->st, mrc, "reading a counter");
    if (mrc == 0 && v.mv_size >= 16) {
        int64_t oend = ck_be64_get(v.mv_data);
        int64_t ocount = ck_be64_get((const unsigned char *)v.mv_data + 8);

        if (oend > t->now) {
            if (oend >= end && ocount >= count) {
                *res = CK_COPY_PRESENT;
                return CK_OK;
            }
            *res = CK_COPY_UPDATED;
            end = oend > end ? oend : end;
            count = ocount > count ? ocount : count;
        }
        rc = ck_lmdb_exp_del(t, oend, 'f', key, n);
        if (rc != CK_OK)
            return rc;
    }
    ck_be64_put(buf, end);
    ck_be64_put(buf + 8, count);
    v = mval(buf, sizeof(buf));
    mrc = mdb_put(t->txn, t->e->fails, &k, &v, 0);
    if (mrc != 0)
        return ck_lmdb_error(t->st, mrc, "writing a counter");
    return ck_lmdb_exp_add(t, end, 'f', key, n);
}

typedef struct import_arg {
    const ck_copy_entry *e;
    size_t n;
    int *res;
} import_arg;

static ck_status import_fn(ck_lmdb_txn *t, void *arg)
{
    import_arg *a = arg;
    ck_status rc = ck_lmdb_room_check(t);

    for (size_t i = 0; rc == CK_OK && i < a->n; i++) {
        if (a->e[i].kind == CK_COPY_SESSIONS)
            rc = import_session(t, &a->e[i], &a->res[i]);
        else
            rc = import_named(t, &a->e[i], &a->res[i]);
    }
    return rc;
}

/*
 * The whole page in one transaction: on an error nothing of it is
 * written, which ck_copy.h allows (a second run writes it).
 */
ck_status ck_lmdb_copy_import(ck_store *st, const ck_copy_entry *e, size_t n, int64_t now,
                              int *res)
{
    import_arg a = { e, n, res };

    return ck_lmdb_run(st, 1, now, import_fn, &a);
}

static void raise_to(int64_t *v, int64_t to)
{
    if (*v < to)
        *v = to;
}

static ck_status raise_fn(ck_lmdb_txn *t, void *arg)
{
    const ck_metrics *m = arg;
    ck_lmdb_counters *c, before;
    ck_status rc = ck_lmdb_counters_get(t, &c);

    if (rc != CK_OK)
        return rc;
    before = *c;
    raise_to(&c->created, m->created);
    raise_to(&c->ended[CK_END_LOGOUT], m->ended_logout);
    raise_to(&c->ended[CK_END_IDLE], m->ended_idle);
    raise_to(&c->ended[CK_END_LIFETIME], m->ended_lifetime);
    raise_to(&c->ended[CK_END_REVOKED], m->ended_revoked);
    raise_to(&c->duration_sum, m->duration_sum);
    t->c_dirty = memcmp(&before, c, sizeof(before)) != 0;
    return CK_OK;
}

ck_status ck_lmdb_copy_raise(ck_store *st, const ck_metrics *m, int64_t now)
{
    return ck_lmdb_run(st, 1, now, raise_fn, (void *)m);
}
