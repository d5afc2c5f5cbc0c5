/*
 * test_store_copy - the pure helper of "checkup store copy": telling when
 * --from and --to name the same store.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

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

static void lmdb_is_not_redis(void **state)
{
    (void)state;
    assert_int_equal(ck_copy_same_store("lmdb:/run/checkup", "redis://127.0.0.1"), 0);
    assert_int_equal(ck_copy_same_store("redis://127.0.0.1", "lmdb:/run/checkup"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_lmdb),
        cmocka_unit_test(same_redis),
        cmocka_unit_test(lmdb_is_not_redis),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
