/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_encode.c - the one encoding module: base64url (RFC 4648 test
 * vectors, strictness), hex and percent-encoding.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ck_encode.h"

static void test_b64url_vectors(void **state)
{
    /* RFC 4648 section 10, in the url-safe alphabet without padding. */
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    char enc[16];
    unsigned char dec[16];

    (void)state;
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        size_t n = strlen(in[i]);

        assert_int_equal(ck_b64url_encoded_len(n), strlen(out[i]));
        ck_b64url_encode((const unsigned char *)in[i], n, enc);
        assert_string_equal(enc, out[i]);
        assert_int_equal(ck_b64url_decode(enc, strlen(enc), dec, sizeof(dec)), (long)n);
        assert_memory_equal(dec, in[i], n);
    }
}

static void test_b64url_alphabet(void **state)
{
    static const unsigned char raw[] = { 0xfb, 0xff, 0xbf };
    char enc[8], *dup;

    (void)state;
    ck_b64url_encode(raw, sizeof(raw), enc);
    assert_string_equal(enc, "-_-_");
    dup = ck_b64url_encode_dup(raw, sizeof(raw));
    assert_non_null(dup);
    assert_string_equal(dup, "-_-_");
    free(dup);
    assert_true(ck_b64url_char('-') && ck_b64url_char('_') && ck_b64url_char('z'));
    assert_false(ck_b64url_char('+') || ck_b64url_char('/') || ck_b64url_char('=') ||
                 ck_b64url_char(0x80) || ck_b64url_char(-1));
    assert_true(ck_b64url_shape_ok("Zm9v", 4));
    assert_false(ck_b64url_shape_ok("Zm9vY", 5));      /* 1 mod 4 */
    assert_false(ck_b64url_shape_ok("Zm+v", 4));
}

static void test_b64url_random(void **state)
{
    char a[44], b[44], small[43];

    (void)state;
    assert_int_equal(ck_b64url_random(32, a, sizeof(a)), 0);
    assert_int_equal(ck_b64url_random(32, b, sizeof(b)), 0);
    assert_int_equal(strlen(a), 43);
    assert_true(ck_b64url_shape_ok(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_int_equal(ck_b64url_random(32, small, sizeof(small)), -1);  /* no room for NUL */
    assert_int_equal(ck_b64url_random(65, a, sizeof(a)), -1);
}

static void test_hex(void **state)
{
    static const unsigned char raw[] = { 0x00, 0x9a, 0xff, 0x10 };
    unsigned char back[4];
    char hex[9];

    (void)state;
    ck_hex_encode(raw, sizeof(raw), hex);
    assert_string_equal(hex, "009aff10");
    assert_int_equal(ck_hex_decode(hex, 4, back), 0);
    assert_memory_equal(back, raw, 4);
    assert_int_equal(ck_hex_decode("009AFF10", 4, back), -1);     /* one spelling */
    assert_int_equal(ck_hex_decode("0g", 1, back), -1);
    assert_int_equal(ck_hex_digit('A'), 10);
    assert_int_equal(ck_hex_digit('f'), 15);
    assert_int_equal(ck_hex_digit('g'), -1);
}

static void test_pct(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(ck_pct_encoded_len("a b/~"), 9);
    assert_int_equal(ck_pct_encode("a b/~", out, sizeof(out)), 0);
    assert_string_equal(out, "a%20b%2F~");
    assert_int_equal(ck_pct_encode("\xc3\xa9", out, sizeof(out)), 0);
    assert_string_equal(out, "%C3%A9");
    assert_int_equal(ck_pct_encode("a b", out, 5), -1);     /* needs 6 with the NUL */
    assert_int_equal(ck_pct_encode("a b", out, 6), 0);
    assert_int_equal(ck_pct_encode("", out, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_vectors),
        cmocka_unit_test(test_b64url_alphabet),
        cmocka_unit_test(test_b64url_random),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_pct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
