/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_backend.c - the Redis store backend.
 *
 * Every session operation is one EVALSHA of a script from redis_scripts.c
 * (one round trip; scripts are atomic), so the policy in backend.h is
 * applied on the server against "now" from our clock; the one exception
 * is a touch this handle can prove changes nothing but the key's expiry,
 * sent as a plain GETEX (rs_touch). Keys expire at the session's expires
 * by our clock, so Redis drops expired sessions by itself. The key schema,
 * the record format and how metrics avoid KEYS/SCAN are described in
 * redis_scripts.c. Needs Redis 7.0 or later (PEXPIRETIME).
 *
 * Scripts are not loaded up front: the first EVALSHA on a server that does
 * not know a script gets -NOSCRIPT, and we SCRIPT LOAD it and retry once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <openssl/sha.h>

#include "backend.h"
#include "ck_encode.h"
#include "redis_conn.h"
#include "redis_scripts.h"
#include "redis_internal.h"
#include "redis_tags.h"

#define KEY_MAX        1024
#define PREFIX_MAX     128
#define REC_FIELDS     9
#define REC_V1_FIELDS  8     /* records written before user_agent */
#define ARGS_MAX       16

/* The scripts keep per-method counters a0..a2 and check method <= 2. */
_Static_assert(CK_AUTH_METHOD_COUNT == 3, "update the Lua scripts for a new auth method");

/*
 * ---- The fast touch path: read this before changing a touch ------------
 *
 * A keep-alive is the store's hottest operation (every page behind nginx
 * auth_request, every PAM token check), so most touches skip the script.
 * Four facts make that safe; breaking any one of them breaks the store.
 *
 * 1. Minute buckets. A record's "expires" field is not the session's true
 *    expiry but the end of the minute bucket the metrics count it in (bx).
 *    The Redis key itself expires CK_STORE_END_GRACE after the true
 *    expiry, as an absolute time by our clock (PXAT / PEXPIREAT), and
 *    scripts read it back with PEXPIRETIME (minus the grace). So a touch
 *    that keeps the session in the same minute changes nothing but the
 *    key's expiry; and for the grace after its end the record is still
 *    there for a script to report why the session ended.
 * 2. The hint cache. Each handle remembers, for up to 65,536 sessions it
 *    created or touched, bx and the deadline (rs_seen below). A hint only
 *    chooses the path; it never decides an answer.
 * 3. The skip. With inactivity >= 60 s, a hint, now < bx, and a new expiry
 *    that stays in bx's minute and below the deadline (rs_touch), the
 *    touch is one GETEX key PXAT: the session is live (its true expiry is
 *    at or after bx > now; a key past it is left alone, only a script
 *    reads it), GETEX never creates a key, so a session ended by logout,
 *    revocation or expiry cannot come back, and the reply is checked
 *    (touch_direct): a
 *    record in another minute or at its deadline (another host moved it)
 *    sends the script, which settles the session from the server's state.
 * 4. One clock. Keys expire by our absolute time, so hosts' clocks must
 *    agree with each other and a test clock may run ahead of real time but
 *    never behind it.
 *
 * What would break it: a touch that must change more than the key's expiry
 * (a per-touch counter, a field in the record), inactivity under 60 s
 * without the check, or an answer taken from the hint instead of the reply.
 * docs/design.md, "Redis store", has the same picture with the figures.
 */

/*
 * What this handle last learnt of a session: the minute bucket its record
 * counts it in (the record's expires, "bx") and its deadline. Only a hint
 * for choosing the scriptless touch (see rs_touch); never trusted for a
 * decision the server's reply does not confirm. 16 bytes, so that a set
 * of four is one cache line: 8 bytes of the key's hash name it (a false
 * match, 2^-64, would only send the script after a GETEX), bx as unsigned
 * 32-bit epoch seconds, the deadline as an offset from it.
 */
typedef struct rs_seen {
    uint64_t tag;
    uint32_t bx, to_deadline;
} rs_seen;

/*
 * 16,384 sets of 4: 65,536 sessions in 1 MiB, mapped on first use. A
 * checkupd worker sees every session of its users (a round robin over
 * 10,000 sessions thrashed the former 8,192 and sent nearly every touch
 * to the script); the map is anonymous, so a process that touches a few
 * sessions (a PAM login) only makes the pages it writes resident. The
 * oldest of a set goes.
 */
#define SEEN_SETS 16384
#define SEEN_WAYS 4

typedef struct rs_impl {
    ck_redis *r;
    char prefix[PREFIX_MAX];
    char sprefix[PREFIX_MAX + 8];       /* "P s:{" */
    size_t sprefix_len;
    char sha[CK_SCRIPT_COUNT][SHA_DIGEST_LENGTH * 2 + 1];
    rs_seen *seen;
    struct rs_batch_item *batch;    /* CK_STORE_BATCH_MAX, allocated on the first batch */
    int wait_n;                 /* [store] wait_replicas, resolved; 0 = never WAIT */
    int wait_ms;                /* [store] wait_timeout_ms */
    unsigned long last_serial;  /* the connection the last command went over */
    int64_t wait_failed_ms;     /* monotonic time of the last unconfirmed WAIT, or 0 */
} rs_impl;

/* The arguments of one command. */
typedef struct rs_args {
    int n;
    const char *v[ARGS_MAX];
    size_t len[ARGS_MAX];
    char num[ARGS_MAX][24];
} rs_args;

static void arg_buf(rs_args *a, const void *p, size_t len)
{
    if (a->n >= ARGS_MAX)
        abort();        /* a programming error: every call site is fixed */
    a->v[a->n] = p;
    a->len[a->n] = len;
    a->n++;
}

static void arg_str(rs_args *a, const char *s)
{
    arg_buf(a, s, strlen(s));
}

/* Decimal by hand: snprintf was a visible part of a touch's client time. */
static void arg_int(rs_args *a, int64_t v)
{
    char tmp[24], *out;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, len;

    if (a->n >= ARGS_MAX)
        abort();
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[n++] = '-';
    out = a->num[a->n];
    for (len = 0; len < n; len++)
        out[len] = tmp[n - 1 - len];
    arg_buf(a, out, len);
}

static rs_impl *impl(ck_store *st)
{
    return st->impl;
}

/* ---- sessions this handle has seen --------------------------------------- */

/* The set of a key and its tag: the hash is uniform, any bytes will do. */
static rs_seen *seen_set(rs_impl *ri, const ck_skey *key, uint64_t *tag)
{
    uint32_t h;

    memcpy(&h, key->hash, sizeof(h));
    memcpy(tag, key->hash + 8, sizeof(*tag));
    *tag |= 1;          /* never 0, the mark of an empty slot */
    return ri->seen ? &ri->seen[(h % SEEN_SETS) * SEEN_WAYS] : NULL;
}

static rs_seen *seen_find(rs_impl *ri, const ck_skey *key)
{
    uint64_t tag;
    rs_seen *set = seen_set(ri, key, &tag);

    for (int i = 0; set && i < SEEN_WAYS; i++)
        if (set[i].tag == tag)
            return &set[i];
    return NULL;
}

static void seen_put(rs_impl *ri, const ck_skey *key, int64_t bx, int64_t deadline)
{
    rs_seen *e = seen_find(ri, key), *set;
    uint64_t tag;

    if (bx < 0 || bx > UINT32_MAX || deadline < bx || deadline - bx > UINT32_MAX) {
        if (e)
            memset(e, 0, sizeof(*e));
        return;
    }
    if (!e) {
        if (!ri->seen) {
            size_t size = (size_t)SEEN_SETS * SEEN_WAYS * sizeof(*ri->seen);

            /* zeroed, page (so cache line) aligned: a set per line */
            void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);

            if (m == MAP_FAILED)
                return;
            ri->seen = m;
        }
        set = seen_set(ri, key, &tag);
        if (!set)
            return;
        /* the newest first: shift the set and take the front */
        memmove(set + 1, set, (SEEN_WAYS - 1) * sizeof(*set));
        e = set;
        e->tag = tag;
    }
    e->bx = (uint32_t)bx;
    e->to_deadline = (uint32_t)(deadline - bx);
}

static void seen_drop(rs_impl *ri, const ck_skey *key)
{
    rs_seen *e = seen_find(ri, key);

    if (e)
        memset(e, 0, sizeof(*e));
}

/* The minute bucket of the session's expiry: the same rule as the scripts. */
static int same_bucket(int64_t a, int64_t b, int64_t deadline)
{
    int64_t ma = a / 60, mb = b / 60;   /* times are positive: / is floor */

    return ma == mb && (a >= deadline) == (b >= deadline);
}

/* ---- encoding helpers ---------------------------------------------------- */

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Field i of a session, with its capacity. */
static char *rec_field(ck_session *s, int i, size_t *max)
{
    switch (i) {
    case 0: *max = sizeof(s->user_id); return s->user_id;
    case 1: *max = sizeof(s->email); return s->email;
    case 2: *max = sizeof(s->role); return s->role;
    case 3: *max = sizeof(s->clinic_id); return s->clinic_id;
    case 4: *max = sizeof(s->remote_host); return s->remote_host;
    case 5: *max = sizeof(s->service); return s->service;
    case 6: *max = sizeof(s->tty); return s->tty;
    case 7: *max = sizeof(s->idp_sid); return s->idp_sid;
    default: *max = sizeof(s->user_agent); return s->user_agent;
    }
}

/* Encodes a session record; returns its length or 0 when it cannot be. */
static size_t rec_encode(const ck_session *s, unsigned char *buf, size_t cap)
{
    size_t len = CK_REDIS_REC_HDR;
    int64_t la = s->last_activity - s->created, ex = s->expires - s->created;
    int64_t dl = s->deadline - s->created;

    if (la < 0 || ex < 0 || dl < 0 || dl > UINT32_MAX || la > dl || ex > dl)
        return 0;
    buf[0] = 1;
    buf[1] = (unsigned char)s->method;
    put_le(buf + 2, (uint64_t)s->created, 8);
    put_le(buf + 10, (uint64_t)la, 4);
    put_le(buf + 14, (uint64_t)ex, 4);
    put_le(buf + 18, (uint64_t)dl, 4);
    for (int i = 0; i < REC_FIELDS; i++) {
        size_t max, n;
        const char *f = rec_field((ck_session *)s, i, &max);

        n = strnlen(f, max);
        if (len + n + 1 > cap)
            return 0;
        if (i > 0)
            buf[len++] = '\0';
        memcpy(buf + len, f, n);
        len += n;
    }
    return len;
}

static size_t count_nul(const char *p, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += p[i] == '\0';
    return n;
}

/* Decodes a record into *s (key_hex left alone); -1 when malformed. */
static int rec_decode(const char *rec, size_t len, ck_session *s)
{
    const unsigned char *p = (const unsigned char *)rec;
    size_t off = CK_REDIS_REC_HDR;
    int nfields = REC_V1_FIELDS;

    if (len < CK_REDIS_REC_HDR + REC_V1_FIELDS - 1 || p[0] != 1 ||
        p[1] >= CK_AUTH_METHOD_COUNT)
        return -1;
    /* Eight text fields (seven NULs) before user_agent existed, nine since. */
    if (count_nul(rec + off, len - off) == REC_FIELDS - 1)
        nfields = REC_FIELDS;
    s->user_agent[0] = '\0';
    s->method = (ck_auth_method)p[1];
    s->created = (int64_t)get_le(p + 2, 8);
    s->last_activity = s->created + (int64_t)get_le(p + 10, 4);
    s->expires = s->created + (int64_t)get_le(p + 14, 4);
    s->deadline = s->created + (int64_t)get_le(p + 18, 4);
    for (int i = 0; i < nfields; i++) {
        size_t max, n;
        char *f = rec_field(s, i, &max);
        const char *end = memchr(rec + off, '\0', len - off);

        n = end ? (size_t)(end - (rec + off)) : len - off;
        if ((end != NULL) != (i < nfields - 1) || n >= max)
            return -1;
        memcpy(f, rec + off, n);
        f[n] = '\0';
        off += n + 1;
    }
    return s->user_id[0] ? 0 : -1;
}

/* ---- keys ---------------------------------------------------------------- */

/*
 * "P s:{b}" then the 32 raw bytes of the hash, where b is the tag's text
 * between braces (redis_tags.h: "3f" for an old tag, 1 to 3 characters
 * for a new one): binary, so its length is returned. Raw rather than
 * base64url keeps the key in a smaller allocator size class and the index
 * members short (see redis_scripts.c).
 */
static size_t key_session(ck_store *st, const ck_skey *k, char *out)
{
    const rs_impl *ri = impl(st);
    size_t n = ri->sprefix_len;

    memcpy(out, ri->sprefix, n);
    n += ck_rs_tag_braces(k->tag, out + n);
    out[n++] = '}';
    memcpy(out + n, k->hash, CK_KEY_LEN);
    return n + CK_KEY_LEN;
}

/* "P <kind>:{b}" followed by rest, b the tag's text between braces. */
static void key_tag(ck_store *st, const char *kind, const char *tag, const char *rest,
                    char *out)
{
    char b[CK_RS_BRACES_MAX + 1];

    ck_rs_tag_braces(tag, b);
    snprintf(out, KEY_MAX, "%s%s:{%s}%s", impl(st)->prefix, kind, b, rest);
}

/*
 * The keys of one tag's slot that the create, touch/delete and per-user
 * scripts all name: the user index (user_rest: a user id, or "" for the
 * prefix the scripts complete), the metrics hash and zset, and the prefix
 * of the slot's sessions. Built in one place so the scripts cannot be
 * handed keys spelled two ways.
 */
typedef struct tag_keys {
    char user[KEY_MAX];
    char metrics[KEY_MAX];
    char metrics_z[KEY_MAX];
    char sessions[KEY_MAX];
} tag_keys;

static void key_tag_all(ck_store *st, const char *tag, const char *user_rest, tag_keys *k)
{
    key_tag(st, "u", tag, user_rest, k->user);
    key_tag(st, "m", tag, "", k->metrics);
    key_tag(st, "mz", tag, "", k->metrics_z);
    key_tag(st, "s", tag, "", k->sessions);
}

/* ---- commands ------------------------------------------------------------ */

static int reply_is_err(const redisReply *rep, const char *code)
{
    return rep->type == REDIS_REPLY_ERROR && rep->str &&
           strncmp(rep->str, code, strlen(code)) == 0;
}

/* Maps an error reply to a status, keeping the server's text in errstr. */
static ck_status reply_error(ck_store *st, const redisReply *rep)
{
    const char *msg = rep->str ? rep->str : "";
    const char *peer = ck_redis_peer(impl(st)->r);

    if (strstr(msg, "WRONGTYPE") || strncmp(msg, "CORRUPT", 7) == 0)
        return ck_fail(st, CK_ERR_CORRUPT, "redis %s: a key holds data checkup did not write (%.200s)",
                       peer, msg);
    /* noeviction at maxmemory: what grows is refused, deletes still work. */
    if (strncmp(msg, "OOM", 3) == 0)
        return ck_fail(st, CK_ERR_FULL, "store full (redis %s reached maxmemory: %.200s)",
                       peer, msg);
    if (strncmp(msg, "LOADING", 7) == 0 ||
        strncmp(msg, "READONLY", 8) == 0 || strncmp(msg, "MASTERDOWN", 10) == 0 ||
        strncmp(msg, "BUSY", 4) == 0 || strncmp(msg, "TRYAGAIN", 8) == 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "redis %s: %.200s", peer, msg);
    return ck_fail(st, CK_ERR_INTERNAL, "redis %s: %.200s", peer, msg);
}

/* One command; an error reply is mapped unless the caller wants it raw. */
static ck_status rs_command(ck_store *st, rs_args *a, redisReply **rep)
{
    rs_impl *ri = impl(st);

    *rep = NULL;
    if (ck_redis_command(ri->r, a->n, a->v, a->len, rep) != 0) {
        *rep = NULL;
        return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(ri->r));
    }
    ri->last_serial = ck_redis_serial(ri->r);
    if (!*rep)
        return ck_fail(st, CK_ERR_CORRUPT, "redis %s: no reply", ck_redis_peer(ri->r));
    return CK_OK;
}

/* rs_command, with an error reply turned into the store's error. */
static ck_status rs_call(ck_store *st, rs_args *a, redisReply **rep)
{
    ck_status rc = rs_command(st, a, rep);

    if (rc != CK_OK || (*rep)->type != REDIS_REPLY_ERROR)
        return rc;
    rc = reply_error(st, *rep);
    freeReplyObject(*rep);
    *rep = NULL;
    /* Never OK here: a caller reads *rep whenever the status is OK. */
    return rc != CK_OK ? rc : CK_ERR_INTERNAL;
}

static ck_status script_load(ck_store *st, int script)
{
    rs_args a = { 0 };
    redisReply *rep;
    ck_status rc;

    arg_str(&a, "SCRIPT");
    arg_str(&a, "LOAD");
    arg_str(&a, ck_redis_script_src[script]);
    rc = rs_command(st, &a, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type == REDIS_REPLY_ERROR)
        rc = reply_error(st, rep);
    else if (rep->type != REDIS_REPLY_STRING || strcmp(rep->str, impl(st)->sha[script]) != 0)
        rc = ck_fail(st, CK_ERR_CORRUPT, "redis %s: SCRIPT LOAD returned an unexpected digest",
                     ck_redis_peer(impl(st)->r));
    freeReplyObject(rep);
    return rc;
}

/* Starts an EVALSHA argument list: the caller appends keys then args. */
static void eval_begin(ck_store *st, rs_args *a, int script, int nkeys)
{
    a->n = 0;
    arg_str(a, "EVALSHA");
    arg_str(a, impl(st)->sha[script]);
    arg_int(a, nkeys);
}

/*
 * Runs a prepared EVALSHA, loading the script and retrying once on
 * -NOSCRIPT (a restarted or flushed server). Any other error reply is
 * mapped to a status; *rep is set only on CK_OK.
 */
static ck_status rs_eval(ck_store *st, int script, rs_args *a, redisReply **rep)
{
    ck_status rc;

    for (int attempt = 0; attempt < 2; attempt++) {
        rc = rs_command(st, a, rep);
        if (rc != CK_OK)
            return rc;
        if (!reply_is_err(*rep, "NOSCRIPT") || attempt == 1)
            break;
        freeReplyObject(*rep);
        *rep = NULL;
        rc = script_load(st, script);
        if (rc != CK_OK)
            return rc;
    }
    if ((*rep)->type == REDIS_REPLY_ERROR) {
        rc = reply_error(st, *rep);
        freeReplyObject(*rep);
        *rep = NULL;
        /* Callers read *rep on CK_OK: never return that without one. */
        return rc != CK_OK ? rc : CK_ERR_INTERNAL;
    }
    return CK_OK;
}

static ck_status wrong_shape(ck_store *st, redisReply *rep, const char *what)
{
    if (rep)
        freeReplyObject(rep);
    return ck_fail(st, CK_ERR_CORRUPT, "redis %s: unexpected reply to %s",
                   ck_redis_peer(impl(st)->r), what);
}

/* ---- durability: WAIT for the replicas ---------------------------------- */

static void replies_free(redisReply **rep, size_t n);

/*
 * Why: a Sentinel failover promotes a replica, and a replica a few
 * milliseconds behind loses what it had not received. A logout answered
 * before it reached a replica comes back with the promoted one. WAIT n t
 * blocks this client until n replicas acknowledged every write it made, or
 * t ms passed, and answers how many did. It goes after the write in the
 * same pipeline (one round trip, one connection: on another connection
 * WAIT would vouch for nothing), never before it. Anything but an integer
 * of at least n is CK_ERR_NOT_DURABLE, never success.
 */
static ck_status wait_check(ck_store *st, const redisReply *rep, const char *what)
{
    const rs_impl *ri = impl(st);
    const char *peer = ck_redis_peer(ri->r);

    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer >= ri->wait_n)
        return CK_OK;
    if (rep && rep->type == REDIS_REPLY_INTEGER)
        return ck_fail(st, CK_ERR_NOT_DURABLE,
                       "redis %s: %lld of %d replicas confirmed the %s within %d ms: "
                       "the %s may not survive a failover", peer, rep->integer, ri->wait_n,
                       what, ri->wait_ms, what);
    return ck_fail(st, CK_ERR_NOT_DURABLE,
                   "redis %s: WAIT failed (%.120s): the %s may not survive a failover", peer,
                   rep && rep->type == REDIS_REPLY_ERROR && rep->str ? rep->str
                   : "unexpected reply", what);
}

/*
 * After a WAIT that was not confirmed, the next WAIT_RETRY_MS of changes
 * on this handle are sent without WAIT and reported not confirmed at once:
 * a primary left without its replica (after a failover, say) would
 * otherwise hold every login and logout for wait_timeout_ms, and a
 * daemon's workers with them, starving the keep-alives queued behind.
 * Then one change waits again, and a success ends the shortcut.
 */
#define WAIT_RETRY_MS 1000

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_skipped(const rs_impl *ri)
{
    return ri->wait_failed_ms && mono_ms() - ri->wait_failed_ms < WAIT_RETRY_MS;
}

static ck_status wait_skip_fail(ck_store *st, const char *what)
{
    return ck_fail(st, CK_ERR_NOT_DURABLE,
                   "redis %s: no replica confirmed a change in the last %d ms: the %s "
                   "may not survive a failover", ck_redis_peer(impl(st)->r), WAIT_RETRY_MS,
                   what);
}

static void wait_note(rs_impl *ri, ck_status rc)
{
    ri->wait_failed_ms = rc == CK_ERR_NOT_DURABLE ? mono_ms() : 0;
}

static void wait_args(ck_store *st, rs_args *w)
{
    w->n = 0;
    arg_str(w, "WAIT");
    arg_int(w, impl(st)->wait_n);
    arg_int(w, impl(st)->wait_ms);
}

/* The pipeline [a, WAIT]; the command timeout is stretched by the WAIT's own. */
static ck_status eval_wait_send(ck_store *st, rs_args *a, redisReply *reps[2])
{
    rs_impl *ri = impl(st);
    rs_args w;
    int argc[2];
    const char **argv[2];
    const size_t *lens[2];

    wait_args(st, &w);
    argc[0] = a->n;
    argv[0] = a->v;
    lens[0] = a->len;
    argc[1] = w.n;
    argv[1] = w.v;
    lens[1] = w.len;
    if (ck_redis_pipeline_ext(ri->r, 2, argc, argv, lens, reps, ri->wait_ms) != 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(ri->r));
    ri->last_serial = ck_redis_serial(ri->r);
    if (!reps[0] || !reps[1])
        return ck_fail(st, CK_ERR_CORRUPT, "redis %s: no reply", ck_redis_peer(ri->r));
    return CK_OK;
}

/*
 * rs_eval for a write that must reach wait_n replicas before it is
 * answered (what names it in the message: "logout", "login", ...).
 * *rep is set on CK_OK only; on CK_ERR_NOT_DURABLE the write was done on
 * the primary and the caller decides what that means.
 */
static ck_status rs_eval_durable(ck_store *st, int script, rs_args *a, const char *what,
                                 redisReply **rep)
{
    redisReply *reps[2] = { NULL, NULL };
    ck_status rc;

    *rep = NULL;
    if (impl(st)->wait_n <= 0)
        return rs_eval(st, script, a, rep);
    if (wait_skipped(impl(st))) {
        rc = rs_eval(st, script, a, rep);
        if (rc != CK_OK)
            return rc;
        freeReplyObject(*rep);
        *rep = NULL;
        return wait_skip_fail(st, what);
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = eval_wait_send(st, a, reps);
        if (rc != CK_OK)
            goto out;
        if (!reply_is_err(reps[0], "NOSCRIPT") || attempt == 1)
            break;
        replies_free(reps, 2);
        rc = script_load(st, script);
        if (rc != CK_OK)
            goto out;
    }
    if (reps[0]->type == REDIS_REPLY_ERROR) {
        rc = reply_error(st, reps[0]);
        if (rc == CK_OK)
            rc = CK_ERR_INTERNAL;
        goto out;
    }
    rc = wait_check(st, reps[1], what);
    wait_note(impl(st), rc);
    if (rc == CK_OK) {
        *rep = reps[0];
        reps[0] = NULL;
    }
out:
    replies_free(reps, 2);
    return rc;
}

/* A WAIT of its own, after a change made of several commands. */
static ck_status rs_wait_replicas(ck_store *st, const char *what)
{
    rs_impl *ri = impl(st);
    unsigned long serial = ri->last_serial;
    rs_args w;
    const char **argv[1];
    const size_t *lens[1];
    redisReply *rep = NULL;
    ck_status rc;

    if (ri->wait_n <= 0 || serial == 0)
        return CK_OK;       /* nothing asked for, or nothing written yet */
    if (wait_skipped(ri))
        return wait_skip_fail(st, what);
    wait_args(st, &w);
    argv[0] = w.v;
    lens[0] = w.len;
    if (ck_redis_pipeline_ext(ri->r, 1, &w.n, argv, lens, &rep, ri->wait_ms) != 0)
        return ck_fail(st, CK_ERR_NOT_DURABLE, "%s: the %s may not survive a failover",
                       ck_redis_errstr(ri->r), what);
    ri->last_serial = ck_redis_serial(ri->r);
    if (ri->last_serial != serial)
        rc = ck_fail(st, CK_ERR_NOT_DURABLE, "redis %s: reconnected before WAIT: the %s "
                     "may not survive a failover", ck_redis_peer(ri->r), what);
    else
        rc = wait_check(st, rep, what);
    freeReplyObject(rep);
    wait_note(ri, rc);
    return rc;
}

/* ---- sessions ------------------------------------------------------------ */

static ck_status session_script(ck_store *st, int script, const ck_skey *key, int64_t now,
                                const char *mode, const char *what, redisReply **rep);

/*
 * A login the replicas did not confirm is refused: its session must not
 * turn up later, so it is deleted now (best effort, without waiting, as a
 * revocation in the metrics). The status stays CK_ERR_NOT_DURABLE with
 * its message, whatever the delete does.
 */
static ck_status create_undo(ck_store *st, const ck_skey *key, int64_t now)
{
    char msg[sizeof(st->errstr)];
    redisReply *rep = NULL;

    memcpy(msg, st->errstr, sizeof(msg));
    if (session_script(st, CK_SCRIPT_DELETE, key, now, "rv", NULL, &rep) == CK_OK)
        freeReplyObject(rep);
    seen_drop(impl(st), key);
    memcpy(st->errstr, msg, sizeof(msg));
    return CK_ERR_NOT_DURABLE;
}

static ck_status rs_create(ck_store *st, const ck_skey *key, const ck_session *s)
{
    unsigned char rec[CK_REDIS_REC_HDR + 2048];
    char sk[KEY_MAX];
    tag_keys tk;
    size_t sklen;
    size_t len = rec_encode(s, rec, sizeof(rec));
    rs_args a;
    redisReply *rep;
    ck_status rc;

    if (len == 0)
        return ck_fail(st, CK_ERR_INVALID, "session times out of range");
    sklen = key_session(st, key, sk);
    key_tag_all(st, key->tag, s->user_id, &tk);
    eval_begin(st, &a, CK_SCRIPT_CREATE, 4);
    arg_buf(&a, sk, sklen);
    arg_str(&a, tk.user);
    arg_str(&a, tk.metrics);
    arg_str(&a, tk.metrics_z);
    arg_int(&a, s->created);
    arg_buf(&a, rec, len);
    arg_buf(&a, key->hash, CK_KEY_LEN);
    arg_int(&a, st->max_per_user);
    arg_str(&a, tk.sessions);
    arg_int(&a, st->inactivity);
    rc = rs_eval_durable(st, CK_SCRIPT_CREATE, &a, "login", &rep);
    if (rc == CK_ERR_NOT_DURABLE)
        return create_undo(st, key, s->created);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0)
        return wrong_shape(st, rep, "create");
    st->evicted = (size_t)rep->integer;
    freeReplyObject(rep);
    seen_put(impl(st), key, s->expires, s->deadline);
    return CK_OK;
}

/* Decodes a record reply into *out; key_hex is set from the key. */
static ck_status reply_session(ck_store *st, const ck_skey *key, redisReply *rep,
                               ck_session *out)
{
    int bad;

    memset(out, 0, sizeof(*out));
    bad = rec_decode(rep->str, rep->len, out) != 0;
    freeReplyObject(rep);
    if (bad) {
        memset(out, 0, sizeof(*out));
        return ck_fail(st, CK_ERR_CORRUPT, "redis %s: malformed session record",
                       ck_redis_peer(impl(st)->r));
    }
    ck_skey_hex(key, out->key_hex);
    return CK_OK;
}

/* What a touch at now makes of a session's expiry. */
static int64_t refreshed(const ck_store *st, int64_t now, int64_t deadline)
{
    return now + st->inactivity < deadline ? now + st->inactivity : deadline;
}

/*
 * Runs the touch or delete script on one session: both take the session
 * key, its tag's metrics hash and zset and the user index prefix, then
 * now, the inactivity timeout, a mode word and the key's hash. what is
 * NULL (a touch, a get) or names a write the replicas must confirm.
 */
/* The arguments of session_script, in a, pointing into sk and tk. */
static void session_args(ck_store *st, int script, const ck_skey *key, int64_t now,
                         const char *mode, rs_args *a, char *sk, tag_keys *tk)
{
    size_t sklen = key_session(st, key, sk);

    key_tag_all(st, key->tag, "", tk);
    eval_begin(st, a, script, 3);
    arg_buf(a, sk, sklen);
    arg_str(a, tk->metrics);
    arg_str(a, tk->metrics_z);
    arg_int(a, now);
    arg_int(a, st->inactivity);
    arg_str(a, mode);
    arg_str(a, tk->user);
    arg_buf(a, key->hash, CK_KEY_LEN);
}

static ck_status session_script(ck_store *st, int script, const ck_skey *key, int64_t now,
                                const char *mode, const char *what, redisReply **rep)
{
    char sk[KEY_MAX];
    tag_keys tk;
    rs_args a;

    session_args(st, script, key, now, mode, &a, sk, &tk);
    /* what: the change must reach the replicas before it is answered */
    if (what)
        return rs_eval_durable(st, script, &a, what, rep);
    return rs_eval(st, script, &a, rep);
}

/*
 * The touch script's answer from a full Redis, {record, 1}: it moved only
 * the key's expiry, so the session is answered and lives on, and its
 * move to another minute's metrics bucket is lost (redis_scripts.c).
 */
static ck_status touch_full(ck_store *st, const ck_skey *key, int64_t now, redisReply *rep,
                            ck_session *out)
{
    redisReply *rec;
    ck_status rc;

    if (rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_INTEGER)
        return wrong_shape(st, rep, "touch");
    rec = rep->element[0];
    rep->element[0] = NULL;
    freeReplyObject(rep);
    rc = reply_session(st, key, rec, out);
    if (rc != CK_OK)
        return rc;
    ck_store_metrics_lost_add();
    /* The record still names its old bucket: no direct touch on a stale hint. */
    seen_drop(impl(st), key);
    out->last_activity = now;
    out->expires = refreshed(st, now, out->deadline);
    return CK_OK;
}

/*
 * Shared by touch (refresh = 1) and get (refresh = 0): the touch script.
 * For touch it returns the record as it was (its expires is the bucket),
 * and the caller applies the same refresh as the script; for get, the
 * record with its true last_activity and expires.
 */
static ck_status lookup_reply(ck_store *st, const ck_skey *key, int64_t now, int refresh,
                              redisReply *rep, ck_session *out);

static ck_status rs_lookup(ck_store *st, const ck_skey *key, int64_t now, int refresh,
                           ck_session *out)
{
    redisReply *rep;
    ck_status rc;

    rc = session_script(st, CK_SCRIPT_TOUCH, key, now, refresh ? "1" : "0", NULL,
                        &rep);
    if (rc != CK_OK)
        return rc;
    return lookup_reply(st, key, now, refresh, rep, out);
}

/* The touch script's reply (not an error reply), which this takes. */
static ck_status lookup_reply(ck_store *st, const ck_skey *key, int64_t now, int refresh,
                              redisReply *rep, ck_session *out)
{
    int64_t bx, nex;
    ck_status rc;

    if (rep->type == REDIS_REPLY_ARRAY)
        return touch_full(st, key, now, rep, out);
    if (rep->type == REDIS_REPLY_INTEGER) {
        long long v = rep->integer;

        freeReplyObject(rep);
        seen_drop(impl(st), key);
        if (v == 0)
            return ck_fail(st, CK_NOT_FOUND, "no such session");
        if (v == 2)
            return ck_fail(st, CK_EXPIRED_IDLE, "session expired (idle)");
        if (v == 3)
            return ck_fail(st, CK_EXPIRED_LIFETIME, "session expired (lifetime)");
        return wrong_shape(st, NULL, "touch");
    }
    if (rep->type != REDIS_REPLY_STRING)
        return wrong_shape(st, rep, "touch");
    rc = reply_session(st, key, rep, out);
    if (rc != CK_OK || !refresh)
        return rc;
    /* exactly what the script wrote */
    nex = refreshed(st, now, out->deadline);
    bx = same_bucket(out->expires, nex, out->deadline) ? out->expires : nex;
    seen_put(impl(st), key, bx, out->deadline);
    out->last_activity = now;
    out->expires = nex;
    return CK_OK;
}

/*
 * A touch without a script: GETEX ... PXAT moves the key's expiry and
 * returns the record in one plain command, about as cheap on the server
 * as GET. Only when this handle knows the session is live and its new
 * expiry stays in the minute its record is counted in (see
 * redis_scripts.c): with inactivity >= 60 s, now is then before the
 * bucket's expiry, so the session cannot have ended, and nothing but the
 * key's expiry changes. Returns 1 when the reply shows the hint was stale
 * (another client moved the session to a later minute): the script then
 * settles the session from the server's state. Otherwise 0, with *rc the
 * touch's status.
 */
static int direct_reply(ck_store *st, const ck_skey *key, int64_t now, int64_t nex,
                        redisReply *rep, ck_session *out, ck_status *rc);

/* The GETEX of touch_direct, in a, pointing into sk. */
static void direct_args(ck_store *st, const ck_skey *key, int64_t nex, rs_args *a, char *sk)
{
    a->n = 0;
    arg_str(a, "GETEX");
    arg_buf(a, sk, key_session(st, key, sk));
    arg_str(a, "PXAT");
    arg_int(a, (nex + CK_STORE_END_GRACE) * 1000);
}

static int touch_direct(ck_store *st, const ck_skey *key, int64_t now, int64_t nex,
                        ck_session *out, ck_status *rc)
{
    char sk[KEY_MAX];
    rs_args a;
    redisReply *rep;

    direct_args(st, key, nex, &a, sk);
    *rc = rs_call(st, &a, &rep);
    return direct_reply(st, key, now, nex, *rc == CK_OK ? rep : NULL, out, rc);
}

/*
 * What touch_direct makes of GETEX's outcome: *rc as the call left it,
 * rep (taken) when *rc is CK_OK. 1: the script must settle the session.
 */
static int direct_reply(ck_store *st, const ck_skey *key, int64_t now, int64_t nex,
                        redisReply *rep, ck_session *out, ck_status *rc)
{
    /* GETEX is refused by a full Redis: the script's PEXPIREAT is not. */
    if (*rc == CK_ERR_FULL)
        return 1;
    if (*rc != CK_OK)
        return 0;
    if (rep->type == REDIS_REPLY_NIL) {
        freeReplyObject(rep);
        seen_drop(impl(st), key);
        *rc = ck_fail(st, CK_NOT_FOUND, "no such session");
        return 0;
    }
    if (rep->type != REDIS_REPLY_STRING) {
        *rc = wrong_shape(st, rep, "GETEX");
        return 0;
    }
    *rc = reply_session(st, key, rep, out);
    if (*rc != CK_OK)
        return 0;
    if (out->expires >= out->deadline || !same_bucket(out->expires, nex, out->deadline)) {
        seen_drop(impl(st), key);
        return 1;
    }
    out->last_activity = now;
    out->expires = nex;
    return 0;
}

/* The hint allows a touch without the script (see the top of this file). */
static int direct_ok(ck_store *st, const ck_skey *key, int64_t now, int64_t nex)
{
    const rs_seen *e = seen_find(impl(st), key);
    int64_t bx = e ? e->bx : 0, deadline = e ? bx + e->to_deadline : 0;

    return e && st->inactivity >= 60 && nex < deadline && bx < deadline && now < bx &&
           same_bucket(bx, nex, deadline);
}

static ck_status rs_touch(ck_store *st, const ck_skey *key, int64_t now, ck_session *out)
{
    int64_t nex = now + st->inactivity;
    ck_status rc;

    if (direct_ok(st, key, now, nex) && touch_direct(st, key, now, nex, out, &rc) == 0)
        return rc;
    return rs_lookup(st, key, now, 1, out);
}

/* One touch of a batch: its command and what it is waiting for. */
typedef struct rs_batch_item {
    rs_args a;
    char sk[KEY_MAX];
    tag_keys tk;
    int direct;
} rs_batch_item;

/*
 * A batch of touches as one pipeline: each a GETEX (direct) or the touch
 * script, chosen and answered exactly as rs_touch would. What the
 * pipeline cannot settle (a stale hint, a script the server lost, a full
 * Redis refusing GETEX) is then done on its own.
 */
static void rs_touch_many(ck_store *st, size_t n, const ck_skey *keys, int64_t now,
                          ck_session *const *outs, ck_status *res)
{
    rs_impl *ri = impl(st);
    rs_batch_item *it;
    int argc[CK_STORE_BATCH_MAX] = { 0 }, again[CK_STORE_BATCH_MAX];
    const char **argv[CK_STORE_BATCH_MAX] = { 0 };
    const size_t *lens[CK_STORE_BATCH_MAX] = { 0 };
    redisReply *reps[CK_STORE_BATCH_MAX] = { 0 };
    int64_t nex = now + st->inactivity;
    ck_status rc;

    /* Kept for the handle's life: some 370 KB, which a malloc per batch would map anew. */
    if (!ri->batch)
        ri->batch = malloc(CK_STORE_BATCH_MAX * sizeof(*ri->batch));
    it = ri->batch;
    if (!it || n > CK_STORE_BATCH_MAX) {
        for (size_t i = 0; i < n; i++)
            res[i] = rs_touch(st, &keys[i], now, outs[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        it[i].direct = direct_ok(st, &keys[i], now, nex);
        if (it[i].direct)
            direct_args(st, &keys[i], nex, &it[i].a, it[i].sk);
        else
            session_args(st, CK_SCRIPT_TOUCH, &keys[i], now, "1", &it[i].a, it[i].sk,
                         &it[i].tk);
        argc[i] = it[i].a.n;
        argv[i] = it[i].a.v;
        lens[i] = it[i].a.len;
    }
    if (ck_redis_pipeline(ri->r, n, argc, argv, lens, reps) != 0) {
        rc = ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(ri->r));
        for (size_t i = 0; i < n; i++)
            res[i] = rc;
        return;
    }
    ri->last_serial = ck_redis_serial(ri->r);
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = reps[i];

        again[i] = 0;
        if (!rep) {
            res[i] = ck_fail(st, CK_ERR_CORRUPT, "redis %s: no reply", ck_redis_peer(ri->r));
        } else if (!it[i].direct && reply_is_err(rep, "NOSCRIPT")) {
            freeReplyObject(rep);
            again[i] = 1;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            res[i] = reply_error(st, rep);
            freeReplyObject(rep);
            if (res[i] == CK_OK)
                res[i] = CK_ERR_INTERNAL;
            again[i] = it[i].direct && res[i] == CK_ERR_FULL;
        } else if (it[i].direct) {
            res[i] = CK_OK;
            again[i] = direct_reply(st, &keys[i], now, nex, rep, outs[i], &res[i]);
        } else {
            res[i] = lookup_reply(st, &keys[i], now, 1, rep, outs[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (again[i])
            res[i] = rs_lookup(st, &keys[i], now, 1, outs[i]);
}

static ck_status rs_get(ck_store *st, const ck_skey *key, int64_t now, ck_session *out)
{
    return rs_lookup(st, key, now, 0, out);
}

static ck_status rs_del(ck_store *st, const ck_skey *key, int64_t now, int revoked)
{
    redisReply *rep;
    ck_status rc;

    /* A hint only: the session is gone from the primary either way. */
    seen_drop(impl(st), key);
    rc = session_script(st, CK_SCRIPT_DELETE, key, now, revoked ? "rv" : "lo",
                        revoked ? "revocation" : "logout", &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return wrong_shape(st, rep, "delete");
    freeReplyObject(rep);
    seen_drop(impl(st), key);
    return CK_OK;
}

/*
 * The tags a user's sessions may carry: the new one, that every create
 * uses, and the old one of ids issued before the wider tags. Each pass is
 * one script on one slot, atomic against a create there. The old-tag pass
 * (USER_TAGS 2 -> 1) can go once no id with an old tag can be live: the
 * absolute lifetime (24 h) plus CK_STORE_END_GRACE after the last host
 * was upgraded.
 */
#define USER_TAGS 2

static void user_tags(const char *user_id, char tags[USER_TAGS][3])
{
    ck_user_tag(user_id, tags[0]);
    ck_user_tag_old(user_id, tags[1]);
}

/* Runs the per-user script on one tag in mode "revoke" (confirmed by the replicas) or "list". */
static ck_status rs_user(ck_store *st, const char *user_id, const char *tag, int64_t now,
                         const char *mode, redisReply **rep)
{
    tag_keys tk;
    rs_args a;

    key_tag_all(st, tag, user_id, &tk);
    eval_begin(st, &a, CK_SCRIPT_USER, 3);
    arg_str(&a, tk.user);
    arg_str(&a, tk.metrics);
    arg_str(&a, tk.metrics_z);
    arg_int(&a, now);
    arg_int(&a, st->inactivity);
    arg_str(&a, tk.sessions);
    arg_str(&a, mode);
    if (strcmp(mode, "revoke") == 0)
        return rs_eval_durable(st, CK_SCRIPT_USER, &a, "revocation", rep);
    return rs_eval(st, CK_SCRIPT_USER, &a, rep);
}

/* On an error, *count holds what the passes before it revoked. */
static ck_status rs_revoke_user(ck_store *st, const char *user_id, int64_t now, size_t *count)
{
    char tags[USER_TAGS][3];
    redisReply *rep;
    ck_status rc;

    *count = 0;
    user_tags(user_id, tags);
    for (int t = 0; t < USER_TAGS; t++) {
        rc = rs_user(st, user_id, tags[t], now, "revoke", &rep);
        if (rc != CK_OK)
            return rc;
        if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0)
            return wrong_shape(st, rep, "revoke");
        *count += (size_t)rep->integer;
        freeReplyObject(rep);
    }
    return CK_OK;
}

/* Appends the sessions of one tag's list reply to *out. */
static ck_status list_fill(ck_store *st, const char *tag, const redisReply *rep,
                           ck_session_list *out)
{
    size_t n = rep->elements / 2;
    ck_session *items = realloc(out->items, (out->count + n + 1) * sizeof(*items));

    if (!items)
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    out->items = items;
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = rep->element[2 * i], *r = rep->element[2 * i + 1];
        ck_session *s = &out->items[out->count];
        ck_skey key;

        memset(s, 0, sizeof(*s));
        if (m->type != REDIS_REPLY_STRING || r->type != REDIS_REPLY_STRING ||
            m->len != CK_KEY_LEN || rec_decode(r->str, r->len, s) != 0)
            return ck_fail(st, CK_ERR_CORRUPT, "redis %s: malformed session record",
                           ck_redis_peer(impl(st)->r));
        memcpy(key.tag, tag, sizeof(key.tag));
        memcpy(key.hash, m->str, CK_KEY_LEN);
        ck_skey_hex(&key, s->key_hex);
        out->count++;
    }
    return CK_OK;
}

/* By creation, then key: the order of one tag's index, and LMDB's. */
static int by_created(const void *a, const void *b)
{
    const ck_session *x = a, *y = b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->key_hex, y->key_hex);
}

static ck_status rs_list_user(ck_store *st, const char *user_id, int64_t now,
                              ck_session_list *out)
{
    char tags[USER_TAGS][3];
    redisReply *rep;
    ck_status rc = CK_OK;

    user_tags(user_id, tags);
    for (int t = 0; t < USER_TAGS && rc == CK_OK; t++) {
        rc = rs_user(st, user_id, tags[t], now, "list", &rep);
        if (rc != CK_OK)
            break;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0) {
            rc = wrong_shape(st, rep, "list");
            break;
        }
        rc = list_fill(st, tags[t], rep, out);
        freeReplyObject(rep);
    }
    if (rc != CK_OK)
        ck_session_list_free(out);
    else if (out->count > 1)
        qsort(out->items, out->count, sizeof(*out->items), by_created);
    return rc;
}

/* ---- pending logins and failure counters -------------------------------- */

static void key_plain(ck_store *st, const char *kind, const char *name, char *out)
{
    snprintf(out, KEY_MAX, "%s%s:%s", impl(st)->prefix, kind, name);
}

static ck_status expect_ok(ck_store *st, redisReply *rep, const char *what)
{
    if (rep->type == REDIS_REPLY_ERROR) {
        ck_status rc = reply_error(st, rep);

        freeReplyObject(rep);
        return rc;
    }
    if (rep->type != REDIS_REPLY_STATUS)
        return wrong_shape(st, rep, what);
    freeReplyObject(rep);
    return CK_OK;
}

/*
 * A pending login carries its end of life by our clock in front of the
 * value, so that it ends on time under a test clock too; the key TTL only
 * lets Redis reclaim it.
 */
static ck_status rs_state_put(ck_store *st, const char *name, const void *v, size_t len,
                              int ttl, int64_t now)
{
    char k[KEY_MAX];
    unsigned char *buf = malloc(len + 8);
    rs_args a = { 0 };
    redisReply *rep;
    ck_status rc;

    if (!buf)
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    put_le(buf, (uint64_t)(now + ttl), 8);
    if (len)
        memcpy(buf + 8, v, len);
    key_plain(st, "p", name, k);
    arg_str(&a, "SET");
    arg_str(&a, k);
    arg_buf(&a, buf, len + 8);
    arg_str(&a, "EX");
    arg_int(&a, ttl);
    rc = rs_command(st, &a, &rep);
    free(buf);
    if (rc != CK_OK)
        return rc;
    return expect_ok(st, rep, "SET");
}

static ck_status rs_state_get(ck_store *st, const char *name, int take, int64_t now,
                              void **v, size_t *len)
{
    char k[KEY_MAX];
    rs_args a = { 0 };
    redisReply *rep;
    ck_status rc;

    key_plain(st, "p", name, k);
    arg_str(&a, take ? "GETDEL" : "GET");
    arg_str(&a, k);
    rc = rs_call(st, &a, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_NIL &&
        (rep->type != REDIS_REPLY_STRING || rep->len < 8))
        return wrong_shape(st, rep, "GET");
    /* An expired one taken by GETDEL is gone, as it should be. */
    if (rep->type == REDIS_REPLY_NIL ||
        (int64_t)get_le((const unsigned char *)rep->str, 8) <= now) {
        freeReplyObject(rep);
        return ck_fail(st, CK_NOT_FOUND, "no such pending login");
    }
    *len = rep->len - 8;
    *v = malloc(*len ? *len : 1);
    if (!*v) {
        *len = 0;
        freeReplyObject(rep);
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    }
    memcpy(*v, rep->str + 8, *len);
    freeReplyObject(rep);
    return CK_OK;
}

static ck_status rs_fail_add(ck_store *st, const char *name, int window, int64_t now,
                             int64_t *count)
{
    char k[KEY_MAX];
    rs_args a;
    redisReply *rep;
    ck_status rc;

    key_plain(st, "f", name, k);
    eval_begin(st, &a, CK_SCRIPT_FAIL_ADD, 1);
    arg_str(&a, k);
    arg_int(&a, now);
    arg_int(&a, window);
    rc = rs_eval(st, CK_SCRIPT_FAIL_ADD, &a, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return wrong_shape(st, rep, "fail_add");
    *count = rep->integer;
    freeReplyObject(rep);
    return CK_OK;
}

static int parse_i64(const redisReply *r, int64_t *out)
{
    char *end;
    long long v;

    if (r->type != REDIS_REPLY_STRING)
        return -1;
    errno = 0;
    v = strtoll(r->str, &end, 10);
    if (errno || end == r->str || *end)
        return -1;
    *out = v;
    return 0;
}

static ck_status rs_fail_count(ck_store *st, const char *name, int64_t now, int64_t *count)
{
    char k[KEY_MAX];
    rs_args a = { 0 };
    redisReply *rep;
    ck_status rc;
    int64_t n, end;

    key_plain(st, "f", name, k);
    arg_str(&a, "HMGET");
    arg_str(&a, k);
    arg_str(&a, "n");
    arg_str(&a, "e");
    *count = 0;
    rc = rs_call(st, &a, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2)
        return wrong_shape(st, rep, "HMGET");
    if (rep->element[0]->type == REDIS_REPLY_NIL) {
        freeReplyObject(rep);
        return CK_OK;
    }
    if (parse_i64(rep->element[0], &n) != 0 || parse_i64(rep->element[1], &end) != 0 || n < 0)
        return wrong_shape(st, rep, "HMGET");
    freeReplyObject(rep);
    *count = now < end ? n : 0;
    return CK_OK;
}

static ck_status rs_fail_reset(ck_store *st, const char *name)
{
    char k[KEY_MAX];
    rs_args a = { 0 };
    redisReply *rep;
    ck_status rc;

    key_plain(st, "f", name, k);
    arg_str(&a, "DEL");
    arg_str(&a, k);
    rc = rs_call(st, &a, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return wrong_shape(st, rep, "DEL");
    freeReplyObject(rep);
    return CK_OK;
}

/* ---- metrics ------------------------------------------------------------- */

/*
 * The metrics read: one EVALSHA per tag, old and new (CK_TAG_COUNT), in
 * one pipeline, so its cost depends on the number of tags, never on the
 * number of sessions. The old tags stay in it for good: their hashes keep
 * the cumulative counters (created, ended) of the sessions they held.
 * Built on the heap in one piece (some 400 kB).
 */
#define METRICS_ARGS 6

typedef struct rs_metrics_batch {
    const char *v[CK_TAG_COUNT][METRICS_ARGS];
    size_t len[CK_TAG_COUNT][METRICS_ARGS];
    int argc[CK_TAG_COUNT];
    const char **argv[CK_TAG_COUNT];
    const size_t *argvlen[CK_TAG_COUNT];
    redisReply *rep[CK_TAG_COUNT];
    char now[24];
    char keys[];        /* per tag: its metrics hash, then its minute set */
} rs_metrics_batch;

static rs_metrics_batch *metrics_prepare(ck_store *st, int64_t now)
{
    size_t kmax = strlen(impl(st)->prefix) + sizeof("mz:{}") + CK_RS_BRACES_MAX;
    rs_metrics_batch *b = calloc(1, sizeof(*b) + 2 * kmax * CK_TAG_COUNT);
    const char *sha = impl(st)->sha[CK_SCRIPT_METRICS];
    char k[KEY_MAX], tag[3];

    if (!b)
        return NULL;
    snprintf(b->now, sizeof(b->now), "%lld", (long long)now);
    for (int t = 0; t < CK_TAG_COUNT; t++) {
        const char **v = b->v[t];
        size_t *len = b->len[t];
        char *mh = b->keys + 2 * kmax * (size_t)t, *mz = mh + kmax;

        ck_tag_name(t, tag);
        key_tag(st, "m", tag, "", k);
        snprintf(mh, kmax, "%s", k);
        key_tag(st, "mz", tag, "", k);
        snprintf(mz, kmax, "%s", k);
        v[0] = "EVALSHA";
        v[1] = sha;
        v[2] = "2";
        v[3] = mh;
        v[4] = mz;
        v[5] = b->now;
        for (int i = 0; i < METRICS_ARGS; i++)
            len[i] = strlen(v[i]);
        b->argc[t] = METRICS_ARGS;
        b->argv[t] = v;
        b->argvlen[t] = len;
    }
    return b;
}

static void replies_free(redisReply **rep, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rep[i])
            freeReplyObject(rep[i]);
        rep[i] = NULL;
    }
}

/* Adds one tag's reply (c, lo, rv, id, lt, d, a0, a1, a2) to *out. */
static int metrics_add(const redisReply *r, ck_metrics *out)
{
    int64_t v[9];

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 9)
        return -1;
    for (int i = 0; i < 9; i++) {
        if (r->element[i]->type != REDIS_REPLY_INTEGER)
            return -1;
        v[i] = r->element[i]->integer;
    }
    out->created += v[0];
    out->ended_logout += v[1];
    out->ended_revoked += v[2];
    out->ended_idle += v[3];
    out->ended_lifetime += v[4];
    out->duration_sum += v[5];
    for (int m = 0; m < CK_AUTH_METHOD_COUNT; m++) {
        out->active_by_method[m] += v[6 + m];
        out->active += v[6 + m];
    }
    return 0;
}

static ck_status rs_metrics(ck_store *st, int64_t now, ck_metrics *out)
{
    rs_metrics_batch *b = metrics_prepare(st, now);
    ck_status rc = CK_OK;
    int noscript = 0;

    if (!b)
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ck_redis_pipeline(impl(st)->r, CK_TAG_COUNT, b->argc, b->argv, b->argvlen,
                              b->rep) != 0) {
            rc = ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(impl(st)->r));
            goto out;
        }
        noscript = 0;
        for (int t = 0; t < CK_TAG_COUNT; t++)
            noscript |= b->rep[t] && reply_is_err(b->rep[t], "NOSCRIPT");
        if (!noscript || attempt == 1)
            break;
        replies_free(b->rep, CK_TAG_COUNT);
        rc = script_load(st, CK_SCRIPT_METRICS);
        if (rc != CK_OK)
            goto out;
    }
    memset(out, 0, sizeof(*out));
    for (int t = 0; t < CK_TAG_COUNT && rc == CK_OK; t++) {
        if (b->rep[t] && b->rep[t]->type == REDIS_REPLY_ERROR)
            rc = reply_error(st, b->rep[t]);
        else if (!b->rep[t] || metrics_add(b->rep[t], out) != 0)
            rc = ck_fail(st, CK_ERR_CORRUPT, "redis %s: unexpected metrics reply",
                         ck_redis_peer(impl(st)->r));
    }
    if (rc != CK_OK)
        memset(out, 0, sizeof(*out));
out:
    replies_free(b->rep, CK_TAG_COUNT);
    free(b);
    return rc;
}

/* ---- the rest ------------------------------------------------------------ */

/* Every primary answers (one server is one primary; a cluster has several). */
static ck_status rs_ping(ck_store *st)
{
    ck_redis *r = impl(st)->r;
    const char *ping[1] = { "PING" };
    int n = ck_redis_primary_count(r);
    redisReply *rep;
    ck_status rc = CK_OK;

    if (n < 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(r));
    for (int i = 0; i < n && rc == CK_OK; i++) {
        if (ck_redis_command_on_primary(r, i, 1, ping, NULL, &rep) != 0 || !rep)
            return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(r));
        rc = expect_ok(st, rep, "PING");
    }
    return rc;
}

/* Redis expires keys by itself; metrics fold on every write and read. */
static ck_status rs_sweep(ck_store *st, int64_t now, size_t *removed)
{
    (void)st;
    (void)now;
    *removed = 0;
    return CK_OK;
}

/* Reads "name:value" from an INFO reply; -1 when the line is missing. */
static int info_field(const char *info, const char *name, int64_t *out)
{
    size_t n = strlen(name);
    const char *p = info;
    char *end;
    long long v;

    while (p && *p) {
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            errno = 0;
            v = strtoll(p + n + 1, &end, 10);
            if (errno || end == p + n + 1 || v < 0)
                return -1;
            *out = v;
            return 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

/* used/max of a, compared with b's: the fuller (no maxmemory counts as empty). */
static int memory_fuller(const ck_store_memory *a, const ck_store_memory *b)
{
    if (a->max > 0 && b->max > 0)
        return (double)a->used / (double)a->max > (double)b->used / (double)b->max;
    if (a->max > 0 || b->max > 0)
        return a->max > 0;
    return a->used > b->used;
}

/*
 * INFO memory of each primary (one round trip on a single server), no key
 * read: a cluster is as full as its fullest primary.
 */
static ck_status rs_memory(ck_store *st, ck_store_memory *out)
{
    ck_redis *r = impl(st)->r;
    const char *info[2] = { "INFO", "memory" };
    int n = ck_redis_primary_count(r);

    if (n < 0)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(r));
    for (int i = 0; i < n; i++) {
        ck_store_memory m;
        redisReply *rep = NULL;

        if (ck_redis_command_on_primary(r, i, 2, info, NULL, &rep) != 0 || !rep)
            return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(r));
        if (rep->type == REDIS_REPLY_ERROR) {
            ck_status rc = reply_error(st, rep);

            freeReplyObject(rep);
            return rc != CK_OK ? rc : CK_ERR_INTERNAL;
        }
        if ((rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS) || !rep->str ||
            info_field(rep->str, "used_memory", &m.used) != 0 ||
            info_field(rep->str, "maxmemory", &m.max) != 0)
            return wrong_shape(st, rep, "INFO memory");
        freeReplyObject(rep);
        if (i == 0 || memory_fuller(&m, out))
            *out = m;
    }
    return CK_OK;
}

static void rs_close(ck_store *st)
{
    rs_impl *ri = impl(st);

    if (!ri)
        return;
    ck_redis_free(ri->r);
    if (ri->seen)
        munmap(ri->seen, (size_t)SEEN_SETS * SEEN_WAYS * sizeof(*ri->seen));
    free(ri->batch);
    free(ri);
    st->impl = NULL;
}

/* ---- the lock index ------------------------------------------------------ */

/*
 * One sorted set, P x:locks, member = lock name, score = end of the lock
 * by our clock. It holds only the locks in force (ended ones are pruned
 * whenever a lock starts), so listing reads a few entries and never scans
 * the keyspace. It is a key of its own, apart from the counters: the note
 * is a second round trip after the lock (see docs/design.md).
 */
static ck_status int_reply(ck_store *st, redisReply *rep, const char *what)
{
    ck_status rc;

    if (rep->type == REDIS_REPLY_ERROR) {
        rc = reply_error(st, rep);
        freeReplyObject(rep);
        return rc;
    }
    if (rep->type != REDIS_REPLY_INTEGER)
        return wrong_shape(st, rep, what);
    freeReplyObject(rep);
    return CK_OK;
}

/* Starts a command on the lock index: its word, then the index's key in k. */
static void lock_cmd(ck_store *st, rs_args *a, const char *cmd, char *k)
{
    a->n = 0;
    key_plain(st, "x", "locks", k);
    arg_str(a, cmd);
    arg_str(a, k);
}

/* Runs a command that answers an integer; its word (always a string, as
 * lock_cmd puts it) names it in an error. */
static ck_status int_command(ck_store *st, rs_args *a)
{
    redisReply *rep;
    ck_status rc = rs_command(st, a, &rep);

    return rc == CK_OK ? int_reply(st, rep, a->v[0]) : rc;
}

static ck_status rs_lock_note(ck_store *st, const char *name, int64_t until, int64_t now)
{
    char k[KEY_MAX];
    rs_args a;
    ck_status rc;

    lock_cmd(st, &a, "ZREMRANGEBYSCORE", k);
    arg_str(&a, "-inf");
    arg_int(&a, now);
    rc = int_command(st, &a);
    if (rc != CK_OK)
        return rc;
    lock_cmd(st, &a, "ZADD", k);
    arg_int(&a, until);
    arg_str(&a, name);
    return int_command(st, &a);
}

static ck_status rs_lock_forget(ck_store *st, const char *name)
{
    char k[KEY_MAX];
    rs_args a;

    lock_cmd(st, &a, "ZREM", k);
    arg_str(&a, name);
    return int_command(st, &a);
}

static ck_status lock_entries(ck_store *st, redisReply *rep, ck_lock_list *out)
{
    size_t n = rep->elements / 2;

    out->items = calloc(n ? n : 1, sizeof(*out->items));
    if (!out->items)
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = rep->element[2 * i], *sc = rep->element[2 * i + 1];
        ck_lock_entry *e = &out->items[out->count];
        char *end;
        double until;

        if (m->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING)
            return ck_fail(st, CK_ERR_CORRUPT, "redis: malformed lock index");
        if (m->len == 0 || m->len >= CK_LOCK_NAME_MAX || memchr(m->str, '\0', m->len))
            continue;       /* not one checkup wrote */
        errno = 0;
        until = strtod(sc->str, &end);
        if (errno || end == sc->str || *end)
            return ck_fail(st, CK_ERR_CORRUPT, "redis: malformed lock index score");
        memcpy(e->name, m->str, m->len);
        e->name[m->len] = '\0';
        e->until = (int64_t)until;
        out->count++;
    }
    return CK_OK;
}

static ck_status rs_lock_list(ck_store *st, int64_t now, ck_lock_list *out)
{
    char k[KEY_MAX], from[32];
    rs_args a;
    redisReply *rep;
    ck_status rc;

    snprintf(from, sizeof(from), "(%lld", (long long)now);
    lock_cmd(st, &a, "ZRANGEBYSCORE", k);
    arg_str(&a, from);
    arg_str(&a, "+inf");
    arg_str(&a, "WITHSCORES");
    arg_str(&a, "LIMIT");
    arg_str(&a, "0");
    arg_int(&a, CK_LOCK_LIST_MAX);
    rc = rs_call(st, &a, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
        return wrong_shape(st, rep, "ZRANGEBYSCORE");
    rc = lock_entries(st, rep, out);
    freeReplyObject(rep);
    if (rc != CK_OK)
        ck_lock_list_free(out);
    return rc;
}

static const struct ck_backend_ops redis_ops = {
    .name = "redis",
    .create = rs_create,
    .touch = rs_touch,
    .touch_many = rs_touch_many,
    .get = rs_get,
    .del = rs_del,
    .revoke_user = rs_revoke_user,
    .list_user = rs_list_user,
    .state_put = rs_state_put,
    .state_get = rs_state_get,
    .fail_add = rs_fail_add,
    .fail_count = rs_fail_count,
    .fail_reset = rs_fail_reset,
    .lock_note = rs_lock_note,
    .lock_forget = rs_lock_forget,
    .lock_list = rs_lock_list,
    .metrics = rs_metrics,
    .ping = rs_ping,
    .sweep = rs_sweep,
    .wait_replicas = rs_wait_replicas,
    .memory = rs_memory,
    .close = rs_close,
    .copy_scan = ck_rs_copy_scan,
    .copy_import = ck_rs_copy_import,
    .copy_raise = ck_rs_copy_raise,
};

/* ---- for redis_copy.c (redis_internal.h) -------------------------------- */

ck_redis *ck_rs_conn(ck_store *st)
{
    return impl(st)->r;
}

const char *ck_rs_prefix(ck_store *st)
{
    return impl(st)->prefix;
}

size_t ck_rs_rec_encode(const ck_session *s, unsigned char *buf, size_t cap)
{
    return rec_encode(s, buf, cap);
}

size_t ck_rs_key_session(ck_store *st, const ck_skey *k, char *out)
{
    return key_session(st, k, out);
}

void ck_rs_key_tag(ck_store *st, const char *kind, const char *tag, const char *rest,
                   char *out)
{
    key_tag(st, kind, tag, rest, out);
}

ck_status ck_rs_reply_error(ck_store *st, const redisReply *rep)
{
    return reply_error(st, rep);
}

static void sha1_hex(const char *src, char out[SHA_DIGEST_LENGTH * 2 + 1])
{
    unsigned char md[SHA_DIGEST_LENGTH];

    SHA1((const unsigned char *)src, strlen(src), md);
    ck_hex_encode(md, SHA_DIGEST_LENGTH, out);
}

ck_status ck_redis_store_open(ck_store *st, const ck_config *cfg, const char *url)
{
    ck_redis_opts o;
    rs_impl *ri;
    char err[256];
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : "ck:";

    if (strlen(prefix) >= PREFIX_MAX || strchr(prefix, '{') || strchr(prefix, '}'))
        return ck_fail(st, CK_ERR_INVALID,
                       "key_prefix must be shorter than %d characters and hold no braces",
                       PREFIX_MAX);
    memset(&o, 0, sizeof(o));
    if (ck_redis_opts_from_url(&o, url, cfg, err, sizeof(err)) != 0)
        return ck_fail(st, CK_ERR_INVALID, "%s", err);
    ri = calloc(1, sizeof(*ri));
    if (!ri) {
        ck_redis_opts_free(&o);
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    }
    ri->r = ck_redis_new(&o);
    if (!ri->r) {
        ck_redis_opts_free(&o);
        free(ri);
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    }
    /*
     * Sentinel and Cluster setups exist to survive a primary's loss: wait
     * for one replica (of each primary written, on a cluster).
     */
    ri->wait_n = cfg->wait_replicas >= 0 ? cfg->wait_replicas
                 : strstr(url, "+sentinel://") || strstr(url, "+cluster://") ? 1 : 0;
    ri->wait_ms = cfg->wait_timeout_ms > 0 ? cfg->wait_timeout_ms : 500;
    snprintf(ri->prefix, sizeof(ri->prefix), "%s", prefix);
    ri->sprefix_len = (size_t)snprintf(ri->sprefix, sizeof(ri->sprefix), "%ss:{", prefix);
    for (int i = 0; i < CK_SCRIPT_COUNT; i++)
        sha1_hex(ck_redis_script_src[i], ri->sha[i]);
    st->impl = ri;
    st->ops = &redis_ops;
    return CK_OK;
}
