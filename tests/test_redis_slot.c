/* SPDX-License-Identifier: BSD-3-Clause */
/* The Redis Cluster hash slot: the specification's CRC16 and hash tag rule. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redis/redis_slot.h"

static unsigned slot(const char *key)
{
    return ck_redis_key_slot(key, strlen(key));
}

static void test_crc16_check_value(void **state)
{
    (void)state;
    /* the check value of CRC-16/XMODEM, as the cluster specification gives it */
    assert_int_equal(ck_redis_crc16("123456789", 9), 0x31C3);
    assert_int_equal(ck_redis_crc16("", 0), 0);
}

static void test_known_slots(void **state)
{
    (void)state;
    /* what CLUSTER KEYSLOT answers for these keys */
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot("123456789"), 0x31C3 % CK_REDIS_SLOTS);
}

static void test_hash_tags(void **state)
{
    (void)state;
    assert_int_equal(slot("{user1000}.following"), slot("{user1000}.followers"));
    assert_int_equal(slot("{user1000}.following"), slot("user1000"));
    /* only the first "{" and the first "}" after it count */
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
    /* an empty tag, or no "}", hashes the whole key */
    assert_int_equal(slot("foo{}{bar}"), ck_redis_crc16("foo{}{bar}", 10) % CK_REDIS_SLOTS);
    assert_int_equal(slot("foo{bar"), ck_redis_crc16("foo{bar", 7) % CK_REDIS_SLOTS);
    assert_int_equal(slot("}{x}"), slot("x"));
}

static void test_binary_keys(void **state)
{
    const char k[] = { 'c', 'k', ':', 's', ':', '{', 'a', 'b', '}', '\0', '{', '\xff' };

    (void)state;
    /* a NUL after the tag does not cut the key short */
    assert_int_equal(ck_redis_key_slot(k, sizeof(k)), slot("ab"));
    assert_int_equal(ck_redis_key_slot("x", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test(test_known_slots),
        cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_binary_keys),
    };

    return cmocka_run_group_tests_name("redis cluster slots", tests, NULL, NULL);
}
