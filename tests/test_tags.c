/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session tags (backend.h) and how Redis keys spell them (redis_tags.h),
 * with no server: the formats are fixed by known answers, the table of
 * new tags' hash tags is recomputed from its rule, and the spread of
 * 100,000 users' keys over 3 and over 100 Cluster primaries is measured.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "backend.h"
#include "ck_encode.h"
#include "redis/redis_internal.h"
#include "redis/redis_slot.h"
#include "redis/redis_tags.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A Redis store handle, never connected: it only spells keys. */
static int setup(void **state)
{
    ck_config cfg;
    char err[256] = "";
    ck_store *st;

    ck_config_defaults(&cfg);
    cfg.store_url = strdup("redis://127.0.0.1:1/");
    st = ck_store_open(&cfg, err, sizeof(err));
    ck_config_free(&cfg);
    if (!st)
        fail_msg("ck_store_open: %s", err);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    ck_store_close(*state);
    return 0;
}

/* ---- the formats: known answers that must never change ------------------- */

static void test_user_tags_known(void **state)
{
    char tag[3];

    (void)state;
    /* old: SHA-256(user)[0] mod 64 in hex; new: the first 8 bytes mod 3072 */
    ck_user_tag_old("alice", tag);
    assert_string_equal(tag, "2b");
    ck_user_tag("alice", tag);
    assert_string_equal(tag, "Sv");
    assert_int_equal(ck_tag_index(tag), CK_TAG_OLD_COUNT + 1199);
    ck_user_tag_old("bob@example.org", tag);
    assert_string_equal(tag, "28");
    ck_user_tag("bob@example.org", tag);
    assert_string_equal(tag, "kt");
    assert_int_equal(ck_tag_index(tag), CK_TAG_OLD_COUNT + 1965);
}

static void key_of(ck_store *st, const char *sid, unsigned char *out, size_t *len)
{
    ck_skey k;

    memcpy(k.tag, sid, 2);
    k.tag[2] = '\0';
    SHA256((const unsigned char *)sid, strlen(sid), k.hash);
    *len = ck_rs_key_session(st, &k, (char *)out);
}

static void test_old_id_key_bytes(void **state)
{
    const char sid[] = "3fAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char hash_hex[] = "ee37ba8d6e74769e6d7f05354560a6eb996f7ebcd4855154ed2f81c21c5dc926";
    unsigned char key[CK_RS_KEY_MAX], want[64];
    char key_hex[CK_KEY_HEX_LEN];
    size_t len;
    ck_skey k;

    /* the key of an id issued before the wider tags, byte for byte as then */
    assert_int_equal(ck_tag_index(sid), 0x3f);
    key_of(*state, sid, key, &len);
    memcpy(want, "ck:s:{3f}", 9);
    assert_int_equal(ck_hex_decode(hash_hex, CK_KEY_LEN, want + 9), 0);
    assert_int_equal(len, 9 + CK_KEY_LEN);
    assert_memory_equal(key, want, len);
    assert_int_equal(ck_redis_key_slot(key, len), ck_redis_key_slot("3f", 2));
    /* and its admin key */
    snprintf(key_hex, sizeof(key_hex), "3f%s", hash_hex);
    assert_int_equal(ck_skey_from_hex(key_hex, &k), 0);
    assert_string_equal(k.tag, "3f");
    assert_memory_equal(k.hash, want + 9, CK_KEY_LEN);
    ck_rs_key_tag(*state, "u", "3f", "alice", (char *)key);
    assert_string_equal((char *)key, "ck:u:{3f}alice");
    ck_rs_key_tag(*state, "m", "00", "", (char *)key);
    assert_string_equal((char *)key, "ck:m:{00}");
}

static void test_new_id_key_bytes(void **state)
{
    const char sid[] = "gQBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA";
    const char hash_hex[] = "0b3acfa7e74195f6109e6f96bb42cec852c10198ef8c476b34a32cbecdc326c2";
    unsigned char key[CK_RS_KEY_MAX], want[64];
    char b[CK_RS_BRACES_MAX + 1];
    size_t len;

    /* "gQ" is new tag 1680 ('g' is the 27th first character): slot 8960 */
    assert_int_equal(ck_tag_index(sid), CK_TAG_OLD_COUNT + 26 * 64 + 16);
    assert_int_equal(ck_rs_tag_slot(1680), 8960);
    assert_int_equal(ck_rs_tag_braces("gQ", b), 2);
    assert_string_equal(b, "G8");
    key_of(*state, sid, key, &len);
    memcpy(want, "ck:s:{G8}", 9);
    assert_int_equal(ck_hex_decode(hash_hex, CK_KEY_LEN, want + 9), 0);
    assert_int_equal(len, 9 + CK_KEY_LEN);
    assert_memory_equal(key, want, len);
    assert_int_equal(ck_redis_key_slot(key, len), 8960);
    ck_rs_key_tag(*state, "mz", "gQ", "", (char *)key);
    assert_string_equal((char *)key, "ck:mz:{G8}");
}

/* ---- every tag ----------------------------------------------------------- */

static void test_tag_names(void **state)
{
    char tag[3], bad[3] = "";

    (void)state;
    for (int i = 0; i < CK_TAG_COUNT; i++) {
        ck_tag_name(i, tag);
        assert_int_equal(strlen(tag), 2);
        assert_int_equal(ck_tag_index(tag), i);
        if (i < CK_TAG_OLD_COUNT) {
            assert_true(lower_hex(tag[0]) && lower_hex(tag[1]));
        } else {
            /* the FIRST character of a new tag is never lowercase hex */
            assert_false(lower_hex(tag[0]));
            assert_non_null(strchr(b64url, tag[0]));
            assert_non_null(strchr(b64url, tag[1]));
        }
    }
    /* every pair of base64url characters: a tag exactly when the rule says so */
    for (const char *p = b64url; *p; p++) {
        for (const char *q = b64url; *q; q++) {
            int i;

            bad[0] = *p;
            bad[1] = *q;
            i = ck_tag_index(bad);
            if (lower_hex(*p))
                assert_int_equal(i, lower_hex(*q) && ck_hex_digit(*p) * 16 + ck_hex_digit(*q) < 64
                                    ? ck_hex_digit(*p) * 16 + ck_hex_digit(*q) : -1);
            else
                assert_true(i >= CK_TAG_OLD_COUNT && i < CK_TAG_COUNT);
        }
    }
    assert_int_equal(ck_tag_index("3F"), -1);
    assert_int_equal(ck_tag_index("40"), -1);
    assert_int_equal(ck_tag_index("g"), -1);
    assert_int_equal(ck_tag_index("g="), -1);
    assert_int_equal(ck_tag_index("+A"), -1);
    assert_int_equal(ck_tag_index(""), -1);
    assert_int_equal(ck_tag_index(NULL), -1);
}

/*
 * The rule the table follows, recomputed: the first string of 1 to 3
 * base64url characters (by length, then in base64url order, the first
 * character most significant) with the slot, skipping two lowercase hex
 * digits.
 */
static void first_per_slot(char (*first)[CK_RS_BRACES_MAX + 1])
{
    char s[CK_RS_BRACES_MAX + 1];

    for (size_t len = 1; len <= CK_RS_BRACES_MAX; len++) {
        size_t total = 1;

        for (size_t i = 0; i < len; i++)
            total *= 64;
        for (size_t n = 0; n < total; n++) {
            size_t x = n;
            unsigned slot;

            for (size_t i = len; i-- > 0; x /= 64)
                s[i] = b64url[x % 64];
            s[len] = '\0';
            if (len == 2 && lower_hex(s[0]) && lower_hex(s[1]))
                continue;
            slot = ck_redis_crc16(s, len) % CK_REDIS_SLOTS;
            if (!first[slot][0])
                memcpy(first[slot], s, len + 1);
        }
    }
}

static void test_table(void **state)
{
    char (*first)[CK_RS_BRACES_MAX + 1] = calloc(CK_REDIS_SLOTS, sizeof(*first));
    unsigned char *used = calloc(CK_REDIS_SLOTS, 1);
    char tag[3], b[CK_RS_BRACES_MAX + 1], back[3], key[CK_RS_KEY_MAX];
    size_t len;

    assert_non_null(first);
    assert_non_null(used);
    first_per_slot(first);
    for (int v = 0; v < CK_TAG_NEW_COUNT; v++) {
        unsigned want = (unsigned)((long)v * CK_REDIS_SLOTS / CK_TAG_NEW_COUNT);

        ck_tag_name(CK_TAG_OLD_COUNT + v, tag);
        len = ck_rs_tag_braces(tag, b);
        assert_int_equal(ck_rs_tag_slot(v), want);
        /* the table is the rule's answer, so every entry is distinct */
        assert_string_equal(b, first[want]);
        assert_int_equal(len, strlen(b));
        assert_false(used[want]);
        used[want] = 1;
        assert_false(len == 2 && lower_hex(b[0]) && lower_hex(b[1]));
        /* each key of the tag lands on the intended slot */
        ck_rs_key_tag(*state, "u", tag, "someone", key);
        assert_int_equal(ck_redis_key_slot(key, strlen(key)), want);
        ck_rs_key_tag(*state, "m", tag, "", key);
        assert_int_equal(ck_redis_key_slot(key, strlen(key)), want);
        assert_int_equal(ck_rs_tag_from_braces(b, len, back), 0);
        assert_string_equal(back, tag);
    }
    for (int i = 0; i < CK_TAG_OLD_COUNT; i++) {
        ck_tag_name(i, tag);
        assert_int_equal(ck_rs_tag_braces(tag, b), 2);
        assert_string_equal(b, tag);
        assert_int_equal(ck_rs_tag_from_braces(b, 2, back), 0);
        assert_string_equal(back, tag);
    }
    /* text that is no tag's */
    assert_int_equal(ck_rs_tag_from_braces("40", 2, back), -1);
    assert_int_equal(ck_rs_tag_from_braces("", 0, back), -1);
    assert_int_equal(ck_rs_tag_from_braces("ABCD", 4, back), -1);
    /* a slot between the tags' slots, and another string on a tag's slot */
    assert_int_equal(ck_rs_tag_from_braces(first[1], strlen(first[1]), back), -1);
    for (const char *p = b64url; *p; p++) {
        char o[4] = { *p, 'x', 'y', '\0' };

        if (ck_redis_crc16(o, 3) % CK_REDIS_SLOTS == 0 && strcmp(o, first[0]) != 0) {
            assert_int_equal(ck_rs_tag_from_braces(o, 3, back), -1);
            break;
        }
    }
    assert_int_equal(ck_rs_tag_braces("3F", b), 0);
    assert_string_equal(b, "");
    free(first);
    free(used);
}

static void test_session_key_parse(void **state)
{
    char key[CK_RS_KEY_MAX];
    ck_skey k, back;
    size_t len;

    for (int i = 0; i < CK_TAG_COUNT; i += 7) {
        ck_tag_name(i, k.tag);
        for (int j = 0; j < CK_KEY_LEN; j++)
            k.hash[j] = (unsigned char)(j % 3 == 0 ? '}' : j * 7 + i);      /* braces inside */
        len = ck_rs_key_session(*state, &k, key);
        memset(&back, 0, sizeof(back));
        assert_int_equal(ck_rs_session_key_parse("ck:", key, len, &back), 0);
        assert_string_equal(back.tag, k.tag);
        assert_memory_equal(back.hash, k.hash, CK_KEY_LEN);
        assert_int_equal(ck_rs_session_key_parse("ck:", key, len - 1, &back), -1);
        assert_int_equal(ck_rs_session_key_parse("xx:", key, len, &back), -1);
    }
    assert_int_equal(ck_rs_session_key_parse("ck:", "ck:s:{}", 7, &back), -1);
    memcpy(key, "ck:s:{40}", 9);
    memset(key + 9, 'x', CK_KEY_LEN);
    assert_int_equal(ck_rs_session_key_parse("ck:", key, 9 + CK_KEY_LEN, &back), -1);
    memcpy(key, "ck:s:{3f}", 9);
    assert_int_equal(ck_rs_session_key_parse("ck:", key, 9 + CK_KEY_LEN, &back), 0);
    assert_string_equal(back.tag, "3f");
}

/* ---- the spread over primaries ------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * Contiguous ranges of equal size (to within one slot) in node order, as
 * redis-cli --cluster create assigns them: primary p holds the slots from
 * p * 16384 / primaries (rounded down) to the next primary's first.
 */
static int primary_of(unsigned slot, int primaries)
{
    return (int)(((long)(slot + 1) * primaries - 1) / CK_REDIS_SLOTS);
}

#define USERS 100000

/* max keys per primary / mean, over every key a session and its user and tag make */
static void spread(const unsigned *slot_of_user, const unsigned *tag_slots,
                   int primaries, double *sessions_ratio, double *keys_ratio)
{
    long *s = calloc((size_t)primaries, sizeof(long)), *k = calloc((size_t)primaries, sizeof(long));
    long smax = 0, kmax = 0;

    assert_non_null(s);
    assert_non_null(k);
    for (int u = 0; u < USERS; u++) {
        int p = primary_of(slot_of_user[u], primaries);

        s[p]++;
        k[p] += 2;              /* the session record and the user's index */
    }
    for (int v = 0; v < CK_TAG_NEW_COUNT; v++)
        if (tag_slots[v] != UINT32_MAX)
            k[primary_of(tag_slots[v], primaries)] += 2;    /* the tag's metrics, minutes */
    for (int p = 0; p < primaries; p++) {
        smax = s[p] > smax ? s[p] : smax;
        kmax = k[p] > kmax ? k[p] : kmax;
    }
    *sessions_ratio = (double)smax * primaries / USERS;
    {
        long total = 0;

        for (int p = 0; p < primaries; p++)
            total += k[p];
        *keys_ratio = (double)kmax * primaries / (double)total;
    }
    free(s);
    free(k);
}

static void test_primary_ranges(void **state)
{
    (void)state;
    for (int p = 1; p <= 1000; p = p < 10 ? p + 1 : p * 3 / 2) {
        long lo = CK_REDIS_SLOTS, hi = 0, n = 0;
        int cur = 0;

        for (unsigned s = 0; s < CK_REDIS_SLOTS; s++) {
            int q = primary_of(s, p);

            assert_true(q == cur || q == cur + 1);
            if (q != cur) {
                lo = n < lo ? n : lo;
                hi = n > hi ? n : hi;
                n = 0;
                cur = q;
            }
            n++;
        }
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
        assert_int_equal(cur, p - 1);
        assert_true(hi - lo <= 1);
    }
}

/*
 * The tags themselves: each primary holds its share of the tags' slots,
 * whatever the users (3 primaries: 1,024 tags each; 100: 30 or 31).
 */
static void test_tags_per_primary(void **state)
{
    (void)state;
    for (int primaries = 3; primaries <= 100; primaries += 97) {
        int n[100] = { 0 }, max = 0;
        double r;

        for (int v = 0; v < CK_TAG_NEW_COUNT; v++)
            n[primary_of(ck_rs_tag_slot(v), primaries)]++;
        for (int p = 0; p < primaries; p++)
            max = n[p] > max ? n[p] : max;
        r = (double)max * primaries / CK_TAG_NEW_COUNT;
        print_message("%d primaries: max/mean tags %.3f\n", primaries, r);
        assert_true(r <= 1.01);
    }
}

/*
 * 100,000 users (seeded, so every run is the same), one session each.
 * Over 100 primaries each holds about 1,000 sessions, and the users'
 * hashes alone scatter that by about 3% (binomial): the largest of 100 is
 * some 1.08 times the mean, the same as with one tag per slot; other
 * seeds give 1.07 to 1.10.
 */
static void test_balance(void **state)
{
    ck_store *st = *state;
    unsigned *user_slot = calloc(USERS, sizeof(unsigned));
    unsigned *tag_slots = malloc(CK_TAG_NEW_COUNT * sizeof(unsigned));
    uint64_t seed = 14;
    char user[64], key[CK_RS_KEY_MAX];
    ck_skey k;
    double sr, kr;
    size_t len;

    assert_non_null(user_slot);
    assert_non_null(tag_slots);
    for (int v = 0; v < CK_TAG_NEW_COUNT; v++)
        tag_slots[v] = UINT32_MAX;
    for (int u = 0; u < USERS; u++) {
        uint64_t r = splitmix64(&seed);

        snprintf(user, sizeof(user), "user%06d.%016llx@example.org", u, (unsigned long long)r);
        ck_user_tag(user, k.tag);
        assert_false(lower_hex(k.tag[0]));
        for (int j = 0; j < CK_KEY_LEN; j++)
            k.hash[j] = (unsigned char)splitmix64(&seed);
        len = ck_rs_key_session(st, &k, key);
        user_slot[u] = ck_redis_key_slot(key, len);
        tag_slots[ck_tag_index(k.tag) - CK_TAG_OLD_COUNT] = user_slot[u];
    }
    spread(user_slot, tag_slots, 3, &sr, &kr);
    print_message("3 primaries: max/mean sessions %.3f, keys %.3f\n", sr, kr);
    assert_true(sr <= 1.10);
    assert_true(kr <= 1.10);
    spread(user_slot, tag_slots, 100, &sr, &kr);
    print_message("100 primaries: max/mean sessions %.3f, keys %.3f\n", sr, kr);
    assert_true(sr <= 1.10);
    assert_true(kr <= 1.10);
    /* the old tags, for comparison: 64 slots (not asserted) */
    {
        unsigned *old_slot = calloc(USERS, sizeof(unsigned));
        unsigned none[CK_TAG_NEW_COUNT];

        assert_non_null(old_slot);
        for (int v = 0; v < CK_TAG_NEW_COUNT; v++)
            none[v] = UINT32_MAX;
        seed = 14;
        for (int u = 0; u < USERS; u++) {
            uint64_t r = splitmix64(&seed);

            snprintf(user, sizeof(user), "user%06d.%016llx@example.org", u,
                     (unsigned long long)r);
            ck_user_tag_old(user, k.tag);
            for (int j = 0; j < CK_KEY_LEN; j++)
                k.hash[j] = (unsigned char)splitmix64(&seed);
            len = ck_rs_key_session(st, &k, key);
            old_slot[u] = ck_redis_key_slot(key, len);
        }
        spread(old_slot, none, 3, &sr, &kr);
        print_message("old tags, 3 primaries: max/mean sessions %.3f\n", sr);
        spread(old_slot, none, 100, &sr, &kr);
        print_message("old tags, 100 primaries: max/mean sessions %.3f\n", sr);
        free(old_slot);
    }
    free(user_slot);
    free(tag_slots);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_user_tags_known),
        T(test_old_id_key_bytes),
        T(test_new_id_key_bytes),
        T(test_tag_names),
        T(test_table),
        T(test_session_key_parse),
        T(test_primary_ranges),
        T(test_tags_per_primary),
        T(test_balance),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
