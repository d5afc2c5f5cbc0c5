/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis store backend specifics, against a real redis-server started by
 * tests/redis_store.sh (CHECKUP_TEST_REDIS_PORT). The backend-independent
 * behaviour is the contract suite's; this file checks what only Redis has:
 * no session id anywhere in the keyspace, one command per touch, script
 * reload after SCRIPT FLUSH, expiry by Redis itself, wrong-shape data and
 * an unreachable or silent server. Only this test scans the keyspace.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "ck_store.h"
#include "backend.h"
#include "redis/redis_slot.h"
#include "redis/redis_tags.h"
#include "redis/redis_conn.h"

/* ---- counting what the backend sends (linked with --wrap) --------------- */

int __real_ck_redis_command(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                            redisReply **reply);
int __wrap_ck_redis_command(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                            redisReply **reply);
int __real_ck_redis_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                             const size_t **argvlen, redisReply **replies);
int __wrap_ck_redis_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                             const size_t **argvlen, redisReply **replies);

static int sent_commands;
static int sent_pipelines;

int __wrap_ck_redis_command(ck_redis *r, int argc, const char **argv, const size_t *argvlen,
                            redisReply **reply)
{
    sent_commands++;
    return __real_ck_redis_command(r, argc, argv, argvlen, reply);
}

int __wrap_ck_redis_pipeline(ck_redis *r, size_t n, const int *argc, const char ***argv,
                             const size_t **argvlen, redisReply **replies)
{
    sent_pipelines++;
    return __real_ck_redis_pipeline(r, n, argc, argv, argvlen, replies);
}

/* ---- helpers ------------------------------------------------------------ */

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static int redis_port(void)
{
    const char *p = getenv("CHECKUP_TEST_REDIS_PORT");

    if (!p || !*p) {
        fprintf(stderr, "CHECKUP_TEST_REDIS_PORT is not set: run tests/redis_store.sh\n");
        exit(1);
    }
    return atoi(p);
}

typedef struct fixture {
    ck_config cfg;
    ck_store *st;
    redisContext *rc;      /* direct access, for inspection only */
    char prefix[64];
} fixture;

static ck_store *open_store(fixture *fx, const char *name, int inactivity, int lifetime,
                            int port)
{
    static unsigned serial;
    char url[64], err[512];

    ck_config_defaults(&fx->cfg);
    fx->cfg.inactivity_timeout = inactivity;
    fx->cfg.absolute_lifetime = lifetime;
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    fx->cfg.store_url = strdup(url);
    snprintf(fx->prefix, sizeof(fx->prefix), "rt:%s:%u:", name, ++serial);
    fx->cfg.key_prefix = strdup(fx->prefix);
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!fx->st)
        fail_msg("ck_store_open: %s", err);
    return fx->st;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    struct timeval tv = { 2, 0 };

    if (!fx)
        return -1;
    fx->rc = redisConnectWithTimeout("127.0.0.1", redis_port(), tv);
    if (!fx->rc || fx->rc->err) {
        if (fx->rc)
            redisFree(fx->rc);
        free(fx);
        return -1;
    }
    fake_now = (int64_t)time(NULL);
    ck_clock_set(fake_clock);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    ck_store_close(fx->st);
    ck_config_free(&fx->cfg);
    redisFree(fx->rc);
    free(fx);
    ck_clock_set(NULL);
    return 0;
}

#define assert_status(st, got, want)                                          \
    do {                                                                      \
        ck_status g_ = (got), w_ = (want);                                    \
        if (g_ != w_)                                                         \
            fail_msg("got \"%s\", want \"%s\" (%s)", ck_status_str(g_),       \
                     ck_status_str(w_), ck_store_errstr(st));                 \
    } while (0)

static redisReply *cmd(fixture *fx, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(fx->rc, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static long long cmd_int(fixture *fx, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;
    long long v;

    va_start(ap, fmt);
    r = redisvCommand(fx->rc, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The text between the braces of a session's keys (redis_tags.h, checked by test_tags). */
static const char *braces(const char *sid)
{
    static char b[CK_RS_BRACES_MAX + 1];

    assert_true(ck_rs_tag_braces(sid, b) > 0);
    return b;
}

/* The key of a session, computed the way the backend does (test only). */
static size_t session_key(const fixture *fx, const char *sid, char *out, size_t outlen)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    int n = snprintf(out, outlen, "%ss:{%s}", fx->prefix, braces(sid));

    assert_true(n > 0 && (size_t)n + sizeof(md) <= outlen);
    SHA256((const unsigned char *)sid, strlen(sid), md);
    memcpy(out + n, md, sizeof(md));
    return (size_t)n + sizeof(md);
}

static void fill(ck_session *s, const char *user, ck_auth_method m)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "%s", user);
    snprintf(s->email, sizeof(s->email), "%s@clinic.example.sg", user);
    snprintf(s->role, sizeof(s->role), "nurse");
    snprintf(s->clinic_id, sizeof(s->clinic_id), "CL-7");
    s->method = m;
    snprintf(s->remote_host, sizeof(s->remote_host), "198.51.100.4");
    snprintf(s->service, sizeof(s->service), "sshd");
    snprintf(s->tty, sizeof(s->tty), "pts/1");
}

static void create(fixture *fx, const char *user, char sid[CK_SID_LEN])
{
    ck_session s;

    fill(&s, user, CK_AUTH_EMAIL);
    assert_status(fx->st, ck_store_create(fx->st, &s, sid), CK_OK);
}

static long long stat_calls(fixture *fx, const char *name)
{
    redisReply *r = cmd(fx, "INFO commandstats");
    char pat[64];
    const char *p;
    long long v = 0;

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", name);
    p = strstr(r->str, pat);
    if (p)
        v = atoll(p + strlen(pat));
    freeReplyObject(r);
    return v;
}

static long long info_field(fixture *fx, const char *section, const char *name)
{
    redisReply *r = cmd(fx, "INFO %s", section);
    char pat[64];
    const char *p;
    long long v = -1;

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    snprintf(pat, sizeof(pat), "\r\n%s:", name);
    p = strstr(r->str, pat);
    if (p)
        v = atoll(p + strlen(pat));
    freeReplyObject(r);
    return v;
}

/* ---- tests -------------------------------------------------------------- */

static int holds(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return 1;
    return 0;
}

/* Every string a key of ours holds: its value, members, fields, scores. */
static void key_strings(fixture *fx, const char *key, size_t len, redisReply **out)
{
    redisReply *t = cmd(fx, "TYPE %b", key, len);

    if (strcmp(t->str, "string") == 0)
        *out = cmd(fx, "GET %b", key, len);
    else if (strcmp(t->str, "hash") == 0)
        *out = cmd(fx, "HGETALL %b", key, len);
    else if (strcmp(t->str, "zset") == 0)
        *out = cmd(fx, "ZRANGE %b 0 -1 WITHSCORES", key, len);
    else
        fail_msg("unexpected key type %s", t->str);
    freeReplyObject(t);
}

static void check_no_sid(const char *what, const char *buf, size_t len,
                         char sids[][CK_SID_LEN], int n)
{
    for (int i = 0; i < n; i++)
        if (holds(buf, len, sids[i] + 2))   /* the random part, tag aside */
            fail_msg("a session id appears in a %s", what);
}

static void test_no_sid_in_keyspace(void **state)
{
    fixture *fx = *state;
    char sids[12][CK_SID_LEN], user[32], pattern[80], tag[8];
    ck_session s;
    size_t cursor = 0, seen = 0;
    int64_t n;

    open_store(fx, "nosid", 1200, 86400, redis_port());
    for (int i = 0; i < 12; i++) {
        snprintf(user, sizeof(user), "user%d", i % 4);
        create(fx, user, sids[i]);
        assert_status(fx->st, ck_store_touch(fx->st, sids[i], &s), CK_OK);
    }
    assert_status(fx->st, ck_store_state_put(fx->st, "login:1", "v", 1, 0), CK_OK);
    assert_status(fx->st, ck_store_fail_add(fx->st, "u:user0", 900, &n), CK_OK);
    snprintf(pattern, sizeof(pattern), "%s*", fx->prefix);
    do {
        char cur[32];
        redisReply *r;

        snprintf(cur, sizeof(cur), "%zu", cursor);
        r = cmd(fx, "SCAN %s MATCH %s COUNT 1000", cur, pattern);

        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        cursor = strtoull(r->element[0]->str, NULL, 10);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const redisReply *k = r->element[1]->element[i];
            redisReply *v = NULL;

            check_no_sid("key name", k->str, k->len, sids, 12);
            key_strings(fx, k->str, k->len, &v);
            if (v->type == REDIS_REPLY_STRING)
                check_no_sid("value", v->str, v->len, sids, 12);
            for (size_t j = 0; v->type == REDIS_REPLY_ARRAY && j < v->elements; j++)
                check_no_sid("value", v->element[j]->str, v->element[j]->len, sids, 12);
            freeReplyObject(v);
            seen++;
        }
        freeReplyObject(r);
    } while (cursor != 0);
    /* 12 sessions, 4 user indexes, the tags' metrics, a state, a counter */
    assert_true(seen >= 12 + 4 + 2);
    /* a session key is named by its user's tag and the hash of its id */
    {
        char key[256];

        size_t klen = session_key(fx, sids[0], key, sizeof(key));

        assert_int_equal(cmd_int(fx, "EXISTS %b", key, klen), 1);
        snprintf(tag, sizeof(tag), "{%s}", braces(sids[0]));
        snprintf(key, sizeof(key), "%su:%suser0", fx->prefix, tag);
        assert_int_equal(cmd_int(fx, "EXISTS %s", key), 1);
    }
}

/*
 * The keys on the server: a session with an old tag keeps the keys ids
 * had before the wider tags ("{3f}"), and a new one lands on its tag's
 * evenly spaced slot, which CLUSTER KEYSLOT would name the same way.
 */
static void test_tag_keys(void **state)
{
    fixture *fx = *state;
    char sid_old[CK_SID_LEN], sid_new[CK_SID_LEN], old_tag[3], key[256];
    ck_session s;
    size_t klen;

    open_store(fx, "tagkeys", 1200, 86400, redis_port());
    ck_user_tag_old("olga", old_tag);
    fill(&s, "olga", CK_AUTH_EMAIL);
    assert_status(fx->st, ck_store_create_tagged(fx->st, &s, old_tag, sid_old), CK_OK);
    create(fx, "olga", sid_new);
    assert_string_equal(braces(sid_old), old_tag);
    klen = session_key(fx, sid_old, key, sizeof(key));
    assert_memory_equal(key + strlen(fx->prefix), "s:{", 3);
    assert_memory_equal(key + strlen(fx->prefix) + 3, old_tag, 2);
    assert_int_equal(cmd_int(fx, "EXISTS %b", key, klen), 1);
    snprintf(key, sizeof(key), "%su:{%s}olga", fx->prefix, old_tag);
    assert_int_equal(cmd_int(fx, "EXISTS %s", key), 1);
    klen = session_key(fx, sid_new, key, sizeof(key));
    assert_int_equal(cmd_int(fx, "EXISTS %b", key, klen), 1);
    assert_int_equal(ck_redis_key_slot(key, klen),
                     ck_rs_tag_slot(ck_tag_index(sid_new) - CK_TAG_OLD_COUNT));
    snprintf(key, sizeof(key), "%su:{%s}olga", fx->prefix, braces(sid_new));
    assert_int_equal(cmd_int(fx, "EXISTS %s", key), 1);
}

/*
 * A touch is one command: a plain GETEX when this handle knows the session
 * and its expiry stays in the minute its record is counted in, else the
 * script. Either way the session reads back as touched.
 */
static void test_touch_one_command(void **state)
{
    fixture *fx = *state;
    char sid[CK_SID_LEN];
    ck_session s, got;
    redisReply *r;

    /* A minute boundary, so that "the same minute" is certain below. */
    fake_now = ((int64_t)time(NULL) / 60 + 1) * 60;
    open_store(fx, "onecmd", 1200, 86400, redis_port());
    create(fx, "carol", sid);
    assert_status(fx->st, ck_store_get(fx->st, sid, &got), CK_OK);  /* loads the script */
    r = cmd(fx, "CONFIG RESETSTAT");
    freeReplyObject(r);
    sent_commands = sent_pipelines = 0;
    fake_now += 30;
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_OK);
    assert_int_equal(s.last_activity, fake_now);
    assert_int_equal(s.expires, fake_now + 1200);
    assert_int_equal(sent_commands, 1);
    assert_int_equal(sent_pipelines, 0);
    assert_int_equal(stat_calls(fx, "getex"), 1);
    assert_int_equal(stat_calls(fx, "evalsha"), 0);
    /* what the GETEX moved is what readers see */
    assert_status(fx->st, ck_store_get(fx->st, sid, &got), CK_OK);
    assert_int_equal(got.last_activity, fake_now);
    assert_int_equal(got.expires, fake_now + 1200);
    /* the next minute moves the session's metrics bucket: the script */
    sent_commands = 0;
    fake_now += 60;
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_OK);
    assert_int_equal(s.expires, fake_now + 1200);
    assert_int_equal(sent_commands, 1);
    assert_int_equal(stat_calls(fx, "getex"), 1);
    assert_int_equal(stat_calls(fx, "evalsha"), 2);
    assert_int_equal(stat_calls(fx, "script|load"), 0);
    /* an expired session costs one command too */
    sent_commands = 0;
    fake_now += 1200;
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_EXPIRED_IDLE);
    assert_int_equal(sent_commands, 1);
    assert_int_equal(stat_calls(fx, "evalsha"), 3);
}

/*
 * A checkupd worker touches every session of its users in turn. With
 * 12,000 sessions (more than the 8,192 a handle used to remember) touched
 * round robin within their minute, nearly every touch is still the plain
 * GETEX.
 */
#define MANY 12000
static void test_touch_many_sessions_no_script(void **state)
{
    fixture *fx = *state;
    char (*sid)[CK_SID_LEN] = calloc(MANY, CK_SID_LEN);
    char user[32];
    ck_session s;
    redisReply *r;

    assert_non_null(sid);
    fake_now = ((int64_t)time(NULL) / 60 + 1) * 60;
    open_store(fx, "many", 1200, 86400, redis_port());
    for (int i = 0; i < MANY; i++) {
        snprintf(user, sizeof(user), "user%d", i % 100);
        create(fx, user, sid[i]);
    }
    r = cmd(fx, "CONFIG RESETSTAT");
    freeReplyObject(r);
    fake_now += 30;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < MANY; i++)
            assert_status(fx->st, ck_store_touch(fx->st, sid[i], &s), CK_OK);
    /* a few sets draw more than their 4 sessions; 8,192 hints gave nearly all */
    assert_int_equal(stat_calls(fx, "getex") + stat_calls(fx, "evalsha"), 2 * MANY);
    assert_true(stat_calls(fx, "evalsha") < 2 * MANY / 50);
    /* gone, so that no later test waits for Redis to sample 12,000 TTLs */
    for (int i = 0; i < 100; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        assert_status(fx->st, ck_store_revoke_user(fx->st, user, NULL), CK_OK);
    }
    free(sid);
}

static void test_noscript_recovery(void **state)
{
    fixture *fx = *state;
    char sid[CK_SID_LEN], sid2[CK_SID_LEN];
    ck_session s;
    ck_metrics m;
    redisReply *r;

    open_store(fx, "noscript", 1200, 86400, redis_port());
    create(fx, "dave", sid);
    r = cmd(fx, "SCRIPT FLUSH");
    freeReplyObject(r);
    r = cmd(fx, "CONFIG RESETSTAT");
    freeReplyObject(r);
    assert_status(fx->st, ck_store_get(fx->st, sid, &s), CK_OK);
    /* the failed EVALSHA, one SCRIPT LOAD, the retried EVALSHA */
    assert_int_equal(stat_calls(fx, "script|load"), 1);
    assert_int_equal(stat_calls(fx, "evalsha"), 2);
    r = cmd(fx, "SCRIPT FLUSH");
    freeReplyObject(r);
    assert_status(fx->st, ck_store_metrics(fx->st, &m), CK_OK);
    assert_int_equal(m.active, 1);
    assert_int_equal(m.created, 1);
    r = cmd(fx, "SCRIPT FLUSH");
    freeReplyObject(r);
    create(fx, "dave", sid2);
    assert_status(fx->st, ck_store_revoke_user(fx->st, "dave", NULL), CK_OK);
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_NOT_FOUND);
}

/*
 * Real time: an idle session's key outlives its expiry by
 * CK_STORE_END_GRACE, so that a touch then reports why it ended; Redis
 * drops the key by itself after that, and metrics count the session once.
 */
static void test_redis_expires_by_itself(void **state)
{
    fixture *fx = *state;
    char sid[2][CK_SID_LEN], key[2][256];
    size_t klen[2];
    ck_session s;
    ck_metrics m;
    long long ttl, expired0;
    int gone = 0;

    ck_clock_set(NULL);
    open_store(fx, "realtime", 1, 60, redis_port());
    create(fx, "erin", sid[0]);
    create(fx, "frank", sid[1]);
    for (int i = 0; i < 2; i++) {
        klen[i] = session_key(fx, sid[i], key[i], sizeof(key[i]));
        assert_int_equal(cmd_int(fx, "EXISTS %b", key[i], klen[i]), 1);
        ttl = cmd_int(fx, "TTL %b", key[i], klen[i]);
        assert_true(ttl >= CK_STORE_END_GRACE - 1 && ttl <= CK_STORE_END_GRACE + 1);
    }
    /* Past the inactivity timeout in real time: the key is still there. */
    usleep(2100 * 1000);
    assert_int_equal(cmd_int(fx, "EXISTS %b", key[0], klen[0]), 1);
    assert_status(fx->st, ck_store_touch(fx->st, sid[0], &s), CK_EXPIRED_IDLE);
    assert_int_equal(cmd_int(fx, "EXISTS %b", key[0], klen[0]), 0);
    assert_status(fx->st, ck_store_touch(fx->st, sid[0], &s), CK_NOT_FOUND);
    /* once their expiry minute has passed they are counted as idle, once */
    fake_now = (int64_t)time(NULL) + 120;
    ck_clock_set(fake_clock);
    for (int i = 0; i < 2; i++) {
        assert_status(fx->st, ck_store_metrics(fx->st, &m), CK_OK);
        assert_int_equal(m.created, 2);
        assert_int_equal(m.active, 0);
        assert_int_equal(m.ended_idle, 2);
        assert_int_equal(m.ended_lifetime, 0);
        assert_int_equal(m.ended_logout, 0);
        assert_int_equal(m.duration_sum, 2);
    }
    /* The grace over (brought forward here), Redis drops the other key by
     * itself, with no access meanwhile: not found. */
    expired0 = info_field(fx, "stats", "expired_keys");
    assert_int_equal(cmd_int(fx, "PEXPIRE %b 200", key[1], klen[1]), 1);
    for (int i = 0; i < 50 && !gone; i++) {
        usleep(100 * 1000);
        gone = info_field(fx, "stats", "expired_keys") - expired0 >= 1;
    }
    assert_true(gone);
    assert_int_equal(cmd_int(fx, "EXISTS %b", key[1], klen[1]), 0);
    assert_status(fx->st, ck_store_touch(fx->st, sid[1], &s), CK_NOT_FOUND);
}

/* Expired under a test clock while the key still exists: counted once. */
static void test_expiry_counted_once(void **state)
{
    fixture *fx = *state;
    char sid[CK_SID_LEN], key[256];
    ck_session s;
    ck_metrics m;
    redisReply *r;

    open_store(fx, "once", 1200, 86400, redis_port());
    create(fx, "gina", sid);
    /* many touches over many minutes: the metrics hash stays small */
    for (int i = 0; i < 100; i++) {
        fake_now += 61;
        assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_OK);
    }
    snprintf(key, sizeof(key), "%sm:{%s}", fx->prefix, braces(sid));
    assert_true(cmd_int(fx, "HLEN %s", key) <= 11 + 8 * 2);
    fake_now += 1200 + 60;
    assert_status(fx->st, ck_store_metrics(fx->st, &m), CK_OK);
    assert_int_equal(m.ended_idle, 1);
    assert_int_equal(m.active, 0);
    assert_int_equal(m.duration_sum, 100 * 61 + 1200);
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_EXPIRED_IDLE);
    assert_status(fx->st, ck_store_metrics(fx->st, &m), CK_OK);
    assert_int_equal(m.ended_idle, 1);
    assert_int_equal(m.active, 0);
    snprintf(key, sizeof(key), "%smz:{%s}", fx->prefix, braces(sid));
    r = cmd(fx, "ZCARD %s", key);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
}

static void test_wrong_shape(void **state)
{
    fixture *fx = *state;
    char sid[CK_SID_LEN], key[256], sk[256];
    size_t sklen;
    unsigned char rec[400];
    ck_session s;
    ck_session_list list;
    ck_metrics m;
    redisReply *r;

    open_store(fx, "shape", 1200, 86400, redis_port());
    create(fx, "hank", sid);
    sklen = session_key(fx, sid, sk, sizeof(sk));

    r = cmd(fx, "SET %b %s", sk, sklen, "not a session");
    freeReplyObject(r);
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_ERR_CORRUPT);
    assert_status(fx->st, ck_store_get(fx->st, sid, &s), CK_ERR_CORRUPT);
    assert_status(fx->st, ck_store_delete(fx->st, sid), CK_ERR_CORRUPT);
    assert_status(fx->st, ck_store_list_user(fx->st, "hank", &list), CK_ERR_CORRUPT);
    assert_status(fx->st, ck_store_revoke_user(fx->st, "hank", NULL), CK_ERR_CORRUPT);

    r = cmd(fx, "DEL %b", sk, sklen);
    freeReplyObject(r);
    r = cmd(fx, "HSET %b a b", sk, sklen);
    freeReplyObject(r);
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_ERR_CORRUPT);

    /* a header that passes, a user id longer than any checkup writes */
    memset(rec, 0, sizeof(rec));
    rec[0] = 1;
    memcpy(rec + 2, &fake_now, 8);          /* little-endian host */
    rec[10] = 1;
    rec[14] = 100;
    rec[18] = 200;
    memset(rec + 22, 'a', 300);
    r = cmd(fx, "DEL %b", sk, sklen);
    freeReplyObject(r);
    r = cmd(fx, "SET %b %b", sk, sklen, rec, (size_t)(22 + 300 + 7));
    freeReplyObject(r);
    assert_status(fx->st, ck_store_get(fx->st, sid, &s), CK_ERR_CORRUPT);

    /* the user index and the metrics of the wrong type */
    r = cmd(fx, "DEL %b", sk, sklen);
    freeReplyObject(r);
    snprintf(key, sizeof(key), "%su:{%s}hank", fx->prefix, braces(sid));
    r = cmd(fx, "SET %s x", key);
    freeReplyObject(r);
    assert_status(fx->st, ck_store_list_user(fx->st, "hank", &list), CK_ERR_CORRUPT);
    snprintf(key, sizeof(key), "%sm:{%s}", fx->prefix, braces(sid));
    r = cmd(fx, "DEL %s", key);
    freeReplyObject(r);
    r = cmd(fx, "SET %s x", key);
    freeReplyObject(r);
    assert_status(fx->st, ck_store_metrics(fx->st, &m), CK_ERR_CORRUPT);
    assert_int_equal(m.active, 0);
    /* state and counters too */
    snprintf(key, sizeof(key), "%sp:short", fx->prefix);
    r = cmd(fx, "SET %s x", key);
    freeReplyObject(r);
    {
        void *v = NULL;
        size_t len;
        int64_t n;

        assert_status(fx->st, ck_store_state_get(fx->st, "short", &v, &len), CK_ERR_CORRUPT);
        assert_null(v);
        snprintf(key, sizeof(key), "%sf:u:hank", fx->prefix);
        r = cmd(fx, "SET %s x", key);
        freeReplyObject(r);
        assert_status(fx->st, ck_store_fail_count(fx->st, "u:hank", &n), CK_ERR_CORRUPT);
        assert_status(fx->st, ck_store_fail_add(fx->st, "u:hank", 60, &n), CK_ERR_CORRUPT);
    }
}

/* A server that accepts and never answers: UNAVAILABLE within the timeout. */
static void test_silent_server(void **state)
{
    fixture *fx = *state;
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char sid[CK_SID_LEN], url[64], err[512];
    ck_session s;
    struct timespec t0, t1;
    double secs;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);

    ck_config_defaults(&fx->cfg);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", ntohs(sa.sin_port));
    fx->cfg.store_url = strdup(url);
    fx->cfg.connect_timeout_ms = 300;
    fx->cfg.command_timeout_ms = 300;
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    assert_non_null(fx->st);
    memset(sid, 'A', CK_SID_LEN - 1);
    sid[0] = '0';
    sid[1] = '1';
    sid[CK_SID_LEN - 1] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_status(fx->st, ck_store_touch(fx->st, sid, &s), CK_ERR_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 2.0);
    assert_true(strlen(ck_store_errstr(fx->st)) > 0);
    assert_null(strstr(ck_store_errstr(fx->st), sid));
    close(fd);
}

/* Nothing listens: UNAVAILABLE at once, for every kind of operation. */
static void test_refused(void **state)
{
    fixture *fx = *state;
    const char *p = getenv("CHECKUP_TEST_DEAD_PORT");
    char sid[CK_SID_LEN];
    ck_session s;
    ck_metrics m;
    int64_t n;

    if (!p)
        fail_msg("CHECKUP_TEST_DEAD_PORT is not set (tests/redis_store.sh sets it)");
    open_store(fx, "dead", 1200, 86400, atoi(p));
    fill(&s, "ivan", CK_AUTH_OIDC);
    assert_status(fx->st, ck_store_create(fx->st, &s, sid), CK_ERR_UNAVAILABLE);
    assert_status(fx->st, ck_store_metrics(fx->st, &m), CK_ERR_UNAVAILABLE);
    assert_status(fx->st, ck_store_fail_add(fx->st, "x", 10, &n), CK_ERR_UNAVAILABLE);
    assert_status(fx->st, ck_store_ping(fx->st), CK_ERR_UNAVAILABLE);
}

static void test_bad_prefix(void **state)
{
    fixture *fx = *state;
    char url[64], err[512];

    ck_config_defaults(&fx->cfg);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", redis_port());
    fx->cfg.store_url = strdup(url);
    fx->cfg.key_prefix = strdup("ck{x}:");
    assert_null(ck_store_open(&fx->cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "key_prefix"));
}

/* Cap eviction, revocation and listing leave no stale index members. */
static void test_index_pruned(void **state)
{
    fixture *fx = *state;
    char sid[5][CK_SID_LEN], key[256];
    ck_session_list list;
    size_t count;

    open_store(fx, "prune", 60, 86400, redis_port());
    for (int i = 0; i < 3; i++)
        create(fx, "judy", sid[i]);
    fake_now += 61;                         /* all three idle out */
    create(fx, "judy", sid[3]);
    snprintf(key, sizeof(key), "%su:{%s}judy", fx->prefix, braces(sid[0]));
    assert_int_equal(cmd_int(fx, "ZCARD %s", key), 1);
    assert_true(cmd_int(fx, "TTL %s", key) > 86000);
    create(fx, "judy", sid[4]);
    assert_status(fx->st, ck_store_list_user(fx->st, "judy", &list), CK_OK);
    assert_int_equal(list.count, 2);
    ck_session_list_free(&list);
    assert_status(fx->st, ck_store_revoke_user(fx->st, "judy", &count), CK_OK);
    assert_int_equal(count, 2);
    assert_int_equal(cmd_int(fx, "EXISTS %s", key), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_sid_in_keyspace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch_one_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noscript_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_expires_by_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_counted_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_pruned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch_many_sessions_no_script, setup, teardown),
    };

    return cmocka_run_group_tests_name("redis store", tests, NULL, NULL);
}
