/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A full store still checks and ends sessions, on every way a store fills:
 * Redis at maxmemory with noeviction (CHECKUP_TEST_REDIS_PORT), the
 * embedded store on a full file system (CHECKUP_TEST_FULL_DIR, a small
 * tmpfs mounted by tests/store_full.sh) and at its map size. Each case
 * makes sessions, fills the store for real, moves the clock past a minute
 * (a touch then has something to write), and checks: every existing
 * session still validates, logouts and revocations work, a login is
 * refused with "store full", and the store is usable again once room is
 * made (CHECKUP_TEST_MAP_DIR: where the map-size case keeps its store). The figures are printed as "FULL case=... key=value" lines.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <lmdb.h>

#include "ck_clock.h"
#include "ck_config.h"
#include "ck_store.h"
#include "contract_common.h"

/* store/lmdb/lmdb_internal.h: the handle's environment. */
MDB_env *ck_lmdb_test_env(ck_store *st);

#define USERS 20
#define PER_USER 10
#define N (USERS * PER_USER)
#define MORE_MAX 100000

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

typedef struct full_case {
    const char *name;
    ck_config cfg;
    ck_store *st;
    char (*sids)[CK_SID_LEN];
    char (*users)[32];
    size_t n;
    int (*fill)(struct full_case *fc);
    void (*unfill)(struct full_case *fc);
    char path[512];
    redisContext *rc;
} full_case;

static void add_session(full_case *fc, const char *user, ck_status want)
{
    ck_session in;
    ck_status rc;

    ct_fill(&in, user, CK_AUTH_EMAIL);
    rc = ck_store_create(fc->st, &in, fc->sids[fc->n]);
    if (rc != want)
        fail_msg("%s: create: %s: %s", fc->name, ck_status_str(rc), ck_store_errstr(fc->st));
    if (rc == CK_OK) {
        snprintf(fc->users[fc->n], sizeof(fc->users[0]), "%s", user);
        fc->n++;
    }
}

/* ---- Redis: maxmemory just above what is used, then filled past it ------ */

static redisReply *cmd(full_case *fc, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(fc->rc, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static long long used_memory(full_case *fc)
{
    redisReply *r = cmd(fc, "INFO memory");
    const char *p = strstr(r->str, "used_memory:");
    long long v = p ? atoll(p + 12) : -1;

    freeReplyObject(r);
    return v;
}

static int redis_fill(full_case *fc)
{
    redisReply *r;
    long long used = used_memory(fc);

    freeReplyObject(cmd(fc, "CONFIG SET maxmemory %lld", used + 100000));
    /* One script: once it has written, Redis lets it go past maxmemory. */
    r = cmd(fc, "EVAL %s 0", "for i = 1, 200 do redis.call('SET', 'fill:' .. i, "
            "string.rep('x', 4000)) end return 1");
    freeReplyObject(r);
    r = cmd(fc, "SET probe x");
    /* Really full: a plain write is refused. */
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_memory_equal(r->str, "OOM", 3);
    freeReplyObject(r);
    return 0;
}

static void redis_unfill(full_case *fc)
{
    freeReplyObject(cmd(fc, "CONFIG SET maxmemory 0"));
}

/* ---- LMDB on a full file system ------------------------------------------- */

static int disk_fill(full_case *fc)
{
    static char buf[65536];
    char p[600];
    int fd;
    ssize_t w;

    snprintf(p, sizeof(p), "%s/fill", fc->path);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    memset(buf, 'x', sizeof(buf));
    do {
        w = write(fd, buf, sizeof(buf));
    } while (w > 0);
    /* Down to the last page: the small writes fill the last blocks. */
    do {
        w = write(fd, buf, 512);
    } while (w > 0);
    assert_int_equal(errno, ENOSPC);
    close(fd);
    return 0;
}

static void disk_unfill(full_case *fc)
{
    char p[600];

    snprintf(p, sizeof(p), "%s/fill", fc->path);
    unlink(p);
}

/* ---- LMDB at its map size: logins until refused ----------------------------- */

static int map_fill(full_case *fc)
{
    (void)fc;
    return 0;
}

static void map_unfill(full_case *fc)
{
    (void)fc;
}

/* ---- the scenario ---------------------------------------------------------- */

static void run_case(full_case *fc)
{
    char err[512], user[32], sid[CK_SID_LEN];
    ck_session s;
    ck_status rc;
    size_t valid = 0, ended = 0, revoked = 0, more = 0, gone = 0, i;
    int64_t lost0 = ck_store_metrics_lost();
    ck_session in;

    fake_now = 1893456000 + 10;     /* 10 s into a minute */
    ck_clock_set(fake_clock);
    fc->sids = calloc(N + MORE_MAX, sizeof(*fc->sids));
    fc->users = calloc(N + MORE_MAX, sizeof(*fc->users));
    assert_non_null(fc->sids);
    assert_non_null(fc->users);
    fc->st = ck_store_open(&fc->cfg, err, sizeof(err));
    if (!fc->st)
        fail_msg("%s: open: %s", fc->name, err);
    for (i = 0; i < N; i++) {
        snprintf(user, sizeof(user), "u%zu", i % USERS);
        add_session(fc, user, CK_OK);
    }
    assert_int_equal(fc->fill(fc), 0);
    /* Logins until the store refuses one: at once for Redis, after the
     * reserve the embedded store had allocated for a full disk or map. */
    for (more = 0; more < MORE_MAX; more++) {
        snprintf(user, sizeof(user), "late%zu", more);
        ct_fill(&in, user, CK_AUTH_EMAIL);
        rc = ck_store_create(fc->st, &in, fc->sids[fc->n]);
        if (rc != CK_OK)
            break;
        snprintf(fc->users[fc->n], sizeof(fc->users[0]), "%s", user);
        fc->n++;
    }
    if (rc != CK_ERR_FULL || strncmp(ck_store_errstr(fc->st), "store full (", 12) != 0)
        fail_msg("%s: a login in a full store: %s: %s", fc->name, ck_status_str(rc),
                 ck_store_errstr(fc->st));
    printf("FULL case=%s login_refused=\"%s\"\n", fc->name, ck_store_errstr(fc->st));
    /* A minute later every touch has a refresh (and Redis a bucket) to write. */
    fake_now += 90;
    for (i = 0; i < fc->n; i++)
        if (ck_store_touch(fc->st, fc->sids[i], &s) == CK_OK && s.expires > fake_now)
            valid++;
        else
            fprintf(stderr, "%s: touch %zu: %s\n", fc->name, i, ck_store_errstr(fc->st));
    /* Still full: another login is refused. (At the map size, pages the
     * touches freed may take one or two: the reserve counts the free list.) */
    ct_fill(&in, "later", CK_AUTH_EMAIL);
    rc = ck_store_create(fc->st, &in, sid);
    if (fc->fill != map_fill)
        assert_int_equal(rc, CK_ERR_FULL);
    /* Logouts: every other session; revocations: the users u0..u3. */
    for (i = 0; i < fc->n; i += 2)
        if (ck_store_delete(fc->st, fc->sids[i]) == CK_OK)
            ended++;
        else
            fprintf(stderr, "%s: logout %zu: %s\n", fc->name, i, ck_store_errstr(fc->st));
    for (int u = 0; u < 4; u++) {
        size_t c = 0;

        snprintf(user, sizeof(user), "u%d", u);
        rc = ck_store_revoke_user(fc->st, user, &c);
        if (rc != CK_OK)
            fail_msg("%s: revoke %s: %s", fc->name, user, ck_store_errstr(fc->st));
        revoked += c;
    }
    for (i = 0; i < fc->n; i++) {
        rc = ck_store_touch(fc->st, fc->sids[i], &s);
        if (rc == CK_NOT_FOUND)
            gone++;
    }
    printf("FULL case=%s sessions=%zu validated=%zu logouts=%zu/%zu revoked=%zu "
           "ended_after=%zu/%zu metrics_lost=%lld extra_logins_before_refusal=%zu\n",
           fc->name, fc->n, valid, ended, (fc->n + 1) / 2, revoked, gone,
           (fc->n + 1) / 2 + revoked, (long long)(ck_store_metrics_lost() - lost0), more);
    assert_int_equal(valid, fc->n);
    assert_int_equal(ended, (fc->n + 1) / 2);
    assert_int_equal(revoked, 4 * PER_USER / 2);    /* half of theirs were logged out */
    assert_int_equal(gone, (fc->n + 1) / 2 + revoked);
    if (fc->rc)
        assert_true(ck_store_metrics_lost() > lost0);
    /* Room again: logins work. */
    fc->unfill(fc);
    /* (The map: what the logouts freed takes new logins.) */
    ct_fill(&in, "again", CK_AUTH_EMAIL);
    rc = ck_store_create(fc->st, &in, sid);
    if (rc != CK_OK)
        fail_msg("%s: a login once there is room: %s", fc->name, ck_store_errstr(fc->st));
    ck_store_close(fc->st);
    free(fc->sids);
    free(fc->users);
    ck_clock_set(NULL);
}

static void base_config(full_case *fc, const char *name)
{
    ck_config_defaults(&fc->cfg);
    fc->name = name;
    fc->cfg.inactivity_timeout = 1200;
    fc->cfg.absolute_lifetime = 86400;
}

static void test_redis_oom(void **state)
{
    full_case fc = { 0 };
    const char *port = getenv("CHECKUP_TEST_REDIS_PORT");
    char url[64];

    (void)state;
    if (!port) {
        fail_msg("CHECKUP_TEST_REDIS_PORT is not set: run tests/store_full.sh");
        return;
    }
    base_config(&fc, "redis_oom");
    snprintf(url, sizeof(url), "redis://127.0.0.1:%s", port);
    fc.cfg.store_url = strdup(url);
    fc.rc = redisConnect("127.0.0.1", atoi(port));
    assert_true(fc.rc && !fc.rc->err);
    fc.fill = redis_fill;
    fc.unfill = redis_unfill;
    run_case(&fc);
    redisFree(fc.rc);
    ck_config_free(&fc.cfg);
}

static void lmdb_case(const char *name, const char *dir, size_t map, int (*fill)(full_case *),
                      void (*unfill)(full_case *))
{
    full_case fc = { 0 };
    char url[600];

    base_config(&fc, name);
    snprintf(fc.path, sizeof(fc.path), "%s", dir);
    snprintf(url, sizeof(url), "lmdb:%s/store", dir);
    fc.cfg.store_url = strdup(url);
    fc.cfg.lmdb_map_size = map;
    fc.fill = fill;
    fc.unfill = unfill;
    run_case(&fc);
    ck_config_free(&fc.cfg);
}

static void test_lmdb_disk_full(void **state)
{
    const char *dir = getenv("CHECKUP_TEST_FULL_DIR");

    (void)state;
    if (!dir) {
        fail_msg("run tests/store_full.sh: it sets the directories");
        return;
    }
    /* The map (16 MiB) is larger than the file system (4 MiB): the disk fills first. */
    lmdb_case("lmdb_disk_full", dir, (size_t)16 << 20, disk_fill, disk_unfill);
}

static void test_lmdb_map_full(void **state)
{
    const char *dir = getenv("CHECKUP_TEST_MAP_DIR");

    (void)state;
    if (!dir) {
        fail_msg("run tests/store_full.sh: it sets the directories");
        return;
    }
    lmdb_case("lmdb_map_full", dir, (size_t)1 << 20, map_fill, map_unfill);
}

/* ---- ends of sessions are synced (linked with --wrap=mdb_env_sync) ---------- */

int __real_mdb_env_sync(MDB_env *env, int force);
int __wrap_mdb_env_sync(MDB_env *env, int force);
static int forced_syncs;

int __wrap_mdb_env_sync(MDB_env *env, int force)
{
    if (force)
        forced_syncs++;
    return __real_mdb_env_sync(env, force);
}

/*
 * The environment runs with MDB_NOMETASYNC: a logout or a revocation is
 * synced before it is answered, a touch or a login is not.
 */
static void test_lmdb_end_synced(void **state)
{
    const char *dir = getenv("CHECKUP_TEST_MAP_DIR");
    ck_config cfg;
    ck_store *st;
    ck_session in, s;
    char err[512], url[600], a[CK_SID_LEN], b[CK_SID_LEN];
    size_t n = 0;
    unsigned flags = 0;

    (void)state;
    if (!dir) {
        fail_msg("run tests/store_full.sh: it sets the directories");
        return;
    }
    ck_config_defaults(&cfg);
    snprintf(url, sizeof(url), "lmdb:%s/synced", dir);
    cfg.store_url = strdup(url);
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st)
        fail_msg("open: %s", err);
    assert_int_equal(mdb_env_get_flags(ck_lmdb_test_env(st), &flags), 0);
    assert_int_equal(flags & MDB_NOSYNC, 0);
    ct_fill(&in, "synced", CK_AUTH_EMAIL);
    forced_syncs = 0;
    assert_int_equal(ck_store_create(st, &in, a), CK_OK);
    assert_int_equal(ck_store_create(st, &in, b), CK_OK);
    assert_int_equal(ck_store_touch(st, a, &s), CK_OK);
    assert_int_equal(forced_syncs, 0);
    assert_int_equal(ck_store_delete(st, a), CK_OK);
    assert_int_equal(forced_syncs, 1);
    assert_int_equal(ck_store_revoke_user(st, "synced", &n), CK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(forced_syncs, 2);
    ck_store_close(st);
    ck_config_free(&cfg);
}

/*
 * test_store_full --fill URL MAP_MIB: logins into the store at URL until
 * it refuses one (store full); prints how many it took. tests/store_full.sh
 * uses it to fill the store under a running checkupd quickly.
 */
static int fill_main(const char *url, const char *map_mib)
{
    ck_config cfg;
    ck_store *st;
    ck_session in;
    char err[512], sid[CK_SID_LEN], user[32];
    ck_status rc = CK_OK;
    long n;

    ck_config_defaults(&cfg);
    cfg.store_url = strdup(url);
    cfg.lmdb_map_size = (size_t)atol(map_mib) << 20;
    /* Beside a daemon under load on a slow disk the writer lock may be long in coming. */
    cfg.command_timeout_ms = 15000;
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    for (n = 0; n < MORE_MAX; n++) {
        snprintf(user, sizeof(user), "fill%ld", n);
        ct_fill(&in, user, CK_AUTH_EMAIL);
        rc = ck_store_create(st, &in, sid);
        if (rc != CK_OK)
            break;
    }
    printf("%ld %s\n", n, rc == CK_OK ? "ok" : ck_store_errstr(st));
    ck_store_close(st);
    ck_config_free(&cfg);
    return rc == CK_ERR_FULL ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--fill") == 0)
        return fill_main(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_oom),
        cmocka_unit_test(test_lmdb_disk_full),
        cmocka_unit_test(test_lmdb_map_full),
        cmocka_unit_test(test_lmdb_end_synced),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
