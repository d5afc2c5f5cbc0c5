/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sasl_parse.c - the OAUTHBEARER message parser and writers of the
 * SASL plugin (sasl/parse.c): every rule of RFC 7628's client response,
 * the limits, and what the client side writes parsing back the same.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oauthbearer.h"

#define TOK "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJ4In0.c2ln"

static ck_ob_status parse_s(const char *s, ck_ob_msg *m)
{
    return ck_ob_parse(s, strlen(s), m);
}

static void test_minimal(void **state)
{
    ck_ob_msg m;

    (void)state;
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer " TOK "\x01\x01", &m), CK_OB_OK);
    assert_int_equal(m.cbflag, 'n');
    assert_false(m.has_authzid);
    assert_false(m.has_host);
    assert_false(m.has_port);
    assert_string_equal(m.token, TOK);
    assert_int_equal(m.token_len, strlen(TOK));
}

static void test_full(void **state)
{
    ck_ob_msg m;

    (void)state;
    assert_int_equal(parse_s("y,a=user@example.com,\x01" "host=server.example.com\x01"
                             "port=143\x01" "auth=bearer  " TOK "==\x01\x01", &m), CK_OB_OK);
    assert_int_equal(m.cbflag, 'y');
    assert_true(m.has_authzid);
    assert_string_equal(m.authzid, "user@example.com");
    assert_string_equal(m.host, "server.example.com");
    assert_int_equal(m.port, 143);
    assert_string_equal(m.token, TOK "==");
}

static void test_saslname_escapes(void **state)
{
    ck_ob_msg m;

    (void)state;
    assert_int_equal(parse_s("n,a=a=2Cb=3Dc\xc3\xa9,\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_OK);
    assert_string_equal(m.authzid, "a,b=c\xc3\xa9");
    /* '=' only as =2C or =3D; lower case hex is not the escape */
    assert_int_equal(parse_s("n,a=a=2c,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=a=,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=a=41,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_AUTHZID);
    /* not UTF-8, overlong, control characters */
    assert_int_equal(parse_s("n,a=\xff,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=\xc0\xaf,\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=\xed\xa0\x80,\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=a\tb,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_AUTHZID);
    assert_int_equal(parse_s("n,a=a\x01" "b,\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_AUTHZID);
}

static void test_gs2_header(void **state)
{
    ck_ob_msg m;

    (void)state;
    assert_int_equal(parse_s("p=tls-unique,,\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_CHANNEL_BINDING);
    assert_int_equal(parse_s("x,,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("n\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("n,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("n,,auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("n,b=x,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("n,a=x\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("N,,\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_GS2);
    assert_int_equal(parse_s("n,,", &m), CK_OB_BAD_GS2);
}

static void test_pairs(void **state)
{
    ck_ob_msg m;

    (void)state;
    assert_int_equal(parse_s("n,,\x01\x01", &m), CK_OB_NO_AUTH);
    assert_int_equal(parse_s("n,,\x01" "host=h\x01\x01", &m), CK_OB_NO_AUTH);
    assert_int_equal(parse_s("n,,\x01" "Auth=Bearer x\x01\x01", &m), CK_OB_NO_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer x\x01" "auth=Bearer y\x01\x01", &m),
                     CK_OB_DUP_KEY);
    assert_int_equal(parse_s("n,,\x01" "host=a\x01" "host=b\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_DUP_KEY);
    /* unknown keys are ignored; a key is letters, followed by '=' */
    assert_int_equal(parse_s("n,,\x01" "mfa=otp 1\x01" "auth=Bearer x\x01\x01", &m), CK_OB_OK);
    assert_int_equal(parse_s("n,,\x01" "k1=v\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_PAIR);
    assert_int_equal(parse_s("n,,\x01" "=v\x01" "auth=Bearer x\x01\x01", &m), CK_OB_BAD_PAIR);
    assert_int_equal(parse_s("n,,\x01" "novalue\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PAIR);
    assert_int_equal(parse_s("n,,\x01" "k=\x7f\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PAIR);
    assert_int_equal(parse_s("n,,\x01" "k=\xc3\xa9\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PAIR);
    /* CR, LF, HTAB and SP are value bytes */
    assert_int_equal(parse_s("n,,\x01" "k=a\r\n\t b\x01" "auth=Bearer x\x01\x01", &m), CK_OB_OK);
}

static void test_auth_value(void **state)
{
    ck_ob_msg m;
    char buf[2000];

    (void)state;
    assert_int_equal(parse_s("n,,\x01" "auth=Basic x\x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer\x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer \x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearerx\x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer a b\x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer a=b\x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer ==\x01\x01", &m), CK_OB_BAD_AUTH);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer x \x01\x01", &m), CK_OB_BAD_AUTH);
    /* the longest token, and one byte more */
    memcpy(buf, "n,,\x01" "auth=Bearer ", 16);
    memset(buf + 16, 'a', CK_OB_TOKEN_MAX - 1);
    memcpy(buf + 16 + CK_OB_TOKEN_MAX - 1, "\x01\x01", 3);
    assert_int_equal(parse_s(buf, &m), CK_OB_OK);
    assert_int_equal(m.token_len, CK_OB_TOKEN_MAX - 1);
    memset(buf + 16, 'a', CK_OB_TOKEN_MAX);
    memcpy(buf + 16 + CK_OB_TOKEN_MAX, "\x01\x01", 3);
    assert_int_equal(parse_s(buf, &m), CK_OB_TOO_LONG);
    assert_int_equal(m.token_len, 0);
    assert_int_equal(m.token[0], '\0');
}

static void test_host_port(void **state)
{
    ck_ob_msg m;
    char buf[600];

    (void)state;
    assert_int_equal(parse_s("n,,\x01" "port=65535\x01" "auth=Bearer x\x01\x01", &m), CK_OB_OK);
    assert_int_equal(m.port, 65535);
    assert_int_equal(parse_s("n,,\x01" "port=65536\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PORT);
    assert_int_equal(parse_s("n,,\x01" "port=0\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PORT);
    assert_int_equal(parse_s("n,,\x01" "port=000143\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PORT);
    assert_int_equal(parse_s("n,,\x01" "port=\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PORT);
    assert_int_equal(parse_s("n,,\x01" "port=-1\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_PORT);
    assert_int_equal(parse_s("n,,\x01" "host=\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_HOST);
    assert_int_equal(parse_s("n,,\x01" "host=a b\x01" "auth=Bearer x\x01\x01", &m),
                     CK_OB_BAD_HOST);
    memcpy(buf, "n,,\x01" "host=", 9);
    memset(buf + 9, 'h', CK_OB_HOST_MAX);
    memcpy(buf + 9 + CK_OB_HOST_MAX, "\x01" "auth=Bearer x\x01\x01", 17);
    assert_int_equal(parse_s(buf, &m), CK_OB_TOO_LONG);
}

static void test_framing(void **state)
{
    const char ok[] = "n,,\x01" "auth=Bearer x\x01\x01";
    ck_ob_msg m;
    char *big;

    (void)state;
    assert_int_equal(ck_ob_parse("", 0, &m), CK_OB_EMPTY);
    assert_int_equal(ck_ob_parse("\x01", 1, &m), CK_OB_DUMMY);
    /* exactly one %x01%x01 at the end: not missing, not doubled, nothing after */
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer x\x01", &m), CK_OB_BAD_END);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer x", &m), CK_OB_BAD_END);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer x\x01\x01\x01", &m), CK_OB_BAD_END);
    assert_int_equal(parse_s("n,,\x01" "auth=Bearer x\x01\x01" "junk", &m), CK_OB_BAD_END);
    /* a NUL anywhere, even where the length says there is more */
    assert_int_equal(ck_ob_parse(ok, sizeof(ok), &m), CK_OB_NUL);
    assert_int_equal(ck_ob_parse("n,,\x01" "auth=Bearer x\0y\x01\x01", 20, &m), CK_OB_NUL);
    /* size limits: the whole message, the number of pairs */
    big = malloc(64 * 1024);
    assert_non_null(big);
    memset(big, 'a', 64 * 1024);
    assert_int_equal(ck_ob_parse(big, 64 * 1024, &m), CK_OB_TOO_LONG);
    free(big);
    assert_int_equal(parse_s("n,,\x01" "a=1\x01" "b=1\x01" "c=1\x01" "d=1\x01" "e=1\x01"
                             "f=1\x01" "g=1\x01" "h=1\x01" "i=1\x01" "j=1\x01" "k=1\x01"
                             "l=1\x01" "m=1\x01" "o=1\x01" "p=1\x01" "q=1\x01"
                             "auth=Bearer x\x01\x01", &m), CK_OB_TOO_LONG);
}

static void test_build_roundtrip(void **state)
{
    char buf[CK_OB_MSG_MAX];
    ck_ob_msg m;
    size_t n;

    (void)state;
    n = ck_ob_build(buf, sizeof(buf), "a,b=c", "ldap.example.org", 389, TOK);
    assert_true(n > 0);
    assert_memory_equal(buf, "n,a=a=2Cb=3Dc,\x01" "host=ldap.example.org\x01" "port=389\x01"
                        "auth=Bearer " TOK "\x01\x01", n);
    assert_int_equal(ck_ob_parse(buf, n, &m), CK_OB_OK);
    assert_string_equal(m.authzid, "a,b=c");
    assert_string_equal(m.host, "ldap.example.org");
    assert_int_equal(m.port, 389);
    assert_string_equal(m.token, TOK);
    n = ck_ob_build(buf, sizeof(buf), NULL, NULL, 0, TOK);
    assert_memory_equal(buf, "n,,\x01" "auth=Bearer " TOK "\x01\x01", n);
    /* what cannot be sent is refused, and the buffer holds no token */
    assert_int_equal(ck_ob_build(buf, sizeof(buf), NULL, NULL, 0, "not a token"), 0);
    assert_int_equal(ck_ob_build(buf, sizeof(buf), "a\nb", NULL, 0, TOK), 0);
    assert_int_equal(ck_ob_build(buf, sizeof(buf), NULL, "a b", 0, TOK), 0);
    assert_int_equal(ck_ob_build(buf, 20, NULL, NULL, 0, TOK), 0);
    assert_null(memchr(buf, 'e', 20));
}

static void test_error_json(void **state)
{
    char buf[512];
    size_t n;

    (void)state;
    n = ck_ob_error_json(buf, sizeof(buf), "checkup", NULL);
    assert_string_equal(buf, "{\"status\":\"invalid_token\",\"scope\":\"checkup\"}");
    assert_int_equal(n, strlen(buf));
    ck_ob_error_json(buf, sizeof(buf), "checkup", "https://login.example.org/");
    assert_string_equal(buf, "{\"status\":\"invalid_token\",\"scope\":\"checkup\","
                        "\"openid-configuration\":"
                        "\"https://login.example.org/.well-known/openid-configuration\"}");
    ck_ob_error_json(buf, sizeof(buf), "a\"b\\c\n", NULL);
    assert_string_equal(buf, "{\"status\":\"invalid_token\",\"scope\":\"a\\\"b\\\\c\\u000a\"}");
    assert_int_equal(ck_ob_error_json(buf, 20, "checkup", NULL), 0);
}

static void test_status_words(void **state)
{
    (void)state;
    for (int s = CK_OB_OK; s <= CK_OB_DUMMY; s++)
        assert_string_not_equal(ck_ob_status_word((ck_ob_status)s), "unknown");
    assert_string_equal(ck_ob_status_word(CK_OB_BAD_GS2), "bad_gs2_header");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_saslname_escapes),
        cmocka_unit_test(test_gs2_header),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_auth_value),
        cmocka_unit_test(test_host_port),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_build_roundtrip),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_status_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
