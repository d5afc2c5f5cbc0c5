/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store contract: one behavioural suite that runs unchanged against
 * every backend (tests/contract_lmdb.sh, tests/contract_redis.sh,
 * tests/contract_cluster.sh).
 *
 * Time comes from a fake clock that starts at the real time (so that a
 * backend handing absolute expiry times to Redis still sees the future)
 * and only ever steps forward. Each test opens a fresh namespace, so
 * counts and metrics are exact.
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

#include <cmocka.h>
#include <dirent.h>
#include <hiredis/hiredis.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "backend.h"        /* ck_store_create_tagged, the tags */
#include "ck_store.h"
#include "contract_common.h"

#define INACT   1200
#define LIFE    86400

static int64_t fake_now;
static int64_t t0;

static int64_t fake_clock(void)
{
    return fake_now;
}

static void at(int64_t offset)
{
    assert_true(t0 + offset >= fake_now);   /* time never runs backwards */
    fake_now = t0 + offset;
}

typedef struct fixture {
    ck_config cfg;
    ck_store *st;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    t0 = (int64_t)time(NULL);
    fake_now = t0;
    ck_clock_set(fake_clock);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    ck_store_close(fx->st);
    ck_config_free(&fx->cfg);
    free(fx);
    ck_clock_set(NULL);
    return 0;
}

static ck_store *open_ns(void **state, const char *name, int inactivity, int lifetime,
                         int cap)
{
    fixture *fx = *state;
    char err[512] = "";

    ct_config(&fx->cfg, name, inactivity, lifetime, cap);
    fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!fx->st)
        fail_msg("ck_store_open: %s", err);
    return fx->st;
}

static void mk(ck_store *st, const char *user, ck_auth_method m, char sid[CK_SID_LEN],
               ck_session *out)
{
    ck_session s;

    ct_fill(&s, user, m);
    assert_status(st, ck_store_create(st, &s, sid), CK_OK);
    if (out)
        *out = s;
}

static void assert_same_identity(const ck_session *a, const ck_session *b)
{
    assert_string_equal(a->key_hex, b->key_hex);
    assert_string_equal(a->user_id, b->user_id);
    assert_string_equal(a->email, b->email);
    assert_string_equal(a->role, b->role);
    assert_string_equal(a->clinic_id, b->clinic_id);
    assert_int_equal(a->method, b->method);
    assert_int_equal(a->created, b->created);
    assert_int_equal(a->deadline, b->deadline);
    assert_string_equal(a->remote_host, b->remote_host);
    assert_string_equal(a->service, b->service);
    assert_string_equal(a->tty, b->tty);
    assert_string_equal(a->idp_sid, b->idp_sid);
}

/* Metrics must match exactly; prints the whole record when they do not. */
static void assert_metrics(ck_store *st, int64_t active, const int64_t by_method[3],
                           int64_t created, int64_t logout, int64_t idle,
                           int64_t lifetime, int64_t revoked, int64_t dur_sum)
{
    ck_metrics m;
    int64_t ended = logout + idle + lifetime + revoked;

    assert_status(st, ck_store_metrics(st, &m), CK_OK);
    if (m.active != active || m.created != created || m.ended_logout != logout ||
        m.ended_idle != idle || m.ended_lifetime != lifetime || m.ended_revoked != revoked ||
        m.duration_sum != dur_sum ||
        (by_method && (m.active_by_method[0] != by_method[0] ||
                       m.active_by_method[1] != by_method[1] ||
                       m.active_by_method[2] != by_method[2])))
        fail_msg("metrics: active %lld (%lld/%lld/%lld) created %lld logout %lld idle %lld "
                 "lifetime %lld revoked %lld duration_sum %lld; want active %lld "
                 "(%lld/%lld/%lld) created %lld logout %lld idle %lld lifetime %lld "
                 "revoked %lld duration_sum %lld",
                 (long long)m.active, (long long)m.active_by_method[0],
                 (long long)m.active_by_method[1], (long long)m.active_by_method[2],
                 (long long)m.created, (long long)m.ended_logout, (long long)m.ended_idle,
                 (long long)m.ended_lifetime, (long long)m.ended_revoked,
                 (long long)m.duration_sum, (long long)active,
                 (long long)(by_method ? by_method[0] : -1),
                 (long long)(by_method ? by_method[1] : -1),
                 (long long)(by_method ? by_method[2] : -1), (long long)created,
                 (long long)logout, (long long)idle, (long long)lifetime,
                 (long long)revoked, (long long)dur_sum);
    if (ended > 0)
        assert_true(m.avg_duration > (double)dur_sum / (double)ended - 1e-9 &&
                    m.avg_duration < (double)dur_sum / (double)ended + 1e-9);
    else
        assert_true(m.avg_duration == 0.0);
}

static int list_has(const ck_session_list *l, const char *key_hex)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key_hex, key_hex) == 0)
            return 1;
    return 0;
}

/* ---- create ------------------------------------------------------------ */

static void test_create_roundtrip(void **state)
{
    ck_store *st = open_ns(state, "create", INACT, LIFE, 0);
    ck_session in, got;
    char sid[CK_SID_LEN];

    ct_fill(&in, "zoë.tan", CK_AUTH_CORPPASS);
    /* UTF-8 text is legal in every field. */
    snprintf(in.role, sizeof(in.role), "médecin 医生");
    snprintf(in.clinic_id, sizeof(in.clinic_id), "Klinik Ümit");
    snprintf(in.tty, sizeof(in.tty), "web \xf0\x9f\x98\x80");     /* a 4-byte character */
    snprintf(in.idp_sid, sizeof(in.idp_sid),
             "s=S1234567A,uuid=0f4e3c2a-1111-2222-3333-444455556666,u=CP1,c=SG");
    assert_status(st, ck_store_create(st, &in, sid), CK_OK);

    /* 2 tag characters and 256 random bits in 43 base64url characters. */
    assert_int_equal(strlen(sid), 45);
    for (size_t i = 2; i < CK_SID_LEN - 1; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789-_", sid[i]));
    assert_int_equal(in.created, t0);
    assert_int_equal(in.last_activity, t0);
    assert_int_equal(in.deadline, t0 + LIFE);
    assert_int_equal(in.expires, t0 + INACT);
    assert_int_equal(strlen(in.key_hex), CK_KEY_HEX_LEN - 1);
    assert_memory_equal(in.key_hex, sid, 2);        /* same user slot tag */

    at(5);
    assert_status(st, ck_store_get(st, sid, &got), CK_OK);
    assert_same_identity(&in, &got);
    assert_int_equal(got.last_activity, t0);
    assert_int_equal(got.expires, t0 + INACT);
}

/*
 * Ids issued before the wider tags carry the user's old tag ("00".."3f",
 * lowercase hex) and stay valid until they end: get, touch, logout, list
 * and revocation of the user find them next to the new ones, and metrics
 * count both. Every new id's tag begins with a character that is not
 * lowercase hex.
 */
static void test_old_tag_ids(void **state)
{
    ck_store *st = open_ns(state, "oldtag", INACT, LIFE, 0);
    const int64_t by_method[3] = { 2, 0, 1 };
    ck_session a, b, c, got;
    ck_session_list l;
    char old_tag[3], new_tag[3], sid_a[CK_SID_LEN], sid_b[CK_SID_LEN], sid_c[CK_SID_LEN];
    size_t n;

    ck_user_tag_old("legacy.user", old_tag);
    ck_user_tag("legacy.user", new_tag);
    assert_true(ck_tag_index(old_tag) >= 0 && ck_tag_index(old_tag) < CK_TAG_OLD_COUNT);
    assert_true(ck_tag_index(new_tag) >= CK_TAG_OLD_COUNT);
    ct_fill(&a, "legacy.user", CK_AUTH_EMAIL);
    assert_status(st, ck_store_create_tagged(st, &a, old_tag, sid_a), CK_OK);
    assert_memory_equal(sid_a, old_tag, 2);
    assert_memory_equal(a.key_hex, old_tag, 2);
    at(1);
    ct_fill(&b, "legacy.user", CK_AUTH_OIDC);
    assert_status(st, ck_store_create_tagged(st, &b, old_tag, sid_b), CK_OK);
    at(2);
    ct_fill(&c, "legacy.user", CK_AUTH_EMAIL);
    assert_status(st, ck_store_create(st, &c, sid_c), CK_OK);
    assert_memory_equal(sid_c, new_tag, 2);
    assert_null(strchr("0123456789abcdef", sid_c[0]));
    assert_metrics(st, 3, by_method, 3, 0, 0, 0, 0, 0);

    at(10);
    assert_status(st, ck_store_touch(st, sid_a, &got), CK_OK);
    assert_same_identity(&a, &got);
    assert_int_equal(got.last_activity, t0 + 10);
    assert_status(st, ck_store_get(st, sid_b, &got), CK_OK);
    assert_same_identity(&b, &got);
    assert_status(st, ck_store_list_user(st, "legacy.user", &l), CK_OK);
    assert_int_equal(l.count, 3);       /* both tags, by creation */
    assert_string_equal(l.items[0].key_hex, a.key_hex);
    assert_string_equal(l.items[1].key_hex, b.key_hex);
    assert_string_equal(l.items[2].key_hex, c.key_hex);
    ck_session_list_free(&l);

    at(20);
    assert_status(st, ck_store_delete(st, sid_b), CK_OK);
    assert_status(st, ck_store_touch(st, sid_b, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_revoke_user(st, "legacy.user", &n), CK_OK);
    assert_int_equal(n, 2);
    assert_status(st, ck_store_touch(st, sid_a, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_touch(st, sid_c, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_list_user(st, "legacy.user", &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_session_list_free(&l);
    assert_metrics(st, 0, NULL, 3, 1, 0, 0, 2, 20 + 20 - 1 + 20 - 2);
}

static void test_create_unique(void **state)
{
    ck_store *st = open_ns(state, "unique", INACT, LIFE, 0);
    ck_session a, b;
    char sa[CK_SID_LEN], sb[CK_SID_LEN];
    ck_session_list l;

    mk(st, "u1", CK_AUTH_EMAIL, sa, &a);
    mk(st, "u1", CK_AUTH_EMAIL, sb, &b);
    assert_string_not_equal(sa, sb);
    assert_string_not_equal(a.key_hex, b.key_hex);

    assert_status(st, ck_store_list_user(st, "u1", &l), CK_OK);
    assert_int_equal(l.count, 2);
    assert_true(list_has(&l, a.key_hex));
    assert_true(list_has(&l, b.key_hex));
    ck_session_list_free(&l);
}

/* The per-user cap evicts the oldest session and counts it as revoked. */
static void test_create_cap(void **state)
{
    ck_store *st = open_ns(state, "cap", INACT, LIFE, 3);
    char s[4][CK_SID_LEN], other[CK_SID_LEN];
    ck_session k[4], got;
    ck_session_list l;
    const int64_t by[3] = {4, 0, 0};

    for (int i = 0; i < 4; i++) {
        at(i);
        mk(st, "capped", CK_AUTH_EMAIL, s[i], &k[i]);
    }
    at(10);
    mk(st, "other", CK_AUTH_EMAIL, other, NULL);

    assert_status(st, ck_store_touch(st, s[0], &got), CK_NOT_FOUND);
    for (int i = 1; i < 4; i++)
        assert_status(st, ck_store_get(st, s[i], &got), CK_OK);
    assert_status(st, ck_store_get(st, other, &got), CK_OK);
    assert_status(st, ck_store_list_user(st, "capped", &l), CK_OK);
    assert_int_equal(l.count, 3);
    assert_false(list_has(&l, k[0].key_hex));
    ck_session_list_free(&l);
    /* evicted at t0+3, created at t0: duration 3 */
    assert_metrics(st, 4, by, 5, 0, 0, 0, 1, 3);
}

/* Only the user id set: every optional field round-trips empty. */
static void test_create_minimal(void **state)
{
    ck_store *st = open_ns(state, "minimal", INACT, LIFE, 0);
    ck_session in, got;
    char sid[CK_SID_LEN];
    ck_session_list l;

    memset(&in, 0, sizeof(in));
    snprintf(in.user_id, sizeof(in.user_id), "m");
    in.method = CK_AUTH_EMAIL;
    assert_status(st, ck_store_create(st, &in, sid), CK_OK);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    assert_same_identity(&in, &got);
    assert_string_equal(got.email, "");
    assert_string_equal(got.idp_sid, "");
    assert_status(st, ck_store_list_user(st, "m", &l), CK_OK);
    assert_int_equal(l.count, 1);
    assert_same_identity(&in, &l.items[0]);
    ck_session_list_free(&l);
}

/* Expired sessions do not count against the cap, and end as idle. */
static void test_create_cap_skips_expired(void **state)
{
    ck_store *st = open_ns(state, "capexp", INACT, LIFE, 2);
    char a[CK_SID_LEN], b[CK_SID_LEN], c[CK_SID_LEN];
    ck_session got;
    const int64_t by[3] = {2, 0, 0};

    mk(st, "cx", CK_AUTH_EMAIL, a, NULL);
    at(1);
    mk(st, "cx", CK_AUTH_EMAIL, b, NULL);
    at(1000);
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    at(INACT + 120);                    /* a idled out, b is live */
    mk(st, "cx", CK_AUTH_EMAIL, c, NULL);
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    assert_status(st, ck_store_touch(st, c, &got), CK_OK);
    assert_status2(st, ck_store_touch(st, a, &got), CK_NOT_FOUND, CK_EXPIRED_IDLE);
    assert_metrics(st, 2, by, 3, 0, 1, 0, 0, INACT);
}

/* Users whose ids share a prefix or hold glob characters stay apart. */
static void test_user_prefixes(void **state)
{
    static const char *const users[] = {
        "ann", "anne", "an", "ann.e", "ann*", "ann?", "a[n]n", "{ann}", "ann:1", "ANN",
    };
    enum { NU = sizeof(users) / sizeof(users[0]) };
    ck_store *st = open_ns(state, "prefix", INACT, LIFE, 0);
    char sid[NU][2][CK_SID_LEN];
    ck_session k[NU][2], got;
    ck_session_list l;
    size_t n;

    for (int u = 0; u < NU; u++)
        for (int j = 0; j < 2; j++)
            mk(st, users[u], CK_AUTH_EMAIL, sid[u][j], &k[u][j]);
    for (int u = 0; u < NU; u++) {
        assert_status(st, ck_store_list_user(st, users[u], &l), CK_OK);
        if (l.count != 2 || !list_has(&l, k[u][0].key_hex) || !list_has(&l, k[u][1].key_hex))
            fail_msg("list_user(\"%s\") returned %zu sessions, not its own 2", users[u],
                     l.count);
        for (size_t i = 0; i < l.count; i++)
            assert_string_equal(l.items[i].user_id, users[u]);
        ck_session_list_free(&l);
    }
    assert_status(st, ck_store_revoke_user(st, "ann", &n), CK_OK);
    assert_int_equal(n, 2);
    assert_status(st, ck_store_revoke_user(st, "ann*", &n), CK_OK);
    assert_int_equal(n, 2);
    for (int u = 0; u < NU; u++) {
        int gone = strcmp(users[u], "ann") == 0 || strcmp(users[u], "ann*") == 0;

        for (int j = 0; j < 2; j++)
            assert_status(st, ck_store_touch(st, sid[u][j], &got), gone ? CK_NOT_FOUND : CK_OK);
    }
}

/* Many sessions of one user: all listed, all revoked. */
static void test_list_many(void **state)
{
    ck_store *st = open_ns(state, "many", INACT, LIFE, 0);
    char sid[CK_SID_LEN];
    ck_session_list l;
    size_t n;
    enum { MANY = 300 };

    for (int i = 0; i < MANY; i++)
        mk(st, "busy", (ck_auth_method)(i % 3), sid, NULL);
    assert_status(st, ck_store_list_user(st, "busy", &l), CK_OK);
    assert_int_equal(l.count, MANY);
    for (size_t i = 1; i < l.count; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(l.items[i].key_hex, l.items[j].key_hex) == 0)
                fail_msg("list_user returned one session twice");
    ck_session_list_free(&l);
    assert_status(st, ck_store_revoke_user(st, "busy", &n), CK_OK);
    assert_int_equal(n, MANY);
    assert_status(st, ck_store_list_user(st, "busy", &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_session_list_free(&l);
}

/* ---- touch ------------------------------------------------------------- */

static void test_touch_missing(void **state)
{
    ck_store *st = open_ns(state, "missing", INACT, LIFE, 0);
    char sid[CK_SID_LEN], ghost[CK_SID_LEN];
    ck_session got;

    mk(st, "m1", CK_AUTH_EMAIL, sid, NULL);
    ct_other_sid(sid, ghost);
    assert_status(st, ck_store_touch(st, ghost, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_get(st, ghost, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
}

static void test_touch_refresh(void **state)
{
    ck_store *st = open_ns(state, "refresh", INACT, LIFE, 0);
    char sid[CK_SID_LEN];
    ck_session in, got, again;

    mk(st, "r1", CK_AUTH_OIDC, sid, &in);
    at(500);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    assert_same_identity(&in, &got);
    assert_int_equal(got.last_activity, t0 + 500);
    assert_int_equal(got.expires, t0 + 500 + INACT);
    /* the refresh is stored, not only returned */
    assert_status(st, ck_store_get(st, sid, &again), CK_OK);
    assert_int_equal(again.last_activity, t0 + 500);
    assert_int_equal(again.expires, t0 + 500 + INACT);
    /* alive past the first inactivity period thanks to the touch */
    at(INACT + 100);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
}

/*
 * A batch of touches (what checkupd sends for its queued keep-alives)
 * answers each exactly as a touch of its own would: live, logged out,
 * idle, never existed, the same session twice.
 */
static void test_touch_many(void **state)
{
    ck_store *st = open_ns(state, "many", INACT, LIFE, 0);
    char live[3][CK_SID_LEN], gone[CK_SID_LEN], idle[CK_SID_LEN], ghost[CK_SID_LEN];
    const char *sids[7];
    ck_session outs_v[7], *outs[7], got;
    ck_status res[7];
    const ck_status want[7] = { CK_OK, CK_NOT_FOUND, CK_OK, CK_EXPIRED_IDLE, CK_NOT_FOUND,
                                CK_OK, CK_OK };
    ck_metrics m;

    mk(st, "b1", CK_AUTH_EMAIL, live[0], NULL);
    mk(st, "b2", CK_AUTH_OIDC, live[1], NULL);
    mk(st, "b1", CK_AUTH_CORPPASS, live[2], NULL);
    mk(st, "b3", CK_AUTH_EMAIL, gone, NULL);
    mk(st, "b4", CK_AUTH_EMAIL, idle, NULL);
    assert_status(st, ck_store_delete(st, gone), CK_OK);
    ct_other_sid(live[0], ghost);
    at(INACT - 100);
    for (int i = 0; i < 3; i++)
        assert_status(st, ck_store_touch(st, live[i], &got), CK_OK);
    at(INACT + 50);
    sids[0] = live[0];
    sids[1] = gone;
    sids[2] = live[1];
    sids[3] = idle;
    sids[4] = ghost;
    sids[5] = live[2];
    sids[6] = live[0];
    for (int i = 0; i < 7; i++)
        outs[i] = &outs_v[i];
    ck_store_touch_many(st, 7, sids, outs, res);
    for (int i = 0; i < 7; i++) {
        if (res[i] != want[i])
            fail_msg("batch item %d: %s, want %s", i, ck_status_str(res[i]),
                     ck_status_str(want[i]));
        if (res[i] != CK_OK)
            continue;
        assert_int_equal(outs_v[i].last_activity, t0 + INACT + 50);
        assert_int_equal(outs_v[i].expires, t0 + INACT + 50 + INACT);
    }
    assert_string_equal(outs_v[2].user_id, "b2");
    assert_int_equal(outs_v[5].method, CK_AUTH_CORPPASS);
    /* the refresh is stored, and the idle end was counted once */
    assert_status(st, ck_store_get(st, live[1], &got), CK_OK);
    assert_int_equal(got.expires, t0 + INACT + 50 + INACT);
    assert_status(st, ck_store_touch(st, idle, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_metrics(st, &m), CK_OK);
    assert_int_equal(m.active, 3);
    assert_int_equal(m.ended_idle, 1);
    assert_int_equal(m.ended_logout, 1);

    /* a malformed id is refused alone; the others are still touched */
    sids[0] = "not a session id";
    sids[1] = live[1];
    at(INACT + 70);
    ck_store_touch_many(st, 2, sids, outs, res);
    assert_int_equal(res[0], CK_ERR_INVALID);
    assert_int_equal(res[1], CK_OK);
    assert_int_equal(outs_v[1].last_activity, t0 + INACT + 70);
}

/*
 * A touch the embedded store answers from a read (touched this second
 * already) is cheap; anything else, and any touch on Redis, is not, and
 * is left undone.
 */
static void test_touch_cheap(void **state)
{
    ck_store *st = open_ns(state, "cheap", INACT, LIFE, 0);
    char sid[CK_SID_LEN], ghost[CK_SID_LEN];
    ck_session got;
    ck_status rc = CK_ERR_INTERNAL;

    mk(st, "c1", CK_AUTH_EMAIL, sid, NULL);
    ct_other_sid(sid, ghost);
    at(10);
    assert_int_equal(ck_store_touch_cheap(st, sid, &got, &rc), 0);
    assert_status(st, ck_store_get(st, sid, &got), CK_OK);
    assert_int_equal(got.last_activity, t0);        /* nothing was done */
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    assert_int_equal(ck_store_touch_cheap(st, sid, &got, &rc), ct_is_lmdb());
    if (ct_is_lmdb()) {
        assert_int_equal(rc, CK_OK);
        assert_int_equal(got.last_activity, t0 + 10);
        assert_string_equal(got.user_id, "c1");
    }
    assert_int_equal(ck_store_touch_cheap(st, ghost, &got, &rc), 0);
    assert_int_equal(ck_store_touch_cheap(st, "malformed", &got, &rc), 0);
    assert_status(st, ck_store_delete(st, sid), CK_OK);
    assert_int_equal(ck_store_touch_cheap(st, sid, &got, &rc), 0);
}

/* Touches every 1100 s keep a session alive until the absolute deadline. */
static void test_touch_sliding_until_deadline(void **state)
{
    ck_store *st = open_ns(state, "sliding", INACT, LIFE, 0);
    char sid[CK_SID_LEN];
    ck_session got;
    int64_t off = 0;

    mk(st, "slide", CK_AUTH_EMAIL, sid, NULL);
    for (;;) {
        off += 1100;
        at(off);
        if (off >= LIFE)
            break;
        assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
        assert_int_equal(got.last_activity, t0 + off);
        assert_int_equal(got.expires, off + INACT < LIFE ? t0 + off + INACT : t0 + LIFE);
        assert_int_equal(got.deadline, t0 + LIFE);
    }
    assert_status(st, ck_store_touch(st, sid, &got), CK_EXPIRED_LIFETIME);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
}

static void test_touch_lifetime(void **state)
{
    ck_store *st = open_ns(state, "lifetime", INACT, 3600, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session got;

    mk(st, "l1", CK_AUTH_EMAIL, a, NULL);
    mk(st, "l1", CK_AUTH_EMAIL, b, NULL);
    at(1000);
    assert_status(st, ck_store_touch(st, a, &got), CK_OK);
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    at(2000);
    assert_status(st, ck_store_touch(st, a, &got), CK_OK);
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    at(3000);
    assert_status(st, ck_store_touch(st, a, &got), CK_OK);
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    assert_int_equal(got.expires, t0 + 3600);        /* capped by the deadline */
    at(3599);                                        /* one second before: valid */
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    assert_int_equal(got.expires, t0 + 3600);
    at(3600);                                        /* now == deadline: expired */
    assert_status(st, ck_store_touch(st, a, &got), CK_EXPIRED_LIFETIME);
    assert_status(st, ck_store_touch(st, a, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_get(st, a, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_touch(st, b, &got), CK_EXPIRED_LIFETIME);
    assert_status(st, ck_store_touch(st, b, &got), CK_NOT_FOUND);
}

/* lifetime == inactivity: expires is the deadline from the start. */
static void test_lifetime_equals_inactivity(void **state)
{
    ck_store *st = open_ns(state, "equal", 600, 600, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session in, got;
    const int64_t zero[3] = {0, 0, 0};

    mk(st, "eq", CK_AUTH_EMAIL, a, &in);
    mk(st, "eq", CK_AUTH_EMAIL, b, NULL);
    assert_int_equal(in.expires, t0 + 600);
    assert_int_equal(in.deadline, t0 + 600);
    at(599);
    assert_status(st, ck_store_touch(st, a, &got), CK_OK);
    assert_int_equal(got.expires, t0 + 600);
    at(600);
    assert_status(st, ck_store_touch(st, a, &got), CK_EXPIRED_LIFETIME);
    at(600 + 120);
    assert_metrics(st, 0, zero, 2, 0, 0, 2, 0, 2 * 600);
}

/* Past both limits, lifetime is checked first (backend.h policy order). */
static void test_touch_lifetime_before_idle(void **state)
{
    ck_store *st = open_ns(state, "order", 600, 1000, 0);
    char sid[CK_SID_LEN];
    ck_session got;

    mk(st, "o1", CK_AUTH_EMAIL, sid, NULL);
    at(5000);
    assert_status(st, ck_store_touch(st, sid, &got), CK_EXPIRED_LIFETIME);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
}

static void test_touch_idle(void **state)
{
    ck_store *st = open_ns(state, "idle", INACT, LIFE, 0);
    char sid[CK_SID_LEN];
    ck_session got;

    mk(st, "i1", CK_AUTH_EMAIL, sid, NULL);
    at(INACT + 300);
    assert_status(st, ck_store_touch(st, sid, &got), CK_EXPIRED_IDLE);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_get(st, sid, &got), CK_NOT_FOUND);
}

/* now == last_activity + inactivity is expired; one second earlier is valid. */
static void test_touch_idle_boundary(void **state)
{
    ck_store *st = open_ns(state, "boundary", INACT, LIFE, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session got;

    mk(st, "b1", CK_AUTH_EMAIL, a, NULL);
    mk(st, "b1", CK_AUTH_EMAIL, b, NULL);
    at(INACT - 1);
    assert_status(st, ck_store_touch(st, a, &got), CK_OK);
    at(INACT);
    assert_status(st, ck_store_touch(st, b, &got), CK_EXPIRED_IDLE);
    /* a was refreshed at INACT - 1: expires at 2 * INACT - 1 */
    at(2 * INACT - 2);
    assert_status(st, ck_store_get(st, a, &got), CK_OK);
    at(2 * INACT - 1);
    assert_status(st, ck_store_touch(st, a, &got), CK_EXPIRED_IDLE);
}

/* ---- get --------------------------------------------------------------- */

static void test_get_no_refresh(void **state)
{
    ck_store *st = open_ns(state, "get", INACT, LIFE, 0);
    char sid[CK_SID_LEN];
    ck_session got;

    mk(st, "g1", CK_AUTH_EMAIL, sid, NULL);
    at(700);
    assert_status(st, ck_store_get(st, sid, &got), CK_OK);
    assert_int_equal(got.last_activity, t0);
    assert_int_equal(got.expires, t0 + INACT);
    at(1100);
    assert_status(st, ck_store_get(st, sid, &got), CK_OK);
    assert_int_equal(got.last_activity, t0);
    /* had get refreshed, this touch would still be valid */
    at(INACT);
    assert_status(st, ck_store_touch(st, sid, &got), CK_EXPIRED_IDLE);
}

static void test_get_expired(void **state)
{
    ck_store *st = open_ns(state, "getexp", INACT, LIFE, 0);
    char sid[CK_SID_LEN];
    ck_session got;

    mk(st, "g2", CK_AUTH_EMAIL, sid, NULL);
    at(INACT);
    assert_status2(st, ck_store_get(st, sid, &got), CK_EXPIRED_IDLE, CK_NOT_FOUND);
    assert_status2(st, ck_store_touch(st, sid, &got), CK_EXPIRED_IDLE, CK_NOT_FOUND);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
}

/* ---- delete ------------------------------------------------------------ */

static void test_delete(void **state)
{
    ck_store *st = open_ns(state, "delete", INACT, LIFE, 0);
    char sid[CK_SID_LEN], keep[CK_SID_LEN], ghost[CK_SID_LEN];
    ck_session in, got;
    ck_session_list l;

    mk(st, "d1", CK_AUTH_EMAIL, sid, &in);
    mk(st, "d1", CK_AUTH_EMAIL, keep, NULL);
    at(30);
    assert_status(st, ck_store_delete(st, sid), CK_OK);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_get(st, sid, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_delete(st, sid), CK_OK);       /* idempotent */
    ct_other_sid(sid, ghost);
    assert_status(st, ck_store_delete(st, ghost), CK_OK);     /* never existed */
    assert_status(st, ck_store_touch(st, keep, &got), CK_OK);
    assert_status(st, ck_store_list_user(st, "d1", &l), CK_OK);
    assert_int_equal(l.count, 1);
    assert_false(list_has(&l, in.key_hex));
    ck_session_list_free(&l);
}

static void test_delete_key(void **state)
{
    ck_store *st = open_ns(state, "delkey", INACT, LIFE, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session sa, got;
    ck_session_list l;
    char key[CK_KEY_HEX_LEN];
    const int64_t by[3] = {1, 0, 0};

    mk(st, "k1", CK_AUTH_EMAIL, a, &sa);
    mk(st, "k1", CK_AUTH_EMAIL, b, NULL);
    assert_status(st, ck_store_list_user(st, "k1", &l), CK_OK);
    assert_int_equal(l.count, 2);
    snprintf(key, sizeof(key), "%s",
             strcmp(l.items[0].key_hex, sa.key_hex) == 0 ? l.items[0].key_hex
                                                         : l.items[1].key_hex);
    ck_session_list_free(&l);
    assert_string_equal(key, sa.key_hex);
    at(40);
    assert_status(st, ck_store_delete_key(st, key), CK_OK);
    assert_status(st, ck_store_touch(st, a, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_touch(st, b, &got), CK_OK);
    assert_status(st, ck_store_list_user(st, "k1", &l), CK_OK);
    assert_int_equal(l.count, 1);
    assert_false(list_has(&l, sa.key_hex));
    ck_session_list_free(&l);
    /* an admin removal counts as a revocation */
    assert_metrics(st, 1, by, 2, 0, 0, 0, 1, 40);
}

/* ---- revoke_user / list_user -------------------------------------------- */

static void test_revoke_user(void **state)
{
    ck_store *st = open_ns(state, "revoke", INACT, LIFE, 0);
    char a[3][CK_SID_LEN], b[2][CK_SID_LEN];
    ck_session got;
    ck_session_list l;
    size_t n = 99;

    for (int i = 0; i < 3; i++)
        mk(st, "victim", (ck_auth_method)i, a[i], NULL);
    for (int i = 0; i < 2; i++)
        mk(st, "bystander", CK_AUTH_EMAIL, b[i], NULL);
    at(60);
    assert_status(st, ck_store_revoke_user(st, "victim", &n), CK_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++)
        assert_status(st, ck_store_touch(st, a[i], &got), CK_NOT_FOUND);
    assert_status(st, ck_store_list_user(st, "victim", &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_session_list_free(&l);
    for (int i = 0; i < 2; i++)
        assert_status(st, ck_store_touch(st, b[i], &got), CK_OK);
    assert_status(st, ck_store_list_user(st, "bystander", &l), CK_OK);
    assert_int_equal(l.count, 2);
    ck_session_list_free(&l);
    n = 99;
    assert_status(st, ck_store_revoke_user(st, "victim", &n), CK_OK);
    assert_int_equal(n, 0);
    /* the user logs in again afterwards */
    mk(st, "victim", CK_AUTH_EMAIL, a[0], NULL);
    assert_status(st, ck_store_touch(st, a[0], &got), CK_OK);
    assert_status(st, ck_store_list_user(st, "victim", &l), CK_OK);
    assert_int_equal(l.count, 1);
    ck_session_list_free(&l);
    n = 99;
    assert_status(st, ck_store_revoke_user(st, "nobody", &n), CK_OK);
    assert_int_equal(n, 0);
}

static void test_list_user(void **state)
{
    ck_store *st = open_ns(state, "list", INACT, LIFE, 0);
    char s[4][CK_SID_LEN], other[CK_SID_LEN];
    ck_session k[4], got;
    ck_session_list l;

    for (int i = 0; i < 4; i++)
        mk(st, "lister", (ck_auth_method)(i % 3), s[i], &k[i]);
    mk(st, "lister2", CK_AUTH_EMAIL, other, NULL);
    at(1000);
    assert_status(st, ck_store_touch(st, s[1], &got), CK_OK);
    assert_status(st, ck_store_touch(st, s[2], &got), CK_OK);
    assert_status(st, ck_store_touch(st, s[3], &got), CK_OK);
    assert_status(st, ck_store_delete(st, s[3]), CK_OK);
    at(INACT + 10);     /* s[0] idled out without anyone looking */

    assert_status(st, ck_store_list_user(st, "lister", &l), CK_OK);
    assert_int_equal(l.count, 2);
    for (size_t i = 0; i < l.count; i++) {
        int j = strcmp(l.items[i].key_hex, k[1].key_hex) == 0 ? 1 : 2;

        assert_same_identity(&k[j], &l.items[i]);
        assert_int_equal(l.items[i].last_activity, t0 + 1000);
        assert_int_equal(l.items[i].expires, t0 + 1000 + INACT);
    }
    ck_session_list_free(&l);

    assert_status(st, ck_store_list_user(st, "nobody-here", &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_session_list_free(&l);
}

/* ---- pending logins ------------------------------------------------------ */

static void test_state_take_once(void **state)
{
    ck_store *st = open_ns(state, "state", INACT, LIFE, 0);
    const char blob[] = "{\"nonce\":\"n-0S6_WzA2Mj\",\"verifier\":\"dBjftJeZ4CVP\"}";
    void *v;
    size_t len;

    assert_status(st, ck_store_state_put(st, "login:abc", blob, sizeof(blob), 600), CK_OK);
    assert_status(st, ck_store_state_get(st, "login:abc", &v, &len), CK_OK);
    assert_int_equal(len, sizeof(blob));
    assert_memory_equal(v, blob, len);
    free(v);
    assert_status(st, ck_store_state_get(st, "login:abc", &v, &len), CK_OK);
    free(v);
    assert_status(st, ck_store_state_take(st, "login:abc", &v, &len), CK_OK);
    assert_int_equal(len, sizeof(blob));
    assert_memory_equal(v, blob, len);
    free(v);
    assert_status(st, ck_store_state_take(st, "login:abc", &v, &len), CK_NOT_FOUND);
    assert_null(v);
    assert_status(st, ck_store_state_get(st, "login:abc", &v, &len), CK_NOT_FOUND);
    assert_status(st, ck_store_state_take(st, "login:never", &v, &len), CK_NOT_FOUND);
}

static void test_state_binary(void **state)
{
    ck_store *st = open_ns(state, "binary", INACT, LIFE, 0);
    unsigned char blob[CK_STATE_VALUE_MAX];
    void *v;
    size_t len;

    for (size_t i = 0; i < sizeof(blob); i++)
        blob[i] = (unsigned char)(i * 7 + (i >> 8));
    blob[0] = 0;
    blob[1] = 0;
    blob[sizeof(blob) - 1] = 0;
    assert_status(st, ck_store_state_put(st, "bin:small", blob, 300, 600), CK_OK);
    assert_status(st, ck_store_state_put(st, "bin:max", blob, sizeof(blob), 600), CK_OK);
    assert_status(st, ck_store_state_take(st, "bin:small", &v, &len), CK_OK);
    assert_int_equal(len, 300);
    assert_memory_equal(v, blob, 300);
    free(v);
    assert_status(st, ck_store_state_take(st, "bin:max", &v, &len), CK_OK);
    assert_int_equal(len, sizeof(blob));
    assert_memory_equal(v, blob, sizeof(blob));
    free(v);
}

static void test_state_empty(void **state)
{
    ck_store *st = open_ns(state, "empty", INACT, LIFE, 0);
    void *v;
    size_t len = 99;

    assert_status(st, ck_store_state_put(st, "e", "", 0, 600), CK_OK);
    assert_status(st, ck_store_state_take(st, "e", &v, &len), CK_OK);
    assert_int_equal(len, 0);
    free(v);
    assert_status(st, ck_store_state_take(st, "e", &v, &len), CK_NOT_FOUND);
}

static void test_state_ttl(void **state)
{
    fixture *fx;
    ck_store *st;
    void *v;
    size_t len;
    char err[512];

    /* pending_ttl is the default TTL when put is given 0 */
    fx = *state;
    ct_config(&fx->cfg, "ttl", INACT, LIFE, 0);
    fx->cfg.pending_ttl = 300;
    st = fx->st = ck_store_open(&fx->cfg, err, sizeof(err));
    if (!st)
        fail_msg("ck_store_open: %s", err);

    assert_status(st, ck_store_state_put(st, "t:600", "x", 1, 600), CK_OK);
    assert_status(st, ck_store_state_put(st, "t:default", "y", 1, 0), CK_OK);
    at(299);
    assert_status(st, ck_store_state_get(st, "t:default", &v, &len), CK_OK);
    free(v);
    at(301);
    assert_status(st, ck_store_state_get(st, "t:default", &v, &len), CK_NOT_FOUND);
    assert_status(st, ck_store_state_take(st, "t:default", &v, &len), CK_NOT_FOUND);
    at(599);
    assert_status(st, ck_store_state_get(st, "t:600", &v, &len), CK_OK);
    free(v);
    at(601);
    assert_status(st, ck_store_state_take(st, "t:600", &v, &len), CK_NOT_FOUND);
    assert_null(v);
}

/* A pending login lives ttl seconds: gone at put + ttl, like a session at expires. */
static void test_state_ttl_boundary(void **state)
{
    ck_store *st = open_ns(state, "ttlb", INACT, LIFE, 0);
    void *v;
    size_t len;

    assert_status(st, ck_store_state_put(st, "tb", "x", 1, 600), CK_OK);
    at(599);
    assert_status(st, ck_store_state_get(st, "tb", &v, &len), CK_OK);
    free(v);
    at(600);
    assert_status(st, ck_store_state_take(st, "tb", &v, &len), CK_NOT_FOUND);
}

/* Names that share a prefix are different pending logins and counters. */
static void test_names_distinct(void **state)
{
    ck_store *st = open_ns(state, "names", INACT, LIFE, 0);
    void *v;
    size_t len;
    int64_t n;

    assert_status(st, ck_store_state_put(st, "x", "1", 1, 600), CK_OK);
    assert_status(st, ck_store_state_put(st, "xy", "2", 1, 600), CK_OK);
    assert_status(st, ck_store_state_put(st, "x*", "3", 1, 600), CK_OK);
    assert_status(st, ck_store_state_take(st, "x", &v, &len), CK_OK);
    assert_memory_equal(v, "1", 1);
    free(v);
    assert_status(st, ck_store_state_take(st, "x*", &v, &len), CK_OK);
    assert_memory_equal(v, "3", 1);
    free(v);
    assert_status(st, ck_store_state_take(st, "xy", &v, &len), CK_OK);
    assert_memory_equal(v, "2", 1);
    free(v);

    assert_status(st, ck_store_fail_add(st, "x", 900, &n), CK_OK);
    assert_status(st, ck_store_fail_add(st, "xy", 900, &n), CK_OK);
    assert_status(st, ck_store_fail_add(st, "xy", 900, &n), CK_OK);
    assert_int_equal(n, 2);
    assert_status(st, ck_store_fail_reset(st, "x"), CK_OK);
    assert_status(st, ck_store_fail_count(st, "xy", &n), CK_OK);
    assert_int_equal(n, 2);
    /* a pending login and a counter of the same name do not collide */
    assert_status(st, ck_store_state_put(st, "xy", "4", 1, 600), CK_OK);
    assert_status(st, ck_store_fail_count(st, "xy", &n), CK_OK);
    assert_int_equal(n, 2);
    assert_status(st, ck_store_state_take(st, "xy", &v, &len), CK_OK);
    assert_memory_equal(v, "4", 1);
    free(v);
}

/* ---- failure counters --------------------------------------------------- */

static void test_fail_counters(void **state)
{
    ck_store *st = open_ns(state, "fail", INACT, LIFE, 0);
    int64_t n = -1;

    assert_status(st, ck_store_fail_add(st, "u:alice", 900, &n), CK_OK);
    assert_int_equal(n, 1);
    assert_status(st, ck_store_fail_add(st, "u:alice", 900, &n), CK_OK);
    assert_int_equal(n, 2);
    at(500);
    assert_status(st, ck_store_fail_add(st, "u:alice", 900, &n), CK_OK);
    assert_int_equal(n, 3);
    assert_status(st, ck_store_fail_count(st, "u:alice", &n), CK_OK);
    assert_int_equal(n, 3);
    assert_status(st, ck_store_fail_add(st, "ip:192.0.2.1", 900, &n), CK_OK);
    assert_int_equal(n, 1);                 /* counters are independent */
    n = -1;
    assert_status2(st, ck_store_fail_count(st, "u:nobody", &n), CK_OK, CK_NOT_FOUND);
    assert_int_equal(n, 0);

    /* the window runs from the first failure: later adds do not extend it */
    at(899);
    assert_status(st, ck_store_fail_count(st, "u:alice", &n), CK_OK);
    assert_int_equal(n, 3);
    at(901);
    n = -1;
    assert_status2(st, ck_store_fail_count(st, "u:alice", &n), CK_OK, CK_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_status(st, ck_store_fail_add(st, "u:alice", 900, &n), CK_OK);
    assert_int_equal(n, 1);

    assert_status(st, ck_store_fail_reset(st, "u:alice"), CK_OK);
    n = -1;
    assert_status2(st, ck_store_fail_count(st, "u:alice", &n), CK_OK, CK_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_status(st, ck_store_fail_add(st, "u:alice", 900, &n), CK_OK);
    assert_int_equal(n, 1);
    assert_status(st, ck_store_fail_reset(st, "u:never"), CK_OK);
}

/* A counter vanishes window seconds after its first failure, not later. */
static void test_fail_window_boundary(void **state)
{
    ck_store *st = open_ns(state, "failb", INACT, LIFE, 0);
    int64_t n = -1;

    assert_status(st, ck_store_fail_add(st, "w", 900, &n), CK_OK);
    at(899);
    assert_status(st, ck_store_fail_add(st, "w", 900, &n), CK_OK);
    assert_int_equal(n, 2);
    at(900);
    n = -1;
    assert_status2(st, ck_store_fail_count(st, "w", &n), CK_OK, CK_NOT_FOUND);
    assert_int_equal(n, 0);
}

/* ---- metrics ------------------------------------------------------------ */

/*
 * 10 sessions; 2 logged out, 2 revoked, 3 idle out by time passing, 3 kept
 * alive. The clock goes 120 s past the last expiry because Redis counts
 * expiries in buckets of up to a minute.
 */
static void test_metrics(void **state)
{
    ck_store *st = open_ns(state, "metrics", INACT, LIFE, 0);
    char al[2][CK_SID_LEN], bo[2][CK_SID_LEN], ca[3][CK_SID_LEN], da[3][CK_SID_LEN];
    ck_session got;
    size_t n = 0;
    const int64_t by_all[3] = {4, 3, 3}, by_live[3] = {1, 1, 1};
    /* logout 2 x 10 s, revoked 2 x 20 s, idle 3 x INACT */
    const int64_t dur = 2 * 10 + 2 * 20 + 3 * INACT;

    mk(st, "alice", CK_AUTH_EMAIL, al[0], NULL);
    mk(st, "alice", CK_AUTH_EMAIL, al[1], NULL);
    mk(st, "bob", CK_AUTH_CORPPASS, bo[0], NULL);
    mk(st, "bob", CK_AUTH_OIDC, bo[1], NULL);
    for (int i = 0; i < 3; i++) {
        mk(st, "carol", (ck_auth_method)i, ca[i], NULL);
        mk(st, "dave", (ck_auth_method)i, da[i], NULL);
    }
    assert_metrics(st, 10, by_all, 10, 0, 0, 0, 0, 0);

    at(10);
    assert_status(st, ck_store_delete(st, bo[0]), CK_OK);
    assert_status(st, ck_store_delete(st, bo[1]), CK_OK);
    assert_status(st, ck_store_delete(st, bo[1]), CK_OK);    /* counted once */
    at(20);
    assert_status(st, ck_store_revoke_user(st, "alice", &n), CK_OK);
    assert_int_equal(n, 2);
    for (int64_t off = 600; off <= 1100; off += 500) {
        at(off);
        for (int i = 0; i < 3; i++)
            assert_status(st, ck_store_touch(st, da[i], &got), CK_OK);
    }
    at(INACT + 120);
    assert_metrics(st, 3, by_live, 10, 2, 3, 0, 2, dur);

    /* looking at an expired session does not count it a second time */
    assert_status2(st, ck_store_touch(st, ca[0], &got), CK_EXPIRED_IDLE, CK_NOT_FOUND);
    assert_status2(st, ck_store_get(st, ca[1], &got), CK_EXPIRED_IDLE, CK_NOT_FOUND);
    assert_metrics(st, 3, by_live, 10, 2, 3, 0, 2, dur);
}

/* A session that reached its deadline counts as ended by lifetime. */
static void test_metrics_lifetime(void **state)
{
    ck_store *st = open_ns(state, "mlife", INACT, 3000, 0);
    char sid[CK_SID_LEN];
    ck_session got;
    const int64_t zero[3] = {0, 0, 0};

    mk(st, "l", CK_AUTH_OIDC, sid, NULL);
    for (int64_t off = 1000; off < 3000; off += 950) {
        at(off);
        assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    }
    assert_int_equal(got.expires, t0 + 3000);
    at(3000 + 120);
    assert_metrics(st, 0, zero, 1, 0, 0, 1, 0, 3000);
    assert_status2(st, ck_store_touch(st, sid, &got), CK_EXPIRED_LIFETIME, CK_NOT_FOUND);
    assert_metrics(st, 0, zero, 1, 0, 0, 1, 0, 3000);
}

/* Expiry seen by touch and by time passing: each counted once. */
static void test_metrics_touch_expiry(void **state)
{
    ck_store *st = open_ns(state, "mtouch", INACT, LIFE, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session got;
    const int64_t zero[3] = {0, 0, 0};

    mk(st, "x", CK_AUTH_EMAIL, a, NULL);
    mk(st, "y", CK_AUTH_CORPPASS, b, NULL);
    at(INACT + 5);
    assert_status(st, ck_store_touch(st, a, &got), CK_EXPIRED_IDLE);
    at(INACT + 120);
    assert_metrics(st, 0, zero, 2, 0, 2, 0, 0, 2 * INACT);
}

/* Logout or revocation after a session already idled out: still idle. */
static void test_metrics_end_after_expiry(void **state)
{
    ck_store *st = open_ns(state, "mlate", INACT, LIFE, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN], c[CK_SID_LEN];
    ck_session got;
    size_t n = 99;
    const int64_t zero[3] = {0, 0, 0};

    mk(st, "late", CK_AUTH_EMAIL, a, NULL);
    mk(st, "late2", CK_AUTH_EMAIL, b, NULL);
    mk(st, "late2", CK_AUTH_EMAIL, c, NULL);
    at(1000);
    assert_status(st, ck_store_touch(st, c, &got), CK_OK);
    at(INACT + 120);
    assert_status(st, ck_store_delete(st, a), CK_OK);
    assert_status(st, ck_store_revoke_user(st, "late2", &n), CK_OK);
    assert_int_equal(n, 1);             /* only c was still live */
    assert_metrics(st, 0, zero, 3, 0, 2, 0, 1, 2 * INACT + INACT + 120);
}

/*
 * Idle at t0+600, looked at after the deadline: touch reports lifetime (the
 * policy checks the deadline first) but the session ended first by idling,
 * at its expires: metrics count it once, as idle, lasting 600 s.
 */
static void test_metrics_idle_seen_after_deadline(void **state)
{
    ck_store *st = open_ns(state, "mlateidle", 600, 1000, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session got;
    const int64_t zero[3] = {0, 0, 0};

    mk(st, "o2", CK_AUTH_EMAIL, a, NULL);
    mk(st, "o2", CK_AUTH_EMAIL, b, NULL);
    at(5000);
    assert_status(st, ck_store_touch(st, a, &got), CK_EXPIRED_LIFETIME);
    assert_metrics(st, 0, zero, 2, 0, 2, 0, 0, 2 * 600);
}

/* ---- sweep, ping, backend ------------------------------------------------ */

static void test_sweep(void **state)
{
    ck_store *st = open_ns(state, "sweep", INACT, LIFE, 0);
    char a[CK_SID_LEN], b[CK_SID_LEN], c[CK_SID_LEN];
    ck_session got;
    size_t removed = 99;
    const int64_t by[3] = {1, 0, 0};

    mk(st, "sw", CK_AUTH_EMAIL, a, NULL);
    mk(st, "sw", CK_AUTH_EMAIL, b, NULL);
    assert_status(st, ck_store_state_put(st, "sw:state", "s", 1, 100), CK_OK);
    at(1000);
    mk(st, "sw", CK_AUTH_EMAIL, c, NULL);
    /* Sessions that ended under CK_STORE_END_GRACE ago are kept; these did not. */
    at(INACT + CK_STORE_END_GRACE + 120);
    assert_status(st, ck_store_sweep(st, &removed), CK_OK);
    if (strcmp(ck_store_backend(st), "lmdb") == 0)
        assert_true(removed >= 2);      /* the two sessions (and the state) */
    assert_status2(st, ck_store_touch(st, a, &got), CK_NOT_FOUND, CK_EXPIRED_IDLE);
    assert_status(st, ck_store_touch(st, c, &got), CK_OK);
    assert_metrics(st, 1, by, 3, 0, 2, 0, 0, 2 * INACT);
}

static void test_ping_backend(void **state)
{
    ck_store *st = open_ns(state, "ping", INACT, LIFE, 0);

    assert_status(st, ck_store_ping(st), CK_OK);
    assert_string_equal(ck_store_backend(st), ct_is_lmdb() ? "lmdb" : "redis");
}

/* ---- real time ---------------------------------------------------------- */

/* The real clock and a 2 s timeout: Redis expires the keys by itself. */
static void test_realtime_idle(void **state)
{
    ck_store *st;
    char sid[CK_SID_LEN];
    ck_session got;
    ck_session_list l;

    ck_clock_set(NULL);
    st = open_ns(state, "realtime", 2, 60, 0);
    mk(st, "rt", CK_AUTH_EMAIL, sid, NULL);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    sleep(3);
    /* Gone from Redis by its own expiry would be NOT_FOUND: the end is told. */
    assert_status(st, ck_store_touch(st, sid, &got), CK_EXPIRED_IDLE);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_list_user(st, "rt", &l), CK_OK);
    assert_int_equal(l.count, 0);
    ck_session_list_free(&l);
}

/*
 * The end reason survives what happens after the end: sessions made in
 * the past, whose expiry has passed by the server's clock too (Redis
 * would drop such a key at once), and a metrics read (which sweeps the
 * embedded store) before the user comes back. Both backends count the
 * end once and report it to the first touch, then NOT_FOUND.
 */
static void past(int64_t ago)
{
    t0 = (int64_t)time(NULL) - ago;
    fake_now = t0;
}

static void test_end_reason_idle(void **state)
{
    ck_store *st;
    char a[CK_SID_LEN], b[CK_SID_LEN];
    ck_session got;
    const int64_t by[3] = {0, 0, 0};

    past(INACT + 60);
    st = open_ns(state, "endidle", INACT, LIFE, 0);
    mk(st, "ei", CK_AUTH_EMAIL, a, NULL);
    mk(st, "ei", CK_AUTH_EMAIL, b, NULL);
    at(INACT + 60);
    assert_metrics(st, 0, by, 2, 0, 2, 0, 0, 2 * INACT);
    assert_status(st, ck_store_touch(st, a, &got), CK_EXPIRED_IDLE);
    assert_status(st, ck_store_touch(st, a, &got), CK_NOT_FOUND);
    assert_status(st, ck_store_get(st, b, &got), CK_EXPIRED_IDLE);
    assert_metrics(st, 0, by, 2, 0, 2, 0, 0, 2 * INACT);
    /* After the grace, an ended session is as unknown as a made-up one. */
    at(INACT + CK_STORE_END_GRACE + 1);
    assert_status(st, ck_store_sweep(st, &(size_t){0}), CK_OK);
    assert_status(st, ck_store_touch(st, b, &got), CK_NOT_FOUND);
    assert_metrics(st, 0, by, 2, 0, 2, 0, 0, 2 * INACT);
}

static void test_end_reason_lifetime(void **state)
{
    ck_store *st;
    char sid[CK_SID_LEN];
    ck_session got;
    const int64_t by[3] = {0, 0, 0};

    /* Kept alive, it ends at its deadline, 1250 s after creation. */
    past(1320);
    st = open_ns(state, "endlife", INACT, 1250, 0);
    mk(st, "el", CK_AUTH_EMAIL, sid, NULL);
    at(100);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    assert_int_equal(got.expires, t0 + 1250);
    at(1320);     /* a minute on: Redis counts by the minute */
    assert_metrics(st, 0, by, 1, 0, 0, 1, 0, 1250);
    assert_status(st, ck_store_touch(st, sid, &got), CK_EXPIRED_LIFETIME);
    assert_status(st, ck_store_touch(st, sid, &got), CK_NOT_FOUND);
    assert_metrics(st, 0, by, 1, 0, 0, 1, 0, 1250);
}

/* ---- backend specifics: no token at rest, one round trip ---------------- */

/* The LMDB files never hold a session id, only its hash. */
static void test_lmdb_no_token_at_rest(void **state)
{
    fixture *fx;
    ck_store *st = open_ns(state, "atrest", INACT, LIFE, 0);
    char sid[CK_SID_LEN], path[4096];
    ck_session got;
    DIR *d;
    struct dirent *de;
    int files = 0;

    fx = *state;
    for (int i = 0; i < 20; i++) {
        mk(st, "rest", CK_AUTH_EMAIL, sid, NULL);
        assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    }
    ck_store_close(st);         /* everything on disk */
    fx->st = NULL;
    d = opendir(fx->cfg.store_url + 5);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        FILE *f;
        char *buf;
        long size;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", fx->cfg.store_url + 5, de->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        rewind(f);
        buf = malloc((size_t)size + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        if (memmem(buf, (size_t)size, sid, CK_SID_LEN - 1) ||
            memmem(buf, (size_t)size, sid + 2, CK_SID_LEN - 3))
            fail_msg("%s holds a session id", de->d_name);
        free(buf);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

/*
 * The servers to watch with MONITOR: the "host:port ..." list in
 * CHECKUP_TEST_MONITOR (a cluster's primaries, set by
 * tests/contract_cluster.sh), else the host and port of a redis:// URL.
 */
#define MAX_NODES 16

typedef struct watch {
    int n;
    redisContext *mon[MAX_NODES], *ctl[MAX_NODES];
} watch;

static redisContext *redis_side(const char *host, int port)
{
    struct timeval tv = {3, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);

    if (!c || c->err)
        fail_msg("connect to redis %s:%d: %s", host, port, c ? c->errstr : "out of memory");
    redisSetTimeout(c, tv);
    return c;
}

static void watch_open(watch *w)
{
    const char *list = getenv("CHECKUP_TEST_MONITOR");
    char host[64];
    int port, used;

    w->n = 0;
    if (!list || !*list) {
        if (sscanf(ct_url(), "redis://%63[^:]:%d", host, &port) != 2)
            fail_msg("cannot read host:port from the store URL (set CHECKUP_TEST_MONITOR)");
        w->mon[0] = redis_side(host, port);
        w->ctl[0] = redis_side(host, port);
        w->n = 1;
        return;
    }
    while (sscanf(list, " %63[^: ]:%d%n", host, &port, &used) == 2) {
        if (w->n == MAX_NODES)
            fail_msg("CHECKUP_TEST_MONITOR names more than %d servers", MAX_NODES);
        w->mon[w->n] = redis_side(host, port);
        w->ctl[w->n] = redis_side(host, port);
        w->n++;
        list += used;
    }
    if (w->n == 0)
        fail_msg("CHECKUP_TEST_MONITOR holds no host:port");
}

static void watch_close(watch *w)
{
    for (int i = 0; i < w->n; i++) {
        redisFree(w->mon[i]);
        redisFree(w->ctl[i]);
    }
}

/*
 * Reads MONITOR lines up to a marker sent on the control connection and
 * appends them one per line to *all (of *cap bytes, *len used); *ncmds
 * counts the commands clients sent (not those a Lua script ran, not the
 * marker).
 */
static void monitor_collect1(redisContext *mon, redisContext *ctl, char **all,
                             size_t *len, size_t *cap, int *ncmds)
{
    static int serial;
    char marker[64];
    redisReply *r;

    snprintf(marker, sizeof(marker), "ck-contract-marker-%d", ++serial);
    r = redisCommand(ctl, "ECHO %s", marker);
    assert_non_null(r);
    freeReplyObject(r);
    for (;;) {
        size_t n;

        if (redisGetReply(mon, (void **)&r) != REDIS_OK)
            fail_msg("MONITOR stream: %s", mon->errstr);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        if (strstr(r->str, marker)) {
            freeReplyObject(r);
            break;
        }
        if (!strstr(r->str, " lua]"))
            (*ncmds)++;
        n = strlen(r->str);
        while (*len + n + 2 > *cap) {
            char *grown = realloc(*all, *cap * 2);

            assert_non_null(grown);
            *all = grown;
            *cap *= 2;
        }
        memcpy(*all + *len, r->str, n);
        *len += n;
        (*all)[(*len)++] = '\n';
        (*all)[*len] = '\0';
        freeReplyObject(r);
    }
}

/* What every watched server saw since the last call, and how many commands. */
static char *monitor_collect(watch *w, int *ncmds)
{
    size_t len = 0, cap = 4096;
    char *all = malloc(cap);

    assert_non_null(all);
    all[0] = '\0';
    *ncmds = 0;
    for (int i = 0; i < w->n; i++)
        monitor_collect1(w->mon[i], w->ctl[i], &all, &len, &cap, ncmds);
    return all;
}

/* No operation scans the keyspace; no command carries a session id. */
static void check_capture(const char *what, const char *cap, const char *sid)
{
    if (strcasestr(cap, "\"keys\"") || strcasestr(cap, "\"scan\""))
        fail_msg("%s ran KEYS or SCAN over the keyspace", what);
    if (sid && (strstr(cap, sid) || strstr(cap, sid + 2)))
        fail_msg("%s sent a session id to Redis", what);
}

/*
 * touch is one round trip on Redis (one command from the client), nothing
 * scans all keys (metrics included), and MONITOR never shows a session id.
 */
static void test_redis_round_trips(void **state)
{
    ck_store *st = open_ns(state, "roundtrip", INACT, LIFE, 0);
    watch w;
    redisReply *r;
    char sid[CK_SID_LEN], sid2[CK_SID_LEN];
    ck_session got;
    ck_session_list l;
    ck_metrics m;
    void *v;
    size_t len, n;
    int64_t cnt;
    char *cap;
    int ncmds;

    /* warm up: connect, AUTH/SELECT, load the scripts */
    mk(st, "rt", CK_AUTH_EMAIL, sid2, NULL);
    assert_status(st, ck_store_touch(st, sid2, &got), CK_OK);
    assert_status(st, ck_store_metrics(st, &m), CK_OK);

    watch_open(&w);
    for (int i = 0; i < w.n; i++) {
        r = redisCommand(w.mon[i], "MONITOR");
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
    cap = monitor_collect(&w, &ncmds);
    free(cap);

    mk(st, "rt", CK_AUTH_OIDC, sid, NULL);
    cap = monitor_collect(&w, &ncmds);
    check_capture("create", cap, sid);
    print_message("create: %d command(s) from the client\n", ncmds);
    free(cap);

    at(30);
    assert_status(st, ck_store_touch(st, sid, &got), CK_OK);
    cap = monitor_collect(&w, &ncmds);
    check_capture("touch", cap, sid);
    if (ncmds != 1)
        fail_msg("touch sent %d commands; the contract is one round trip:\n%s", ncmds, cap);
    free(cap);

    assert_status(st, ck_store_get(st, sid, &got), CK_OK);
    cap = monitor_collect(&w, &ncmds);
    check_capture("get", cap, sid);
    print_message("get: %d command(s)\n", ncmds);
    free(cap);

    assert_status(st, ck_store_list_user(st, "rt", &l), CK_OK);
    assert_int_equal(l.count, 2);
    ck_session_list_free(&l);
    assert_status(st, ck_store_state_put(st, "rt:p", "x", 1, 60), CK_OK);
    assert_status(st, ck_store_state_take(st, "rt:p", &v, &len), CK_OK);
    free(v);
    assert_status(st, ck_store_fail_add(st, "rt:f", 60, &cnt), CK_OK);
    assert_status(st, ck_store_delete(st, sid), CK_OK);
    assert_status(st, ck_store_revoke_user(st, "rt", &n), CK_OK);
    assert_int_equal(n, 1);
    cap = monitor_collect(&w, &ncmds);
    check_capture("list/state/fail/delete/revoke", cap, sid);
    free(cap);

    at(INACT + 120);
    assert_status(st, ck_store_metrics(st, &m), CK_OK);
    assert_status(st, ck_store_sweep(st, &n), CK_OK);
    cap = monitor_collect(&w, &ncmds);
    check_capture("metrics/sweep", cap, NULL);
    print_message("metrics + sweep: %d command(s)\n", ncmds);
    free(cap);
    watch_close(&w);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest lmdb_only[] = {
        T(test_lmdb_no_token_at_rest),
    };
    const struct CMUnitTest redis_only[] = {
        T(test_redis_round_trips),
    };
    int failed;

    const struct CMUnitTest tests[] = {
        T(test_create_roundtrip),
        T(test_create_unique),
        T(test_old_tag_ids),
        T(test_create_cap),
        T(test_create_minimal),
        T(test_create_cap_skips_expired),
        T(test_user_prefixes),
        T(test_list_many),
        T(test_touch_missing),
        T(test_touch_refresh),
        T(test_touch_sliding_until_deadline),
        T(test_touch_many),
        T(test_touch_cheap),
        T(test_touch_lifetime),
        T(test_touch_lifetime_before_idle),
        T(test_lifetime_equals_inactivity),
        T(test_touch_idle),
        T(test_touch_idle_boundary),
        T(test_get_no_refresh),
        T(test_get_expired),
        T(test_delete),
        T(test_delete_key),
        T(test_revoke_user),
        T(test_list_user),
        T(test_state_take_once),
        T(test_state_binary),
        T(test_state_empty),
        T(test_state_ttl),
        T(test_state_ttl_boundary),
        T(test_names_distinct),
        T(test_fail_counters),
        T(test_fail_window_boundary),
        T(test_metrics),
        T(test_metrics_lifetime),
        T(test_metrics_touch_expiry),
        T(test_metrics_end_after_expiry),
        T(test_metrics_idle_seen_after_deadline),
        T(test_sweep),
        T(test_ping_backend),
        T(test_realtime_idle),
        T(test_end_reason_idle),
        T(test_end_reason_lifetime),
    };

    failed = cmocka_run_group_tests_name(ct_is_lmdb() ? "store contract (lmdb)"
                                                      : "store contract (redis)",
                                         tests, NULL, NULL);
    if (ct_is_lmdb())
        failed += cmocka_run_group_tests_name("lmdb specifics", lmdb_only, NULL, NULL);
    else if (!getenv("CHECKUP_TEST_NO_MONITOR"))
        /* Not over TLS (no MONITOR there): the plain runs count the commands. */
        failed += cmocka_run_group_tests_name("redis specifics", redis_only, NULL, NULL);
    return failed;
}
