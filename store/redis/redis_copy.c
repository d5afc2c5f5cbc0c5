/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_copy.c - the Redis side of "checkup store copy" (ck_copy.h,
 * copy_* in backend.h).
 *
 * Listing is SCAN over the patterns of the key schema (redis_scripts.c):
 * "P s:{*" for sessions, "P f:*" for failure counters; never KEYS, so a
 * large store is read in small steps beside live traffic. The checkup ACL
 * user needs +scan for it, granted for the copy only (conf/redis/checkup-
 * auth.conf says why and how). With Redis Cluster the same SCAN runs per
 * primary and every write below already touches the keys of one slot only.
 *
 * Writing: a session is written by one script built from the backend's
 * own helpers (LUA_COMMON: record parser, minute buckets), so that the
 * record, its user index entry, its key expiry (expires + the end grace,
 * by our clock) and the metrics change together, as create does; a failure
 * counter by one script; a lock index entry by one ZADD GT.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "ck_encode.h"
#include "redis_internal.h"
#include "redis_tags.h"
#include "redis_scripts.h"

#define SCAN_COUNT  "64"
#define SCAN_ROOM   256     /* a SCAN step returns about COUNT keys, far fewer than this */

/*
 * import_session: KEYS session, user index, metrics hash, minute set;
 * ARGV now, record, member, inactivity. Returns 3 when the session has
 * ended, 0 when the target holds it with the same or a later last
 * activity, 2 when it replaced an older record, 1 when it added it.
 * A replaced record leaves its bucket (or, if its minute was folded as
 * ended, comes back to the active count, as touch does).
 */
static const char lua_import_session[] =
    "local sk, ui, mh, mz = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
    "local now, rec, mem, inact = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
    "local s = rec_parse(rec, 0, inact)\n"
    "if not s then return redis.error_reply('ERR bad record') end\n"
    "if s_expired(s, now, inact) ~= 0 then return 3 end\n"
    "local r = redis.call('GET', sk)\n"
    "local res = 1\n"
    "fold(mh, mz, now)\n"
    "if r then\n"
    "  local o = rec_parse(r, redis.call('PEXPIRETIME', sk), inact)\n"
    "  if not o then return corrupt() end\n"
    "  if o.la >= s.la then return 0 end\n"
    "  if redis.call('ZSCORE', mz, (bucket(o))) then\n"
    "    b_add(mh, mz, o, -1)\n"
    "    redis.call('HINCRBY', mh, 'a' .. o.m, -1)\n"
    "  end\n"
    "  res = 2\n"
    "end\n"
    "redis.call('SET', sk, rec, 'PXAT', I((s.ex + GRACE) * 1000))\n"
    "redis.call('ZADD', ui, I(s.cr), mem)\n"
    "local ttl = redis.call('TTL', ui)\n"
    "if ttl < s.dl + GRACE - now then redis.call('EXPIRE', ui, I(s.dl + GRACE - now)) end\n"
    "b_add(mh, mz, s, 1)\n"
    "redis.call('HINCRBY', mh, 'a' .. s.m, 1)\n"
    "return res\n";

/*
 * import_counter: KEYS counter (hash n, e); ARGV now, count, end. The
 * larger count and the later end win; the key expires at the end by our
 * clock. Returns 3 (ended), 0 (there already), 2 (raised), 1 (added).
 */
static const char lua_import_counter[] =
    "local k, now, n, e = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "if e <= now or n <= 0 then return 3 end\n"
    "local v = redis.call('HMGET', k, 'n', 'e')\n"
    "local on, oe = tonumber(v[1]), tonumber(v[2])\n"
    "local res = 1\n"
    "if on and oe and oe > now then\n"
    "  if oe >= e and on >= n then return 0 end\n"
    "  n, e, res = math.max(n, on), math.max(e, oe), 2\n"
    "end\n"
    "redis.call('DEL', k)\n"
    "redis.call('HSET', k, 'n', string.format('%d', n), 'e', string.format('%d', e))\n"
    "redis.call('PEXPIREAT', k, string.format('%d', e * 1000))\n"
    "return res\n";

enum { SCRIPT_SESSION = 0, SCRIPT_COUNTER, SCRIPT_N };

static struct {
    pthread_once_t once;
    char *src[SCRIPT_N];
    char sha[SCRIPT_N][SHA_DIGEST_LENGTH * 2 + 1];
} scripts = { PTHREAD_ONCE_INIT, { NULL, NULL }, { "", "" } };

static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);

    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

/* Built once per process: the session script carries the backend's helpers. */
static void scripts_init(void)
{
    unsigned char md[SHA_DIGEST_LENGTH];

    scripts.src[SCRIPT_SESSION] = concat(ck_redis_lua_common, lua_import_session);
    scripts.src[SCRIPT_COUNTER] = concat("", lua_import_counter);
    for (int i = 0; i < SCRIPT_N; i++) {
        if (!scripts.src[i])
            continue;
        SHA1((const unsigned char *)scripts.src[i], strlen(scripts.src[i]), md);
        ck_hex_encode(md, SHA_DIGEST_LENGTH, scripts.sha[i]);
    }
}

/* ---- commands ------------------------------------------------------------ */

typedef struct cmd {
    int n;
    const char *v[12];
    size_t len[12];
    char num[12][24];
} cmd;

static void arg_buf(cmd *c, const void *p, size_t len)
{
    c->v[c->n] = p;
    c->len[c->n++] = len;
}

static void arg_str(cmd *c, const char *s)
{
    arg_buf(c, s, strlen(s));
}

static void arg_int(cmd *c, int64_t v)
{
    int n = snprintf(c->num[c->n], sizeof(c->num[0]), "%lld", (long long)v);

    arg_buf(c, c->num[c->n], (size_t)n);
}

/* One command; an error reply becomes the store's error (*rep NULL). */
static ck_status call(ck_store *st, cmd *c, redisReply **rep)
{
    ck_status rc;

    *rep = NULL;
    if (ck_redis_command(ck_rs_conn(st), c->n, c->v, c->len, rep) != 0) {
        *rep = NULL;
        return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(ck_rs_conn(st)));
    }
    if (!*rep)
        return ck_fail(st, CK_ERR_CORRUPT, "redis %s: no reply", ck_redis_peer(ck_rs_conn(st)));
    if ((*rep)->type != REDIS_REPLY_ERROR)
        return CK_OK;
    rc = ck_rs_reply_error(st, *rep);
    freeReplyObject(*rep);
    *rep = NULL;
    return rc != CK_OK ? rc : CK_ERR_INTERNAL;
}

static ck_status shape(ck_store *st, redisReply *rep, const char *what)
{
    if (rep)
        freeReplyObject(rep);
    return ck_fail(st, CK_ERR_CORRUPT, "redis %s: unexpected reply to %s",
                   ck_redis_peer(ck_rs_conn(st)), what);
}

/* EVALSHA of a copy script (c starts at its key count), loading it on -NOSCRIPT. */
static ck_status eval(ck_store *st, int script, cmd *c, int64_t *out)
{
    redisReply *rep = NULL;
    ck_status rc = CK_OK;

    pthread_once(&scripts.once, scripts_init);
    if (!scripts.src[script])
        return ck_fail(st, CK_ERR_NOMEM, "out of memory");
    c->v[0] = "EVALSHA";
    c->len[0] = 7;
    c->v[1] = scripts.sha[script];
    c->len[1] = strlen(scripts.sha[script]);
    for (int attempt = 0; attempt < 2; attempt++) {
        cmd load = { 0 };

        rc = call(st, c, &rep);
        if (rc == CK_OK || attempt == 1 || !strstr(ck_store_errstr(st), "NOSCRIPT"))
            break;
        arg_str(&load, "SCRIPT");
        arg_str(&load, "LOAD");
        arg_str(&load, scripts.src[script]);
        rc = call(st, &load, &rep);
        if (rc != CK_OK)
            return rc;
        freeReplyObject(rep);
    }
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return shape(st, rep, "a copy script");
    *out = rep->integer;
    freeReplyObject(rep);
    return CK_OK;
}

/* ---- listing ------------------------------------------------------------- */

/* The prefix with glob characters escaped, then tail: a SCAN MATCH pattern. */
static void match_pattern(const char *prefix, const char *tail, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = prefix; *p && n + 3 < cap; p++) {
        if (strchr("*?[]\\", *p))
            out[n++] = '\\';
        out[n++] = *p;
    }
    snprintf(out + n, cap - n, "%s", tail);
}

/* "P s:{b}" + 32 bytes -> a session key; -1 when it is not one (redis_tags.h). */
static int session_of(const char *prefix, const redisReply *k, ck_copy_entry *e)
{
    if (k->type != REDIS_REPLY_STRING)
        return -1;
    memset(e, 0, sizeof(*e));
    e->kind = CK_COPY_SESSIONS;
    return ck_rs_session_key_parse(prefix, k->str, k->len, &e->key);
}

static int parse_i64(const redisReply *r, int64_t *out)
{
    char *end;
    long long v;

    if (!r || r->type != REDIS_REPLY_STRING)
        return -1;
    errno = 0;
    v = strtoll(r->str, &end, 10);
    if (errno || end == r->str || *end)
        return -1;
    *out = v;
    return 0;
}

/* A counter key's count and window end; 0 when it is a live counter. */
static ck_status counter_of(ck_store *st, const char *prefix, const redisReply *k, int64_t now,
                            ck_copy_entry *e, int *ok)
{
    size_t pl = strlen(prefix);
    cmd c = { 0 };
    redisReply *rep;
    ck_status rc;

    *ok = 0;
    if (k->type != REDIS_REPLY_STRING || k->len <= pl + 2 ||
        k->len - pl - 2 > CK_STATE_NAME_MAX || memchr(k->str, '\0', k->len))
        return CK_OK;
    arg_str(&c, "HMGET");
    arg_buf(&c, k->str, k->len);
    arg_str(&c, "n");
    arg_str(&c, "e");
    rc = call(st, &c, &rep);
    if (rc == CK_ERR_CORRUPT)
        return CK_OK;       /* not a hash: not one of ours */
    if (rc != CK_OK)
        return rc;
    memset(e, 0, sizeof(*e));
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        parse_i64(rep->element[0], &e->count) != 0 || parse_i64(rep->element[1], &e->end) != 0) {
        freeReplyObject(rep);
        return CK_OK;       /* gone since SCAN saw it, or not ours */
    }
    freeReplyObject(rep);
    e->kind = CK_COPY_COUNTERS;
    memcpy(e->name, k->str + pl + 2, k->len - pl - 2);
    *ok = e->end > now && e->count > 0;
    return CK_OK;
}

/*
 * The copy cursor: the server's SCAN cursor, or on a cluster "P:C", cursor
 * C on the P-th primary (ck_redis_command_on_primary), the primaries taken
 * one after the other. Returns the primary, or -1 for a cursor not ours.
 */
static int cursor_split(ck_store *st, const char *cursor, const char **scan)
{
    const char *colon = strchr(cursor, ':');
    char *end;
    long p;

    *scan = cursor[0] ? cursor : "0";
    if (!ck_redis_is_cluster(ck_rs_conn(st)) || !cursor[0])
        return 0;
    errno = 0;
    p = strtol(cursor, &end, 10);
    if (!colon || end != colon || errno || p < 0 || p > 65535 || !colon[1])
        return -1;
    *scan = colon + 1;
    return (int)p;
}

/* The next cursor after SCAN on primary p answered next; *done at the end. */
static ck_status cursor_next(ck_store *st, int p, const redisReply *next, char *cursor,
                             int *done)
{
    int n;

    *done = 0;
    if (!ck_redis_is_cluster(ck_rs_conn(st))) {
        memcpy(cursor, next->str, next->len);
        cursor[next->len] = '\0';
        *done = strcmp(cursor, "0") == 0;
        return CK_OK;
    }
    if (strcmp(next->str, "0") == 0) {
        n = ck_redis_primary_count(ck_rs_conn(st));
        if (n < 0)
            return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(ck_rs_conn(st)));
        if (p + 1 >= n) {
            snprintf(cursor, CK_COPY_CURSOR_MAX, "0");
            *done = 1;
            return CK_OK;
        }
        snprintf(cursor, CK_COPY_CURSOR_MAX, "%d:0", p + 1);
        return CK_OK;
    }
    n = snprintf(cursor, CK_COPY_CURSOR_MAX, "%d:%s", p, next->str);
    if (n < 0 || n >= CK_COPY_CURSOR_MAX)
        return ck_fail(st, CK_ERR_INTERNAL, "redis SCAN cursor too long");
    return CK_OK;
}

static ck_status scan_step(ck_store *st, int kind, char *cursor, int64_t now, ck_copy_page *page)
{
    const char *prefix = ck_rs_prefix(st), *scan;
    char pattern[2 * CK_RS_KEY_MAX];
    cmd c = { 0 };
    redisReply *rep = NULL, *keys;
    ck_status rc = CK_OK;
    int p = cursor_split(st, cursor, &scan), done = 0;

    if (p < 0)
        return ck_fail(st, CK_ERR_INVALID, "not a Redis Cluster copy cursor: %.40s", cursor);
    match_pattern(prefix, kind == CK_COPY_SESSIONS ? "s:{*" : "f:*", pattern, sizeof(pattern));
    arg_str(&c, "SCAN");
    arg_str(&c, scan);
    arg_str(&c, "MATCH");
    arg_str(&c, pattern);
    arg_str(&c, "COUNT");
    arg_str(&c, SCAN_COUNT);
    if (ck_redis_command_on_primary(ck_rs_conn(st), p, c.n, c.v, c.len, &rep) != 0 || !rep)
        return ck_fail(st, CK_ERR_UNAVAILABLE, "%s", ck_redis_errstr(ck_rs_conn(st)));
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = ck_rs_reply_error(st, rep);
        freeReplyObject(rep);
        return rc != CK_OK ? rc : CK_ERR_INTERNAL;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[0]->len >= CK_COPY_CURSOR_MAX ||
        rep->element[1]->type != REDIS_REPLY_ARRAY)
        return shape(st, rep, "SCAN");
    keys = rep->element[1];
    if (keys->elements > CK_COPY_PAGE - page->n) {
        freeReplyObject(rep);
        return ck_fail(st, CK_ERR_INTERNAL, "redis SCAN returned %zu keys in one step",
                       keys->elements);
    }
    for (size_t i = 0; rc == CK_OK && i < keys->elements; i++) {
        ck_copy_entry *e = &page->items[page->n];
        int ok = 0;

        if (kind == CK_COPY_SESSIONS)
            ok = session_of(prefix, keys->element[i], e) == 0;
        else
            rc = counter_of(st, prefix, keys->element[i], now, e, &ok);
        page->n += ok;
    }
    if (rc == CK_OK)
        rc = cursor_next(st, p, rep->element[0], cursor, &done);
    page->done = done;
    freeReplyObject(rep);
    return rc;
}

ck_status ck_rs_copy_scan(ck_store *st, int kind, char cursor[CK_COPY_CURSOR_MAX],
                          int64_t now, ck_copy_page *page)
{
    ck_status rc = CK_OK;

    page->n = 0;
    page->done = 0;
    if (kind != CK_COPY_SESSIONS && kind != CK_COPY_COUNTERS) {
        page->done = 1;
        return CK_OK;
    }
    while (rc == CK_OK && !page->done && page->n + SCAN_ROOM <= CK_COPY_PAGE)
        rc = scan_step(st, kind, cursor, now, page);
    return rc;
}

/* ---- writing ------------------------------------------------------------- */

static ck_status import_session(ck_store *st, const ck_copy_entry *e, int64_t now, int *res)
{
    unsigned char rec[CK_REDIS_REC_HDR + 2048];
    char sk[CK_RS_KEY_MAX], ui[CK_RS_KEY_MAX], mh[CK_RS_KEY_MAX], mz[CK_RS_KEY_MAX];
    size_t len = ck_rs_rec_encode(&e->s, rec, sizeof(rec));
    cmd c = { 0 };
    int64_t v = 0;
    ck_status rc;

    if (len == 0)
        return ck_fail(st, CK_ERR_INVALID, "session %.10s...: times out of range",
                       e->s.key_hex);
    ck_rs_key_tag(st, "u", e->key.tag, e->s.user_id, ui);
    ck_rs_key_tag(st, "m", e->key.tag, "", mh);
    ck_rs_key_tag(st, "mz", e->key.tag, "", mz);
    c.n = 2;            /* EVALSHA and the digest: eval() fills them */
    arg_int(&c, 4);
    arg_buf(&c, sk, ck_rs_key_session(st, &e->key, sk));
    arg_str(&c, ui);
    arg_str(&c, mh);
    arg_str(&c, mz);
    arg_int(&c, now);
    arg_buf(&c, rec, len);
    arg_buf(&c, e->key.hash, CK_KEY_LEN);
    arg_int(&c, st->inactivity);
    rc = eval(st, SCRIPT_SESSION, &c, &v);
    if (rc == CK_OK && (v < 0 || v > 3))
        return ck_fail(st, CK_ERR_CORRUPT, "redis: unexpected reply to the session import");
    *res = v == 0 ? CK_COPY_PRESENT : v == 1 ? CK_COPY_ADDED : v == 2 ? CK_COPY_UPDATED
                                                                       : CK_COPY_ENDED;
    return rc;
}

static ck_status import_counter(ck_store *st, const ck_copy_entry *e, int64_t now, int *res)
{
    char k[CK_RS_KEY_MAX];
    cmd c = { 0 };
    int64_t v = 0;
    ck_status rc;

    snprintf(k, sizeof(k), "%sf:%s", ck_rs_prefix(st), e->name);
    c.n = 2;
    arg_int(&c, 1);
    arg_str(&c, k);
    arg_int(&c, now);
    arg_int(&c, e->count);
    arg_int(&c, e->end);
    rc = eval(st, SCRIPT_COUNTER, &c, &v);
    *res = v == 0 ? CK_COPY_PRESENT : v == 1 ? CK_COPY_ADDED : v == 2 ? CK_COPY_UPDATED
                                                                       : CK_COPY_ENDED;
    return rc;
}

/* ZADD GT: added, or moved to a later end; never earlier. */
static ck_status import_lock(ck_store *st, const ck_copy_entry *e, int64_t now, int *res)
{
    char k[CK_RS_KEY_MAX];
    cmd c = { 0 };
    redisReply *rep;
    ck_status rc;

    if (e->end <= now) {
        *res = CK_COPY_ENDED;
        return CK_OK;
    }
    snprintf(k, sizeof(k), "%sx:locks", ck_rs_prefix(st));
    arg_str(&c, "ZADD");
    arg_str(&c, k);
    arg_str(&c, "GT");
    arg_str(&c, "CH");
    arg_int(&c, e->end);
    arg_str(&c, e->name);
    rc = call(st, &c, &rep);
    if (rc != CK_OK)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return shape(st, rep, "ZADD");
    *res = rep->integer ? CK_COPY_ADDED : CK_COPY_PRESENT;
    freeReplyObject(rep);
    return CK_OK;
}

ck_status ck_rs_copy_import(ck_store *st, const ck_copy_entry *e, size_t n, int64_t now,
                            int *res)
{
    ck_status rc = CK_OK;

    for (size_t i = 0; rc == CK_OK && i < n; i++) {
        switch (e[i].kind) {
        case CK_COPY_SESSIONS:
            rc = import_session(st, &e[i], now, &res[i]);
            break;
        case CK_COPY_COUNTERS:
            rc = import_counter(st, &e[i], now, &res[i]);
            break;
        default:
            rc = import_lock(st, &e[i], now, &res[i]);
            break;
        }
    }
    return rc;
}

/*
 * The totals are the sum over the 64 tags' hashes: what is missing to
 * reach the source is added to tag 00's, one HINCRBY per counter. A second
 * run finds nothing missing. Counted from the totals read just before, so
 * a concurrent writer can only leave the target above the source.
 */
ck_status ck_rs_copy_raise(ck_store *st, const ck_metrics *m, int64_t now)
{
    static const char *const field[] = { "c", "lo", "id", "lt", "rv", "d" };
    ck_metrics cur;
    char mh[CK_RS_KEY_MAX];
    int64_t want[6], have[6];
    ck_status rc = st->ops->metrics(st, now, &cur);

    if (rc != CK_OK)
        return rc;
    want[0] = m->created, have[0] = cur.created;
    want[1] = m->ended_logout, have[1] = cur.ended_logout;
    want[2] = m->ended_idle, have[2] = cur.ended_idle;
    want[3] = m->ended_lifetime, have[3] = cur.ended_lifetime;
    want[4] = m->ended_revoked, have[4] = cur.ended_revoked;
    want[5] = m->duration_sum, have[5] = cur.duration_sum;
    ck_rs_key_tag(st, "m", "00", "", mh);
    for (int i = 0; rc == CK_OK && i < 6; i++) {
        cmd c = { 0 };
        redisReply *rep;

        if (want[i] <= have[i])
            continue;
        arg_str(&c, "HINCRBY");
        arg_str(&c, mh);
        arg_str(&c, field[i]);
        arg_int(&c, want[i] - have[i]);
        rc = call(st, &c, &rep);
        if (rc == CK_OK && rep->type != REDIS_REPLY_INTEGER)
            rc = shape(st, rep, "HINCRBY");
        else if (rc == CK_OK)
            freeReplyObject(rep);
    }
    return rc;
}
