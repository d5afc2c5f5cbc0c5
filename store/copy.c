/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * copy.c - "checkup store copy" over any two backends (ck_copy.h): the
 * source is listed page by page (copy_scan), each session read with get
 * (so it comes with its true last-use and expiry on every backend), and
 * the target writes what it lacks or holds older (copy_import).
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "ck_clock.h"
#include "ck_copy.h"

static ck_status side_error(ck_store *st, ck_status rc, const char *side, char *err,
                            size_t errlen)
{
    snprintf(err, errlen, "%s store: %s: %s", side, ck_status_str(rc), ck_store_errstr(st));
    return rc;
}

static ck_status check_ops(ck_store *from, ck_store *to, char *err, size_t errlen)
{
    if (!from->ops->copy_scan || !to->ops->copy_import || !to->ops->copy_raise) {
        snprintf(err, errlen, "the %s store cannot be copied to the %s store",
                 from->ops->name, to->ops->name);
        return CK_ERR_INVALID;
    }
    return CK_OK;
}

static void count_result(ck_copy_stats *s, const ck_copy_entry *e, int res)
{
    if (e->kind != CK_COPY_SESSIONS) {
        if (res == CK_COPY_ADDED || res == CK_COPY_UPDATED)
            (*(e->kind == CK_COPY_COUNTERS ? &s->counters : &s->locks))++;
        return;
    }
    switch (res) {
    case CK_COPY_ADDED: s->copied++; break;
    case CK_COPY_UPDATED: s->updated++; break;
    case CK_COPY_ENDED: s->expired++; break;
    default: s->present++; break;
    }
}

/*
 * Reads each session of a page from the source with get, keeping the live
 * ones at the front (ended ones are counted here); returns how many.
 */
static ck_status read_sessions(ck_store *from, ck_copy_page *p, int64_t now, size_t *live,
                               ck_copy_stats *s)
{
    size_t k = 0;

    for (size_t i = 0; i < p->n; i++) {
        ck_copy_entry *e = &p->items[i];
        ck_status rc = from->ops->get(from, &e->key, now, &e->s);

        if (rc == CK_NOT_FOUND || rc == CK_EXPIRED_IDLE || rc == CK_EXPIRED_LIFETIME) {
            s->sessions++;
            s->expired++;
            continue;
        }
        if (rc != CK_OK)
            return rc;
        ck_skey_hex(&e->key, e->s.key_hex);
        if (k != i)
            p->items[k] = *e;
        k++;
    }
    *live = k;
    return CK_OK;
}

/*
 * A failure counter no checkup could have counted to (a store that was
 * tampered with, or not checkup's): the next failure on the target would
 * add one past INT64_MAX and come out negative, which unlocks. Refused.
 */
#define COUNT_MAX INT32_MAX

static ck_status check_counters(ck_store *from, const ck_copy_page *p, char *err,
                                size_t errlen)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].count > COUNT_MAX) {
            snprintf(err, errlen, "source store: failure counter %s: count %lld out of range "
                     "(not written by checkup); remove it there", p->items[i].name,
                     (long long)p->items[i].count);
            return CK_ERR_CORRUPT;
        }
    }
    return CK_OK;
}

static ck_status copy_kind(ck_store *from, ck_store *to, int kind, ck_copy_page *p, int *res,
                           ck_copy_progress_fn progress, void *arg, ck_copy_stats *s,
                           char *err, size_t errlen)
{
    char cursor[CK_COPY_CURSOR_MAX] = "";
    size_t next = CK_COPY_PROGRESS_EVERY;
    ck_status rc;

    do {
        int64_t now = ck_now();
        size_t n = 0;

        rc = from->ops->copy_scan(from, kind, cursor, now, p);
        if (rc == CK_OK && kind == CK_COPY_SESSIONS)
            rc = read_sessions(from, p, now, &n, s);
        else
            n = p->n;
        if (rc != CK_OK)
            return side_error(from, rc, "source", err, errlen);
        if (kind == CK_COPY_COUNTERS && (rc = check_counters(from, p, err, errlen)) != CK_OK)
            return rc;
        rc = to->ops->copy_import(to, p->items, n, now, res);
        if (rc != CK_OK)
            return side_error(to, rc, "target", err, errlen);
        for (size_t i = 0; i < n; i++) {
            s->sessions += kind == CK_COPY_SESSIONS;
            count_result(s, &p->items[i], res[i]);
        }
        while (progress && kind == CK_COPY_SESSIONS && s->sessions >= next) {
            progress(s, 0, arg);
            next += CK_COPY_PROGRESS_EVERY;
        }
    } while (!p->done);
    return CK_OK;
}

/* The lock index is read as "lockout list" reads it: one small set. */
static ck_status copy_locks(ck_store *from, ck_store *to, ck_copy_page *p, int *res,
                            ck_copy_stats *s, char *err, size_t errlen)
{
    ck_lock_list l = { 0, NULL };
    ck_status rc = ck_store_lock_list(from, &l);

    if (rc != CK_OK)
        return side_error(from, rc, "source", err, errlen);
    for (size_t i = 0; rc == CK_OK && i < l.count; i += CK_COPY_PAGE) {
        size_t n = l.count - i < CK_COPY_PAGE ? l.count - i : CK_COPY_PAGE;

        for (size_t j = 0; j < n; j++) {
            memset(&p->items[j], 0, sizeof(p->items[j]));
            p->items[j].kind = CK_COPY_LOCKS;
            snprintf(p->items[j].name, sizeof(p->items[j].name), "%s", l.items[i + j].name);
            p->items[j].end = l.items[i + j].until;
        }
        rc = to->ops->copy_import(to, p->items, n, ck_now(), res);
        if (rc != CK_OK)
            rc = side_error(to, rc, "target", err, errlen);
        for (size_t j = 0; rc == CK_OK && j < n; j++)
            count_result(s, &p->items[j], res[j]);
    }
    ck_lock_list_free(&l);
    return rc;
}

ck_status ck_store_copy(ck_store *from, ck_store *to, ck_copy_progress_fn progress, void *arg,
                        ck_copy_stats *stats, char *err, size_t errlen)
{
    ck_copy_page *p = NULL;
    int *res = NULL;
    ck_metrics m;
    ck_status rc;

    memset(stats, 0, sizeof(*stats));
    err[0] = '\0';
    rc = check_ops(from, to, err, errlen);
    if (rc != CK_OK)
        return rc;
    p = malloc(sizeof(*p));
    res = calloc(CK_COPY_PAGE, sizeof(*res));
    if (!p || !res) {
        snprintf(err, errlen, "out of memory");
        rc = CK_ERR_NOMEM;
        goto out;
    }
    rc = copy_kind(from, to, CK_COPY_SESSIONS, p, res, progress, arg, stats, err, errlen);
    if (rc == CK_OK)
        rc = copy_kind(from, to, CK_COPY_COUNTERS, p, res, NULL, NULL, stats, err, errlen);
    if (rc == CK_OK)
        rc = copy_locks(from, to, p, res, stats, err, errlen);
    /* The counters last: the sessions written above are already active there. */
    if (rc == CK_OK) {
        rc = ck_store_metrics(from, &m);
        if (rc != CK_OK)
            rc = side_error(from, rc, "source", err, errlen);
    }
    if (rc == CK_OK) {
        rc = to->ops->copy_raise(to, &m, ck_now());
        if (rc != CK_OK)
            rc = side_error(to, rc, "target", err, errlen);
    }
    if (rc == CK_OK && progress)
        progress(stats, 1, arg);
out:
    free(p);
    free(res);
    return rc;
}

/* ---- verify -------------------------------------------------------------- */

typedef struct verify_ctx {
    ck_store *from, *to;
    ck_copy_diff_fn diff;
    void *arg;
    size_t n;
    char **users;               /* user ids of the source's live sessions */
    size_t nusers, capusers;
} verify_ctx;

static void differ(verify_ctx *v, const char *what, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void differ(verify_ctx *v, const char *what, const char *name, const char *fmt, ...)
{
    char detail[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    v->n++;
    if (v->diff)
        v->diff(what, name, detail, v->arg);
}

static int same_identity(const ck_session *a, const ck_session *b)
{
    return strcmp(a->user_id, b->user_id) == 0 && strcmp(a->email, b->email) == 0 &&
           strcmp(a->role, b->role) == 0 && strcmp(a->clinic_id, b->clinic_id) == 0 &&
           a->method == b->method && strcmp(a->remote_host, b->remote_host) == 0 &&
           strcmp(a->service, b->service) == 0 && strcmp(a->tty, b->tty) == 0 &&
           strcmp(a->idp_sid, b->idp_sid) == 0 && strcmp(a->user_agent, b->user_agent) == 0;
}

static int note_user(verify_ctx *v, const char *user)
{
    if (v->nusers == v->capusers) {
        size_t cap = v->capusers ? 2 * v->capusers : 64;
        char **u = realloc(v->users, cap * sizeof(*u));

        if (!u)
            return -1;
        v->users = u;
        v->capusers = cap;
    }
    v->users[v->nusers] = strdup(user);
    return v->users[v->nusers++] ? 0 : -1;
}

static void verify_session(verify_ctx *v, const ck_session *a, const ck_session *b)
{
    if (!same_identity(a, b))
        differ(v, "session", a->key_hex, "identity fields differ");
    else if (a->created != b->created || a->deadline != b->deadline)
        differ(v, "session", a->key_hex, "created %lld/%lld, deadline %lld/%lld",
               (long long)a->created, (long long)b->created, (long long)a->deadline,
               (long long)b->deadline);
    else if (b->last_activity < a->last_activity || b->expires < a->expires)
        differ(v, "session", a->key_hex, "last use %lld/%lld, expires %lld/%lld",
               (long long)a->last_activity, (long long)b->last_activity,
               (long long)a->expires, (long long)b->expires);
}

static ck_status verify_sessions(verify_ctx *v, ck_copy_page *p, char *err, size_t errlen)
{
    char cursor[CK_COPY_CURSOR_MAX] = "";
    ck_session b;
    ck_status rc;

    do {
        int64_t now = ck_now();

        rc = v->from->ops->copy_scan(v->from, CK_COPY_SESSIONS, cursor, now, p);
        if (rc != CK_OK)
            return side_error(v->from, rc, "source", err, errlen);
        for (size_t i = 0; i < p->n; i++) {
            ck_copy_entry *e = &p->items[i];

            rc = v->from->ops->get(v->from, &e->key, now, &e->s);
            if (rc == CK_NOT_FOUND || rc == CK_EXPIRED_IDLE || rc == CK_EXPIRED_LIFETIME)
                continue;       /* ended on the source: nothing to compare */
            if (rc != CK_OK)
                return side_error(v->from, rc, "source", err, errlen);
            ck_skey_hex(&e->key, e->s.key_hex);
            if (note_user(v, e->s.user_id) != 0) {
                snprintf(err, errlen, "out of memory");
                return CK_ERR_NOMEM;
            }
            rc = v->to->ops->get(v->to, &e->key, now, &b);
            if (rc == CK_NOT_FOUND || rc == CK_EXPIRED_IDLE || rc == CK_EXPIRED_LIFETIME)
                differ(v, "session", e->s.key_hex, "missing on the target (%s)",
                       ck_status_str(rc));
            else if (rc != CK_OK)
                return side_error(v->to, rc, "target", err, errlen);
            else
                verify_session(v, &e->s, &b);
        }
    } while (!p->done);
    return CK_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_key(const ck_session_list *l, const char *key_hex)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key_hex, key_hex) == 0)
            return 1;
    return 0;
}

/* Every user's index on the target must hold the user's sessions of the source. */
static ck_status verify_users(verify_ctx *v, char *err, size_t errlen)
{
    ck_status rc = CK_OK;

    if (v->nusers)
        qsort(v->users, v->nusers, sizeof(*v->users), cmp_str);
    for (size_t i = 0; rc == CK_OK && i < v->nusers; i++) {
        ck_session_list a = { 0, NULL }, b = { 0, NULL };
        size_t missing = 0;

        if (i > 0 && strcmp(v->users[i], v->users[i - 1]) == 0)
            continue;
        rc = ck_store_list_user(v->from, v->users[i], &a);
        if (rc != CK_OK) {
            rc = side_error(v->from, rc, "source", err, errlen);
            break;
        }
        rc = ck_store_list_user(v->to, v->users[i], &b);
        if (rc != CK_OK)
            rc = side_error(v->to, rc, "target", err, errlen);
        for (size_t j = 0; rc == CK_OK && j < a.count; j++)
            missing += !has_key(&b, a.items[j].key_hex);
        if (missing)
            differ(v, "user", v->users[i], "%zu of %zu sessions missing from the index",
                   missing, a.count);
        ck_session_list_free(&a);
        ck_session_list_free(&b);
    }
    return rc;
}

static ck_status verify_counters(verify_ctx *v, ck_copy_page *p, char *err, size_t errlen)
{
    char cursor[CK_COPY_CURSOR_MAX] = "";
    ck_status rc;

    do {
        rc = v->from->ops->copy_scan(v->from, CK_COPY_COUNTERS, cursor, ck_now(), p);
        if (rc != CK_OK)
            return side_error(v->from, rc, "source", err, errlen);
        for (size_t i = 0; i < p->n; i++) {
            int64_t n = 0;

            rc = ck_store_fail_count(v->to, p->items[i].name, &n);
            if (rc != CK_OK)
                return side_error(v->to, rc, "target", err, errlen);
            if (n < p->items[i].count)
                differ(v, "counter", p->items[i].name, "count %lld on the source, %lld on the target",
                       (long long)p->items[i].count, (long long)n);
        }
    } while (!p->done);
    return CK_OK;
}

static ck_status verify_locks(verify_ctx *v, char *err, size_t errlen)
{
    ck_lock_list a = { 0, NULL }, b = { 0, NULL };
    ck_status rc = ck_store_lock_list(v->from, &a);

    if (rc != CK_OK)
        return side_error(v->from, rc, "source", err, errlen);
    rc = ck_store_lock_list(v->to, &b);
    if (rc != CK_OK)
        rc = side_error(v->to, rc, "target", err, errlen);
    for (size_t i = 0; rc == CK_OK && i < a.count; i++) {
        size_t j = 0;

        while (j < b.count && strcmp(a.items[i].name, b.items[j].name) != 0)
            j++;
        if (j == b.count)
            differ(v, "lock", a.items[i].name, "missing on the target");
        else if (b.items[j].until < a.items[i].until)
            differ(v, "lock", a.items[i].name, "ends earlier on the target");
    }
    ck_lock_list_free(&a);
    ck_lock_list_free(&b);
    return rc;
}

static ck_status verify_metrics(verify_ctx *v, char *err, size_t errlen)
{
    ck_metrics a, b;
    ck_status rc = ck_store_metrics(v->from, &a);

    if (rc != CK_OK)
        return side_error(v->from, rc, "source", err, errlen);
    rc = ck_store_metrics(v->to, &b);
    if (rc != CK_OK)
        return side_error(v->to, rc, "target", err, errlen);
#define CK_CMP(f)                                                                         \
    if (b.f < a.f)                                                                        \
        differ(v, "metrics", #f, "%lld on the source, %lld on the target", (long long)a.f, \
               (long long)b.f)
    CK_CMP(created);
    CK_CMP(ended_logout);
    CK_CMP(ended_idle);
    CK_CMP(ended_lifetime);
    CK_CMP(ended_revoked);
    CK_CMP(duration_sum);
#undef CK_CMP
    return CK_OK;
}

ck_status ck_store_copy_verify(ck_store *from, ck_store *to, ck_copy_diff_fn diff, void *arg,
                               size_t *ndiff, char *err, size_t errlen)
{
    verify_ctx v = { from, to, diff, arg, 0, NULL, 0, 0 };
    ck_copy_page *p = malloc(sizeof(*p));
    ck_status rc;

    err[0] = '\0';
    *ndiff = 0;
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return CK_ERR_NOMEM;
    }
    rc = check_ops(from, from, err, errlen);
    if (rc == CK_OK)
        rc = check_ops(to, to, err, errlen);
    if (rc == CK_OK)
        rc = verify_sessions(&v, p, err, errlen);
    if (rc == CK_OK)
        rc = verify_users(&v, err, errlen);
    if (rc == CK_OK)
        rc = verify_counters(&v, p, err, errlen);
    if (rc == CK_OK)
        rc = verify_locks(&v, err, errlen);
    if (rc == CK_OK)
        rc = verify_metrics(&v, err, errlen);
    for (size_t i = 0; i < v.nusers; i++)
        free(v.users[i]);
    free(v.users);
    free(p);
    *ndiff = v.n;
    return rc;
}

/* ---- naming the same store twice --------------------------------------- */

/* An LMDB path without trailing slashes, resolved when it exists. */
static void lmdb_norm(const char *path, char *out, size_t cap)
{
    char buf[PATH_MAX];
    size_t n;

    snprintf(out, cap, "%s", path);
    n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    if (realpath(out, buf))
        snprintf(out, cap, "%s", buf);
}

/*
 * A Redis URL as scheme-less "host:port/db" plus what follows: the scheme
 * (TLS or not names the same server), user info and the query are dropped;
 * host lowercased; the default port and database filled in.
 */
static void redis_norm(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://"), *at, *end, *host, *slash;
    int sentinel = strstr(url, "+sentinel://") != NULL;
    size_t n = 0, hlen;
    char hostbuf[512];
    const char *port = sentinel ? "26379" : "6379";
    const char *db = "0";

    p = p ? p + 3 : url;
    end = p + strcspn(p, "?#");
    slash = memchr(p, '/', (size_t)(end - p));
    at = memchr(p, '@', (size_t)((slash ? slash : end) - p));
    host = at ? at + 1 : p;
    hlen = (size_t)((slash ? slash : end) - host);
    if (hlen >= sizeof(hostbuf))
        hlen = sizeof(hostbuf) - 1;
    for (size_t i = 0; i < hlen; i++)
        hostbuf[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
    hostbuf[hlen] = '\0';
    if (slash && slash + 1 < end)
        db = slash + 1;
    /* "[::1]:6379", "host:6379", "host": a port after the last ']' */
    {
        const char *rb = strrchr(hostbuf, ']');
        const char *colon = strrchr(rb ? rb : hostbuf, ':');

        n = (size_t)snprintf(out, cap, "%s%s%s%s/", sentinel ? "sentinel:" : "", hostbuf,
                             colon ? "" : ":", colon ? "" : port);
    }
    if (n < cap)
        snprintf(out + n, cap - n, "%.*s", (int)strcspn(db, "?#/"), db);
}

/* st_dev and st_ino of path/name; -1 when it is not there. */
static int file_id(const char *dir, const char *name, struct stat *sb)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s%s", dir, name);
    return stat(path, sb);
}

/*
 * The same directory or the same data.mdb under two names a path cannot
 * show (a bind mount, a hard link): opened twice in one process, LMDB's
 * locks of one handle go when the other is closed.
 */
static int lmdb_same_file(const char *a, const char *b)
{
    static const char *const names[] = { "", "/data.mdb" };
    struct stat sa, sb;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (file_id(a, names[i], &sa) == 0 && file_id(b, names[i], &sb) == 0 &&
            sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
            return 1;
    return 0;
}

int ck_copy_same_store(const char *a, const char *b)
{
    char na[PATH_MAX + 16], nb[PATH_MAX + 16];
    int la = strncmp(a, "lmdb:", 5) == 0, lb = strncmp(b, "lmdb:", 5) == 0;

    if (la != lb)
        return 0;
    if (la) {
        lmdb_norm(a + 5, na, sizeof(na));
        lmdb_norm(b + 5, nb, sizeof(nb));
        if (lmdb_same_file(na, nb))
            return 1;
    } else {
        redis_norm(a, na, sizeof(na));
        redis_norm(b, nb, sizeof(nb));
    }
    return strcmp(na, nb) == 0;
}
