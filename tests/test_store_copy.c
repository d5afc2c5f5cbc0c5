/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_store_copy - "checkup store copy" without a server: telling when
 * --from and --to name the same store, and the copy's semantics between
 * two embedded stores on a test clock (written once, the later last use
 * wins, ended sessions skipped, counters raised and never added twice,
 * verify finding a missing session).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "ck_clock.h"
#include "ck_config.h"
#include "ck_copy.h"

static void same_lmdb(void **state)
{
    char dir[] = "/tmp/ck-copy-XXXXXX", a[128], b[128], link[96];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof(a), "lmdb:%s", dir);
    snprintf(b, sizeof(b), "lmdb:%s//", dir);
    assert_int_equal(ck_copy_same_store(a, b), 1);
    snprintf(b, sizeof(b), "lmdb:%s/../%s", dir, dir + 5);
    assert_int_equal(ck_copy_same_store(a, b), 1);
    /* a symbolic link to the directory is the same store */
    snprintf(link, sizeof(link), "%s.lnk", dir);
    assert_int_equal(symlink(dir, link), 0);
    snprintf(b, sizeof(b), "lmdb:%s", link);
    assert_int_equal(ck_copy_same_store(a, b), 1);
    unlink(link);
    snprintf(b, sizeof(b), "lmdb:%s/other", dir);
    assert_int_equal(ck_copy_same_store(a, b), 0);
    /* another directory whose data.mdb is a hard link of this one's */
    {
        char f1[128], f2[128];
        FILE *f;

        snprintf(f1, sizeof(f1), "%s/data.mdb", dir);
        snprintf(f2, sizeof(f2), "%s/other/data.mdb", dir);
        assert_non_null(f = fopen(f1, "w"));
        fclose(f);
        assert_int_equal(mkdir(b + 5, 0700), 0);
        assert_int_equal(ck_copy_same_store(a, b), 0);
        assert_int_equal(linkat(AT_FDCWD, f1, AT_FDCWD, f2, 0), 0);
        assert_int_equal(ck_copy_same_store(a, b), 1);
        unlink(f2);
        unlink(f1);
        rmdir(b + 5);
    }
    rmdir(dir);
    /* paths that do not exist yet compare as written */
    assert_int_equal(ck_copy_same_store("lmdb:/nonexistent/a", "lmdb:/nonexistent/a/"), 1);
    assert_int_equal(ck_copy_same_store("lmdb:/nonexistent/a", "lmdb:/nonexistent/b"), 0);
}

static void same_redis(void **state)
{
    (void)state;
    assert_int_equal(ck_copy_same_store("redis://127.0.0.1:6379/0", "redis://127.0.0.1"), 1);
    assert_int_equal(ck_copy_same_store("redis://127.0.0.1/0", "rediss://127.0.0.1:6379"), 1);
    assert_int_equal(ck_copy_same_store("redis://Cache.Example.ORG:7000/2",
                                        "redis://u:pw@cache.example.org:7000/2?timeout=3"), 1);
    assert_int_equal(ck_copy_same_store("redis://[::1]/0", "redis://[::1]:6379"), 1);
    assert_int_equal(ck_copy_same_store("redis://127.0.0.1/0", "redis://127.0.0.1/1"), 0);
    assert_int_equal(ck_copy_same_store("redis://127.0.0.1:6379", "redis://127.0.0.1:6380"), 0);
    assert_int_equal(ck_copy_same_store("redis://10.0.0.1", "redis://10.0.0.2"), 0);
    assert_int_equal(ck_copy_same_store("redis+sentinel://s1/0", "redis+sentinel://s1:26379"), 1);
    assert_int_equal(ck_copy_same_store("redis+sentinel://s1:6379", "redis://s1:6379"), 0);
}

/* The URLs the copy names in its messages: never with their password. */
static void url_shown(void **state)
{
    char out[128];

    (void)state;
    ck_store_url_shown("redis://checkup:s3cret@127.0.0.1:6379/0", out, sizeof(out));
    assert_string_equal(out, "redis://checkup:***@127.0.0.1:6379/0");
    ck_store_url_shown("rediss://:s3cret@h/1", out, sizeof(out));
    assert_string_equal(out, "rediss://:***@h/1");
    /* The parser's reading: the last '@' before the path ends the user info. */
    ck_store_url_shown("redis://u:p@ss:w@rd@h:1/0", out, sizeof(out));
    assert_string_equal(out, "redis://u:***@h:1/0");
    ck_store_url_shown("redis+sentinel://u:pw@s1:26379,s2:26379/m/0", out, sizeof(out));
    assert_string_equal(out, "redis+sentinel://u:***@s1:26379,s2:26379/m/0");
    ck_store_url_shown("redis://checkup@h/0", out, sizeof(out));
    assert_string_equal(out, "redis://checkup@h/0");
    ck_store_url_shown("redis://h/0@x", out, sizeof(out));
    assert_string_equal(out, "redis://h/0@x");
    ck_store_url_shown("lmdb:/var/lib/checkup", out, sizeof(out));
    assert_string_equal(out, "lmdb:/var/lib/checkup");
    ck_store_url_shown("redis://u:s3cret@a-long-host-name/0", out, 12);
    assert_null(strstr(out, "s3c"));
}

static void lmdb_is_not_redis(void **state)
{
    (void)state;
    assert_int_equal(ck_copy_same_store("lmdb:/run/checkup", "redis://127.0.0.1"), 0);
    assert_int_equal(ck_copy_same_store("redis://127.0.0.1", "lmdb:/run/checkup"), 0);
}

/* ---- the copy between two embedded stores ------------------------------------ */

static int64_t clock_now = 1800000000;

static int64_t test_clock(void)
{
    return clock_now;
}

typedef struct two {
    char dir[32];
    ck_config cfg;
    ck_store *a, *b;
} two;

static ck_store *open_at(two *t, const char *name)
{
    char url[96], err[256];
    ck_config c = t->cfg;
    ck_store *st;

    snprintf(url, sizeof(url), "lmdb:%s/%s", t->dir, name);
    c.store_url = url;
    st = ck_store_open(&c, err, sizeof(err));
    if (!st)
        fail_msg("%s", err);
    return st;
}

static int setup_two(void **state)
{
    two *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/ck-copy2-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    ck_config_defaults(&t->cfg);
    t->cfg.lmdb_map_size = (size_t)8 << 20;
    ck_clock_set(test_clock);
    t->a = open_at(t, "a");
    t->b = open_at(t, "b");
    *state = t;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown_two(void **state)
{
    two *t = *state;

    ck_store_close(t->a);
    ck_store_close(t->b);
    ck_clock_set(NULL);
    assert_int_equal(nftw(t->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(t);
    return 0;
}

static void make_session(ck_store *st, const char *user, char sid[CK_SID_LEN])
{
    ck_session s;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "%s", user);
    snprintf(s.email, sizeof(s.email), "%s", user);
    snprintf(s.role, sizeof(s.role), "doctor");
    snprintf(s.clinic_id, sizeof(s.clinic_id), "clinic-7");
    snprintf(s.tty, sizeof(s.tty), "pts/3");
    s.method = CK_AUTH_CORPPASS;
    assert_int_equal(ck_store_create(st, &s, sid), CK_OK);
}

static void copy_ok(two *t, ck_copy_stats *s)
{
    char err[256];

    assert_int_equal(ck_store_copy(t->a, t->b, NULL, NULL, s, err, sizeof(err)), CK_OK);
}

static size_t verify_n(two *t)
{
    char err[256];
    size_t n = 99;

    assert_int_equal(ck_store_copy_verify(t->a, t->b, NULL, NULL, &n, err, sizeof(err)), CK_OK);
    return n;
}

static void copy_semantics(void **state)
{
    two *t = *state;
    char s1[CK_SID_LEN], s2[CK_SID_LEN], s3[CK_SID_LEN];
    ck_session a, b;
    ck_copy_stats st;
    ck_metrics ma, mb;
    int64_t n;

    make_session(t->a, "u1@example.org", s1);
    make_session(t->a, "u1@example.org", s2);
    clock_now += 100;
    make_session(t->a, "u2@example.org", s3);
    assert_int_equal(ck_store_delete(t->a, s3), CK_OK);     /* one logout counted */
    make_session(t->a, "u2@example.org", s3);
    assert_int_equal(ck_store_fail_add(t->a, "lk:u:abc", 600, &n), CK_OK);
    assert_int_equal(ck_store_fail_add(t->a, "lk:u:abc", 600, &n), CK_OK);
    assert_int_equal(ck_store_lock_note(t->a, "u:abc", 900), CK_OK);

    copy_ok(t, &st);
    assert_int_equal(st.sessions, 3);
    assert_int_equal(st.copied, 3);
    assert_int_equal(st.counters, 1);
    assert_int_equal(st.locks, 1);
    assert_int_equal(verify_n(t), 0);
    /* the copy answers to the same id, with every field and time */
    assert_int_equal(ck_store_get(t->a, s1, &a), CK_OK);
    assert_int_equal(ck_store_get(t->b, s1, &b), CK_OK);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_int_equal(ck_store_fail_count(t->b, "lk:u:abc", &n), CK_OK);
    assert_int_equal(n, 2);

    /* twice: nothing written, counters not added again */
    copy_ok(t, &st);
    assert_int_equal(st.present, 3);
    assert_int_equal(st.copied + st.updated + st.counters + st.locks, 0);
    assert_int_equal(ck_store_metrics(t->a, &ma), CK_OK);
    assert_int_equal(ck_store_metrics(t->b, &mb), CK_OK);
    assert_int_equal(mb.created, ma.created);
    assert_int_equal(mb.ended_logout, 1);
    assert_int_equal(mb.active, 3);
    assert_int_equal(mb.active_by_method[CK_AUTH_CORPPASS], 3);

    /* a keep-alive on the source comes over; one on the target stays */
    clock_now += 60;
    assert_int_equal(ck_store_touch(t->a, s1, &a), CK_OK);
    clock_now += 10;
    assert_int_equal(ck_store_touch(t->b, s2, &b), CK_OK);
    copy_ok(t, &st);
    assert_int_equal(st.updated, 1);
    assert_int_equal(st.present, 2);
    assert_int_equal(ck_store_get(t->b, s1, &b), CK_OK);
    assert_int_equal(b.last_activity, a.last_activity);
    assert_int_equal(b.expires, a.expires);
    assert_int_equal(ck_store_get(t->b, s2, &b), CK_OK);
    assert_int_equal(b.last_activity, clock_now);

    /* the copy still ends by idle time on the target */
    clock_now += t->cfg.inactivity_timeout + 1;
    assert_int_equal(ck_store_touch(t->b, s3, &b), CK_EXPIRED_IDLE);
}

static void copy_skips_ended_and_verify_finds(void **state)
{
    two *t = *state;
    char s1[CK_SID_LEN], s2[CK_SID_LEN];
    ck_copy_stats st;
    size_t revoked;

    make_session(t->a, "u1@example.org", s1);
    clock_now += t->cfg.inactivity_timeout - 10;
    make_session(t->a, "u2@example.org", s2);
    clock_now += 20;                        /* s1 has idled out, s2 lives */
    copy_ok(t, &st);
    assert_int_equal(st.copied, 1);
    assert_int_equal(st.expired, 1);
    assert_int_equal(ck_store_get(t->b, s1, NULL), CK_NOT_FOUND);
    assert_int_equal(verify_n(t), 0);
    /* a session missing on the target: the session and its user index */
    assert_int_equal(ck_store_revoke_user(t->b, "u2@example.org", &revoked), CK_OK);
    assert_int_equal(revoked, 1);
    assert_int_equal(verify_n(t), 2);
    copy_ok(t, &st);
    assert_int_equal(st.copied, 1);
    assert_int_equal(verify_n(t), 0);
}

/* More than one page (CK_COPY_PAGE): each session once, none twice at the seams. */
/*
 * A counter at INT64_MAX on the source (no checkup counts that far) is
 * refused, not written: the target's next failure would wrap it negative.
 */
static void copy_refuses_counter_out_of_range(void **state)
{
    two *t = *state;
    ck_copy_entry e;
    ck_copy_stats s;
    char err[256];
    int res = 0;
    int64_t n = 0;

    memset(&e, 0, sizeof(e));
    e.kind = CK_COPY_COUNTERS;
    snprintf(e.name, sizeof(e.name), "la:mallory@example.org");
    e.count = INT64_MAX;
    e.end = clock_now + 900;
    assert_int_equal(t->a->ops->copy_import(t->a, &e, 1, clock_now, &res), CK_OK);
    assert_int_equal(ck_store_copy(t->a, t->b, NULL, NULL, &s, err, sizeof(err)),
                     CK_ERR_CORRUPT);
    assert_non_null(strstr(err, "la:mallory@example.org"));
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(ck_store_fail_count(t->b, "la:mallory@example.org", &n), CK_OK);
    assert_int_equal(n, 0);
}

static void copy_pages(void **state)
{
    two *t = *state;
    char sid[CK_SID_LEN];
    ck_copy_stats st;

    for (int i = 0; i < 1200; i++) {
        char user[32];

        snprintf(user, sizeof(user), "p%d@example.org", i / 3);
        make_session(t->a, user, sid);
    }
    copy_ok(t, &st);
    assert_int_equal(st.sessions, 1200);
    assert_int_equal(st.copied, 1200);
    copy_ok(t, &st);
    assert_int_equal(st.sessions, 1200);
    assert_int_equal(st.present, 1200);
    assert_int_equal(verify_n(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_lmdb),
        cmocka_unit_test(same_redis),
        cmocka_unit_test(lmdb_is_not_redis),
        cmocka_unit_test(url_shown),
        cmocka_unit_test_setup_teardown(copy_semantics, setup_two, teardown_two),
        cmocka_unit_test_setup_teardown(copy_skips_ended_and_verify_finds, setup_two,
                                        teardown_two),
        cmocka_unit_test_setup_teardown(copy_pages, setup_two, teardown_two),
        cmocka_unit_test_setup_teardown(copy_refuses_counter_out_of_range, setup_two,
                                        teardown_two),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
