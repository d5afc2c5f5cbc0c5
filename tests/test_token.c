/* SPDX-License-Identifier: BSD-3-Clause */
/* Session tokens: compact JWS HS256 with a kid key ring. */
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
#include <jansson.h>
#include <openssl/hmac.h>

#include "ck_encode.h"
#include "ck_token.h"
#include "lib/files.h"

#define SID "0aABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"  /* 2 + 43 */
#define NOW 1800000000LL

/* The test ring {k1 (signs), k0} is written at test time. */
static const char *k1_b64 = "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE"; /* "1" * 32 */

static ck_keyring *load(const char *text, mode_t mode, char *err, size_t errlen)
{
    char *path = tf_tmp("ring", text, mode);
    ck_keyring *ring = NULL;

    ck_keyring_load(path, 1, &ring, err, errlen);
    unlink(path);
    free(path);
    return ring;
}

static ck_keyring *ring1(void)
{
    char text[512], err[256];
    ck_keyring *r;

    snprintf(text, sizeof(text),
             "# test ring\n\nk1 %s\nk0 MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA\n", k1_b64);
    r = load(text, 0600, err, sizeof(err));
    if (!r)
        fail_msg("%s", err);
    return r;
}

static ck_token_status verify(const ck_keyring *r, const char *tok, char sid[CK_SID_LEN])
{
    return ck_token_verify(r, tok, strlen(tok), NOW, sid, NULL, NULL);
}

static char *b64(const char *s)
{
    char *out = malloc(ck_b64url_encoded_len(strlen(s)) + 1);

    ck_b64url_encode((const unsigned char *)s, strlen(s), out);
    return out;
}

/* Builds header.payload.signature by hand, signed with key/keylen (or a dummy). */
static char *forge(const char *header, const char *payload, const unsigned char *key,
                   size_t keylen)
{
    char *h = b64(header), *p = b64(payload), *tok = malloc(4096);
    unsigned char mac[32] = { 0 };
    unsigned int maclen = 32;
    char sig[64];

    snprintf(tok, 4096, "%s.%s", h, p);
    if (key)
        HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)tok, strlen(tok), mac, &maclen);
    ck_b64url_encode(mac, 32, sig);
    strcat(tok, ".");
    strcat(tok, sig);
    free(h);
    free(p);
    return tok;
}

static const unsigned char k1_raw[32] = "11111111111111111111111111111111";

static void test_good_roundtrip(void **state)
{
    ck_keyring *r = ring1();
    char *tok = NULL, sid[CK_SID_LEN];
    int64_t iat, exp;

    (void)state;
    assert_int_equal(ck_token_sign(r, SID, NOW, NOW + 86400, &tok), CK_TOKEN_OK);
    assert_true(ck_token_looks_like(tok));
    assert_int_equal(ck_token_verify(r, tok, strlen(tok), NOW, sid, &iat, &exp), CK_TOKEN_OK);
    assert_string_equal(sid, SID);
    assert_int_equal(iat, NOW);
    assert_int_equal(exp, NOW + 86400);
    assert_string_equal(ck_keyring_signing_kid(r), "k1");
    free(tok);
    ck_keyring_free(r);
}

static void test_forged_by_hand_matches(void **state)
{
    ck_keyring *r = ring1();
    char sid[CK_SID_LEN];
    char *tok = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}",
                      "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}", k1_raw, 32);

    (void)state;
    /* Independently computed HMAC: the format is the documented one. */
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_OK);
    free(tok);
    ck_keyring_free(r);
}

/* Counts the JSON parses (the link wraps json_loadb: tests/pam.mk). */
static int loadb_calls;
json_t *__real_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
    loadb_calls++;
    return __real_json_loadb(buffer, buflen, flags, error);
}

/* Verifies a hand-signed payload; *parsed = 1 when jansson read it. */
static ck_token_status verify_payload(const ck_keyring *r, const char *payload, int *parsed,
                                      int64_t *exp)
{
    char *tok = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", payload, k1_raw, 32);
    char sid[CK_SID_LEN];
    ck_token_status st;
    int before;

    /* the hand-made header is parsed too: count the payload alone */
    before = loadb_calls + 1;
    st = ck_token_verify(r, tok, strlen(tok), NOW, sid, NULL, exp);
    *parsed = loadb_calls > before;
    free(tok);
    return st;
}

/*
 * A keep-alive's token, as we sign it, is read without the JSON parser;
 * any other payload goes to the parser and gets its answer, so the same
 * claims in another order or with a near-miss shape give what they gave.
 */
static void test_claims_fast_path(void **state)
{
    ck_keyring *r = ring1();
    char *tok = NULL, sid[CK_SID_LEN];
    int64_t iat = 0, exp = 0;
    int parsed;

    (void)state;
    assert_int_equal(ck_token_sign(r, SID, NOW, NOW + 86400, &tok), CK_TOKEN_OK);
    loadb_calls = 0;
    assert_int_equal(ck_token_verify(r, tok, strlen(tok), NOW, sid, &iat, &exp), CK_TOKEN_OK);
    assert_string_equal(sid, SID);
    assert_int_equal(iat, NOW);
    assert_int_equal(exp, NOW + 86400);
    memset(sid, 0, sizeof(sid));
    assert_int_equal(ck_token_verify(r, tok, strlen(tok), NOW + 86400, sid, NULL, NULL),
                     CK_TOKEN_EXPIRED);
    assert_string_equal(sid, SID);
    assert_int_equal(loadb_calls, 0);
    free(tok);

    assert_int_equal(verify_payload(r, "{\"exp\":1900000000,\"iat\":1,\"sid\":\"" SID "\"}",
                                    &parsed, &exp), CK_TOKEN_OK);
    assert_int_equal(parsed, 0);
    assert_int_equal(exp, 1900000000);
    assert_int_equal(verify_payload(r, "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}",
                                    &parsed, &exp), CK_TOKEN_OK);
    assert_int_equal(parsed, 1);
    assert_int_equal(exp, 1900000000);
    assert_int_equal(verify_payload(r, "{\"exp\":1900000000,\"iat\":1,\"sid\":\"" SID "\"} ",
                                    &parsed, &exp), CK_TOKEN_OK);
    assert_int_equal(parsed, 1);
    assert_int_equal(verify_payload(r, "{\"exp\":1234567890123456789,\"iat\":1,\"sid\":\""
                                    SID "\"}", &parsed, &exp), CK_TOKEN_OK);
    assert_int_equal(parsed, 1);
    assert_int_equal(exp, 1234567890123456789LL);
    /* what the parser refuses stays refused */
    assert_int_equal(verify_payload(r, "{\"exp\":01900000000,\"iat\":1,\"sid\":\"" SID "\"}",
                                    &parsed, &exp), CK_TOKEN_MALFORMED);
    assert_int_equal(verify_payload(r, "{\"exp\":1900000000,\"iat\":1,\"sid\":\"" SID "x\"}",
                                    &parsed, &exp), CK_TOKEN_MALFORMED);
    assert_int_equal(verify_payload(r, "{\"exp\":1900000000,\"iat\":-1,\"sid\":\"" SID "\"}",
                                    &parsed, &exp), CK_TOKEN_OK);
    assert_int_equal(parsed, 1);
    assert_int_equal(verify_payload(r, "{\"exp\":1900000000,\"iat\":1,\"sid\":\"" SID "\"}x",
                                    &parsed, &exp), CK_TOKEN_MALFORMED);
    assert_int_equal(verify_payload(r, "{\"exp\":1900000000,\"iat\":1,\"sid\":\"" SID "\"",
                                    &parsed, &exp), CK_TOKEN_MALFORMED);
    ck_keyring_free(r);
}

static void test_bad_signature(void **state)
{
    ck_keyring *r = ring1();
    char *tok = NULL, sid[CK_SID_LEN];
    size_t n;

    (void)state;
    assert_int_equal(ck_token_sign(r, SID, NOW, NOW + 60, &tok), CK_TOKEN_OK);
    n = strlen(tok);
    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_BAD_SIGNATURE);
    free(tok);
    /* Signed with a different secret under a known kid. */
    tok = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}",
                "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}",
                (const unsigned char *)"22222222222222222222222222222222", 32);
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_BAD_SIGNATURE);
    free(tok);
    ck_keyring_free(r);
}

static void test_alg_none_and_others(void **state)
{
    ck_keyring *r = ring1();
    char sid[CK_SID_LEN];
    char *tok;
    const char *algs[] = { "none", "HS512", "RS256", "hs256", "" };

    (void)state;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char hdr[128];

        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"k1\"}", algs[i]);
        tok = forge(hdr, "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}", k1_raw, 32);
        assert_int_equal(verify(r, tok, sid), CK_TOKEN_BAD_ALG);
        free(tok);
    }
    /* The classic alg=none token with an empty signature. */
    assert_int_equal(verify(r, "eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0.", sid), CK_TOKEN_BAD_ALG);
    /* No alg at all, and a crit header. */
    tok = forge("{\"kid\":\"k1\"}", "{}", k1_raw, 32);
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_MALFORMED);
    free(tok);
    tok = forge("{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[\"b64\"]}",
                "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}", k1_raw, 32);
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_MALFORMED);
    free(tok);
    ck_keyring_free(r);
}

static void test_wrong_kid_and_rotation(void **state)
{
    ck_keyring *r = ring1(), *other;
    char *tok, *tok2 = NULL, sid[CK_SID_LEN], err[256];

    (void)state;
    tok = forge("{\"alg\":\"HS256\",\"kid\":\"k9\"}",
                "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}", k1_raw, 32);
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_UNKNOWN_KID);
    free(tok);
    tok = forge("{\"alg\":\"HS256\"}", "{\"sid\":\"" SID "\",\"iat\":1,\"exp\":1900000000}",
                k1_raw, 32);
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_UNKNOWN_KID);
    free(tok);
    /* A ring without k1 refuses k1's tokens; a ring that kept k1 accepts them. */
    assert_int_equal(ck_token_sign(r, SID, NOW, NOW + 60, &tok2), CK_TOKEN_OK);
    other = load("k2 MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI\n", 0600, err, sizeof(err));
    assert_non_null(other);
    assert_int_equal(verify(other, tok2, sid), CK_TOKEN_UNKNOWN_KID);
    ck_keyring_free(other);
    other = load("k2 MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI\n"
                 "k1 MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE\n", 0600, err, sizeof(err));
    assert_non_null(other);
    assert_int_equal(verify(other, tok2, sid), CK_TOKEN_OK);
    assert_string_equal(ck_keyring_signing_kid(other), "k2");
    ck_keyring_free(other);
    free(tok2);
    ck_keyring_free(r);
}

static void test_expired(void **state)
{
    ck_keyring *r = ring1();
    char *tok = NULL, sid[CK_SID_LEN];

    (void)state;
    assert_int_equal(ck_token_sign(r, SID, NOW - 100, NOW, &tok), CK_TOKEN_OK);
    memset(sid, 0, sizeof(sid));
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_EXPIRED);
    /* Signed by us and past its deadline: it still names the session. */
    assert_string_equal(sid, SID);
    free(tok);
    assert_int_equal(ck_token_sign(r, SID, NOW - 100, NOW + 1, &tok), CK_TOKEN_OK);
    assert_int_equal(verify(r, tok, sid), CK_TOKEN_OK);
    free(tok);
    ck_keyring_free(r);
}

static void test_truncated_and_malformed(void **state)
{
    ck_keyring *r = ring1();
    char *tok = NULL, sid[CK_SID_LEN];
    size_t n;
    const char *bad[] = {
        "", ".", "..", "...", "a.b.c", "eyJ", "eyJhbGciOiJIUzI1NiJ9..",
        "eyJhbGciOiJIUzI1NiJ9.e30.AAAA.AAAA", "====.====.====",
    };
    char *p;

    (void)state;
    assert_int_equal(ck_token_sign(r, SID, NOW, NOW + 60, &tok), CK_TOKEN_OK);
    n = strlen(tok);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_not_equal(ck_token_verify(r, tok, cut, NOW, sid, NULL, NULL), CK_TOKEN_OK);
    /* A NUL inside the given length is malformed, not a shorter token. */
    p = strdup(tok);
    p[5] = '\0';
    assert_int_equal(ck_token_verify(r, p, n, NOW, sid, NULL, NULL), CK_TOKEN_MALFORMED);
    free(p);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(verify(r, bad[i], sid), CK_TOKEN_OK);
    /* Valid signature over claims that are not ours. */
    p = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "{\"sid\":\"short\",\"iat\":1,\"exp\":2e9}",
              k1_raw, 32);
    assert_int_equal(verify(r, p, sid), CK_TOKEN_MALFORMED);
    free(p);
    p = forge("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "[1,2,3]", k1_raw, 32);
    assert_int_equal(verify(r, p, sid), CK_TOKEN_MALFORMED);
    free(p);
    free(tok);
    ck_keyring_free(r);
}

static void test_huge(void **state)
{
    ck_keyring *r = ring1();
    size_t n = 100 * 1024;
    char *big = malloc(n + 1), sid[CK_SID_LEN];

    (void)state;
    memset(big, 'A', n);
    big[n] = '\0';
    memcpy(big, "eyJ", 3);
    big[n / 3] = '.';
    big[2 * n / 3] = '.';
    assert_int_equal(ck_token_verify(r, big, n, NOW, sid, NULL, NULL), CK_TOKEN_MALFORMED);
    free(big);
    ck_keyring_free(r);
}

static void test_b64url_strict(void **state)
{
    unsigned char out[16];

    (void)state;
    assert_int_equal(ck_b64url_decode("QQ", 2, out, sizeof(out)), 1);
    assert_int_equal(out[0], 'A');
    assert_int_equal(ck_b64url_decode("QR", 2, out, sizeof(out)), -1);    /* stray bits */
    assert_int_equal(ck_b64url_decode("QQ==", 4, out, sizeof(out)), -1);  /* padding */
    assert_int_equal(ck_b64url_decode("Q", 1, out, sizeof(out)), -1);
    assert_int_equal(ck_b64url_decode("a+b/", 4, out, sizeof(out)), -1);  /* not url-safe */
    assert_int_equal(ck_b64url_decode("AAAAAAAA", 8, out, 5), -1);       /* too long */
}

static void test_ring_files(void **state)
{
    char err[256], path[64] = "/tmp/ck-test-gen-XXXXXX", kid[CK_KID_MAX], kid2[CK_KID_MAX];
    ck_keyring *r;
    struct stat sb;
    int fd;

    (void)state;
    /* Group- or world-readable rings are refused. */
    assert_null(load("k1 MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE\n", 0640, err, sizeof(err)));
    assert_non_null(strstr(err, "group or others"));
    assert_null(load("k1 MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE\n", 0604, err, sizeof(err)));
    /* Keys shorter than 32 bytes, bad kids, duplicates, empty rings. */
    assert_null(load("k1 MTExMTExMTExMTEx\n", 0600, err, sizeof(err)));
    assert_non_null(strstr(err, ":1:"));
    assert_null(load("k/1 MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE\n", 0600, err, sizeof(err)));
    assert_null(load("k1 MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE\n"
                     "k1 MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE\n", 0600, err, sizeof(err)));
    assert_null(load("# nothing\n", 0600, err, sizeof(err)));
    assert_null(load("k1 MTEx extra\n", 0600, err, sizeof(err)));
    /* The secret never shows up in an error. */
    assert_null(strstr(err, "MTEx"));
    /* generate: 0600, new key first, old keys kept. */
    fd = mkstemp(path);
    close(fd);
    unlink(path);
    assert_int_equal(ck_keyring_generate(path, kid, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(ck_keyring_generate(path, kid2, err, sizeof(err)), 0);
    assert_int_equal(ck_keyring_load(path, 1, &r, err, sizeof(err)), 0);
    assert_int_equal(ck_keyring_count(r), 2);
    assert_string_equal(ck_keyring_signing_kid(r), kid2);
    assert_string_not_equal(kid, kid2);
    ck_keyring_free(r);
    unlink(path);
    strcat(path, ".lock");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_roundtrip),
        cmocka_unit_test(test_forged_by_hand_matches),
        cmocka_unit_test(test_claims_fast_path),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_alg_none_and_others),
        cmocka_unit_test(test_wrong_kid_and_rotation),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_truncated_and_malformed),
        cmocka_unit_test(test_huge),
        cmocka_unit_test(test_b64url_strict),
        cmocka_unit_test(test_ring_files),
    };

    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
