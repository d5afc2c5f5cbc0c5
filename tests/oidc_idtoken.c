/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ID token validation: every rejection of issue 4 that concerns tokens
 * and key sets, and the good cases (each enc with each ECDH-ES key wrap;
 * ES256, RS256, PS256). All keys are generated when the test runs.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ck_idtoken.h"
#include "jose_internal.h"
#include "oidc_jose_util.h"

struct fx {
    char *dir;
    cjose_jwk_t *es, *es2, *rsa, *rsa_small, *p384;
    ck_jwks *jwks;       /* es ("k-es"), rsa ("k-rsa"), p384 ("k-384") */
    ck_rp_keys *rp;      /* two enc keys (rollover) and one sig key */
    EVP_PKEY *enc[2];
    char *enc_kid[2];
};

static struct fx F;

static int setup(void **state)
{
    char err[256];
    const char *sig[1], *enc[2];
    char *ps[3];
    cjose_jwk_t *keys[4];
    char *doc;
    int i;

    (void)state;
    F.dir = t_tmpdir();
    F.es = t_ec_key("k-es", CJOSE_JWK_EC_P_256);
    F.es2 = t_ec_key("k-es", CJOSE_JWK_EC_P_256); /* same kid, other key */
    F.rsa = t_rsa_key("k-rsa", 2048);
    F.rsa_small = t_rsa_key("k-small", 1024);
    F.p384 = t_ec_key("k-384", CJOSE_JWK_EC_P_384);
    keys[0] = F.es;
    keys[1] = F.rsa;
    keys[2] = F.p384;
    keys[3] = NULL;
    doc = t_jwks(keys, 0);
    if (ck_jwks_parse(doc, strlen(doc), &F.jwks, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    free(doc);
    ps[0] = t_path(F.dir, "sig.pem");
    ps[1] = t_path(F.dir, "enc1.pem");
    ps[2] = t_path(F.dir, "enc2.pem");
    for (i = 0; i < 3; i++) {
        if (ck_rp_key_generate(ps[i], err, sizeof(err)) != 0)
            fail_msg("%s", err);
    }
    sig[0] = ps[0];
    enc[0] = ps[1];
    enc[1] = ps[2];
    if (ck_rp_keys_load(sig, 1, enc, 2, &F.rp, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    for (i = 0; i < 2; i++) {
        F.enc[i] = t_read_pem(enc[i]);
        F.enc_kid[i] = t_thumbprint(F.enc[i]);
    }
    for (i = 0; i < 3; i++)
        free(ps[i]);
    return 0;
}

static int teardown(void **state)
{
    int i;

    (void)state;
    ck_jwks_free(F.jwks);
    ck_rp_keys_free(F.rp);
    cjose_jwk_release(F.es);
    cjose_jwk_release(F.es2);
    cjose_jwk_release(F.rsa);
    cjose_jwk_release(F.rsa_small);
    cjose_jwk_release(F.p384);
    for (i = 0; i < 2; i++) {
        EVP_PKEY_free(F.enc[i]);
        free(F.enc_kid[i]);
    }
    t_rmdir(F.dir);
    return 0;
}

static ck_idtoken_policy policy(void)
{
    ck_idtoken_policy p;

    memset(&p, 0, sizeof(p));
    p.issuer = T_ISS;
    p.client_id = T_CLIENT;
    p.nonce = T_NONCE;
    p.now = T_NOW;
    return p;
}

/* Verifies with the fixture keys; checks the reason word on failure and
 * that no claim value leaks into the reason. */
static ck_idt_status run_p(const char *tok, const ck_idtoken_policy *p,
                           const ck_jwks *jwks, const char *want_reason)
{
    char reason[256];
    json_t *claims = NULL;
    ck_idt_status st;

    st = ck_idtoken_verify(tok, strlen(tok), p, jwks, F.rp, &claims, reason,
                           sizeof(reason));
    if (st == CK_IDT_OK) {
        assert_non_null(claims);
        json_decref(claims);
        if (want_reason != NULL)
            fail_msg("accepted, wanted %s", want_reason);
        return st;
    }
    assert_null(claims);
    printf("# rejected: %s\n", reason);
    if (want_reason == NULL)
        fail_msg("rejected: %s", reason);
    if (strncmp(reason, want_reason, strlen(want_reason)) != 0)
        fail_msg("reason \"%s\", wanted \"%s\"", reason, want_reason);
    assert_null(strstr(reason, T_NONCE));
    assert_null(strstr(reason, "user-0001"));
    return st;
}

static ck_idt_status run(const char *tok, const char *want_reason)
{
    ck_idtoken_policy p = policy();

    return run_p(tok, &p, F.jwks, want_reason);
}

/* A signed token (ES256, kid k-es) over claims; claims are consumed. */
static char *es(json_t *claims)
{
    char *t = t_jws(F.es, "ES256", "k-es", claims);

    json_decref(claims);
    return t;
}

static void expect_claims(json_t *c, const char *reason)
{
    char *t = es(c);

    run(t, reason);
    free(t);
}

static void test_good_algs(void **state)
{
    json_t *c = t_claims();
    char *t;

    (void)state;
    t = t_jws(F.es, "ES256", "k-es", c);
    run(t, NULL);
    free(t);
    t = t_jws(F.rsa, "RS256", "k-rsa", c);
    run(t, NULL);
    free(t);
    t = t_jws(F.rsa, "PS256", "k-rsa", c);
    run(t, NULL);
    free(t);
    json_decref(c);
}

static void test_good_jwe_matrix(void **state)
{
    static const char *const kw[] = { "ECDH-ES+A128KW", "ECDH-ES+A192KW",
                                      "ECDH-ES+A256KW" };
    static const char *const enc[] = { "A128GCM", "A192GCM", "A256GCM",
                                       "A128CBC-HS256", "A192CBC-HS384",
                                       "A256CBC-HS512" };
    json_t *c = t_claims();
    char *inner = t_jws(F.es, "ES256", "k-es", c);
    ck_idtoken_policy p = policy();
    size_t i, j;
    int n = 0;

    (void)state;
    p.require_encryption = 1;
    for (i = 0; i < 3; i++) {
        for (j = 0; j < 6; j++) {
            /* by kid, each of the two rollover keys */
            char *t = t_jwe(inner, kw[i], enc[j], F.enc[(i + j) % 2],
                            F.enc_kid[(i + j) % 2], NULL);

            run_p(t, &p, F.jwks, NULL);
            free(t);
            n++;
        }
    }
    printf("# %d JWE alg/enc combinations accepted\n", n);
    json_decref(c);
    free(inner);
}

static void test_jwe_without_kid_tries_each_key(void **state)
{
    json_t *c = t_claims();
    char *inner = t_jws(F.es, "ES256", "k-es", c);
    char *t;

    (void)state;
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[1], NULL, NULL);
    run(t, NULL);
    free(t);
    json_decref(c);
    free(inner);
}

static void test_jwe_rejections(void **state)
{
    json_t *c = t_claims();
    char *inner = t_jws(F.es, "ES256", "k-es", c);
    EVP_PKEY *stranger = EVP_EC_gen("P-256");
    char *t;
    size_t n;

    (void)state;
    /* encrypted to somebody else's key */
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", stranger, NULL, NULL);
    run(t, "decrypt_failed");
    free(t);
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", stranger, "not-ours", NULL);
    run(t, "unknown_enc_kid");
    free(t);
    /* tampered tag (last character) and ciphertext */
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256CBC-HS512", F.enc[0], F.enc_kid[0], NULL);
    n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    run(t, "decrypt_failed");
    free(t);
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0], NULL);
    {
        char *ch = strrchr(t, '.') - 3; /* a full 6-bit digit of the ciphertext */

        *ch = *ch == 'A' ? 'B' : 'A';
    }
    run(t, "decrypt_failed");
    free(t);
    /* unsupported algorithms and header members */
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0], "{\"zip\":\"DEF\"}");
    run(t, "bad_enc_alg");
    free(t);
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0], "{\"alg\":\"RSA-OAEP\"}");
    run(t, "bad_enc_alg");
    free(t);
    /* an epk that is not on the curve */
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0],
              "{\"epk\":{\"kty\":\"EC\",\"crv\":\"P-256\","
              "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
              "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}");
    run(t, "malformed");
    free(t);
    /* coordinates of (0,0) and of x = y = 2^256 - 1 (not field elements) */
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0],
              "{\"epk\":{\"kty\":\"EC\",\"crv\":\"P-256\","
              "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
              "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}");
    run(t, "malformed");
    free(t);
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0],
              "{\"epk\":{\"kty\":\"EC\",\"crv\":\"P-256\","
              "\"x\":\"__________________________________________8\","
              "\"y\":\"__________________________________________8\"}}");
    run(t, "malformed");
    free(t);
    /* a P-384 epk against our P-256 keys */
    t = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0],
              "{\"epk\":{\"kty\":\"EC\",\"crv\":\"P-384\","
              "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
              "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}");
    run(t, "malformed");
    free(t);
    /* the JWE content must be a JWS */
    t = t_jwe("{\"sub\":\"x\"}", "ECDH-ES+A256KW", "A256GCM", F.enc[0], F.enc_kid[0], NULL);
    run(t, "malformed");
    free(t);
    EVP_PKEY_free(stranger);
    json_decref(c);
    free(inner);
}

/* The library's own encryptor (bench, fuzz) yields what the decryptor and
 * the test's independent encryptor agree on. */
static void test_library_encrypt_round_trip(void **state)
{
    static const char *const enc[] = { "A128GCM", "A256GCM", "A128CBC-HS256",
                                       "A256CBC-HS512" };
    json_t *c = t_claims();
    char *inner = t_jws(F.es, "ES256", "k-es", c), *t = NULL;
    const char *kid = NULL;
    EVP_PKEY *pk = ck_rp_enc_key(F.rp, 1, &kid);
    size_t i;

    (void)state;
    assert_non_null(pk);
    assert_string_equal(kid, F.enc_kid[1]);
    assert_null(ck_rp_enc_key(F.rp, 2, NULL));
    for (i = 0; i < 4; i++) {
        assert_int_equal(ck_jwe_encrypt(pk, kid, "ECDH-ES+A192KW", enc[i],
                                        (const uint8_t *)inner, strlen(inner), &t), 0);
        run(t, NULL);
        free(t);
    }
    assert_int_equal(ck_jwe_encrypt(pk, kid, "RSA-OAEP", "A256GCM",
                                    (const uint8_t *)inner, strlen(inner), &t), -1);
    assert_null(t);
    json_decref(c);
    free(inner);
}

static void test_require_encryption(void **state)
{
    ck_idtoken_policy p = policy();
    char *t = es(t_claims());

    (void)state;
    p.require_encryption = 1;
    run_p(t, &p, F.jwks, "not_encrypted");
    free(t);
}

/* header.payload of one token with the signature of another. */
static char *splice(const char *body_from, const char *sig_from)
{
    const char *b = strrchr(body_from, '.'), *sg = strrchr(sig_from, '.');
    size_t nb = (size_t)(b - body_from), n = nb + strlen(sg) + 1;
    char *out = malloc(n);

    memcpy(out, body_from, nb);
    strcpy(out + nb, sg);
    return out;
}

static void test_bad_signature(void **state)
{
    json_t *c = t_claims();
    char *other = t_jws(F.es2, "ES256", "k-es", c); /* right kid, wrong key */
    char *good = t_jws(F.es, "ES256", "k-es", c);
    char *forged, *mix;

    (void)state;
    run(other, "bad_signature");
    /* payload changed under a valid signature */
    json_object_set_new(c, "sub", json_string("admin"));
    forged = t_jws(F.es2, "ES256", "k-es", c);
    mix = splice(forged, good);
    run(mix, "bad_signature");
    free(mix);
    free(forged);
    free(other);
    free(good);
    json_decref(c);
}

static void test_claim_rejections(void **state)
{
    json_t *c;

    (void)state;
    c = t_claims();
    json_object_set_new(c, "iss", json_string("https://evil.example.test"));
    expect_claims(c, "bad_iss");
    c = t_claims();
    json_object_del(c, "iss");
    expect_claims(c, "bad_iss");
    c = t_claims();
    json_object_set_new(c, "aud", json_string("someone-else"));
    expect_claims(c, "bad_aud");
    c = t_claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", "someone-else", "other"));
    expect_claims(c, "bad_aud");
    c = t_claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", T_CLIENT, "other"));
    expect_claims(c, "no_azp");
    c = t_claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", T_CLIENT, "other"));
    json_object_set_new(c, "azp", json_string("other"));
    expect_claims(c, "bad_azp");
    c = t_claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", T_CLIENT, "other"));
    json_object_set_new(c, "azp", json_string(T_CLIENT));
    expect_claims(c, NULL);
    c = t_claims();
    json_object_set_new(c, "aud", json_pack("[s]", T_CLIENT));
    expect_claims(c, NULL);
    c = t_claims();
    json_object_del(c, "sub");
    expect_claims(c, "no_sub");
    c = t_claims();
    json_object_set_new(c, "sub", json_string(""));
    expect_claims(c, "no_sub");
    c = t_claims();
    json_object_del(c, "iat");
    expect_claims(c, "no_iat");
    c = t_claims();
    json_object_del(c, "exp");
    expect_claims(c, "no_exp");
    c = t_claims();
    json_object_set_new(c, "exp", json_integer(T_NOW - 61));
    expect_claims(c, "expired");
    c = t_claims(); /* within the default 60 s skew */
    json_object_set_new(c, "exp", json_integer(T_NOW - 59));
    expect_claims(c, NULL);
    c = t_claims();
    json_object_set_new(c, "iat", json_integer(T_NOW + 61));
    expect_claims(c, "bad_iat");
    c = t_claims(); /* fractional times, as some providers send */
    json_object_set_new(c, "iat", json_real((double)T_NOW + 0.25));
    expect_claims(c, NULL);
    c = t_claims();
    json_object_set_new(c, "nonce", json_string(T_NONCE "x"));
    expect_claims(c, "bad_nonce");
    c = t_claims();
    json_object_set_new(c, "nonce", json_string("n-0S6_WzA2Mj-ABCDEFGHIJKLMNOQ"));
    expect_claims(c, "bad_nonce");
    c = t_claims();
    json_object_del(c, "nonce");
    expect_claims(c, "no_nonce");
    c = t_claims();
    json_object_set_new(c, "nbf", json_integer(T_NOW + 3600));
    expect_claims(c, "bad_nbf");
}

static void test_skew_policy(void **state)
{
    ck_idtoken_policy p = policy();
    json_t *c = t_claims();
    char *t;

    (void)state;
    json_object_set_new(c, "exp", json_integer(T_NOW - 30));
    t = es(c);
    p.skew = -1; /* none */
    run_p(t, &p, F.jwks, "expired");
    p.skew = 10;
    run_p(t, &p, F.jwks, "expired");
    p.skew = 31;
    run_p(t, &p, F.jwks, NULL);
    free(t);
}

static void test_alg_rejections(void **state)
{
    char *pub, *t;
    const char *claims = "{\"iss\":\"" T_ISS "\",\"aud\":\"" T_CLIENT
                         "\",\"sub\":\"user-0001\",\"nonce\":\"" T_NONCE
                         "\",\"iat\":1800000000,\"exp\":1800000600}";
    cjose_jwk_t *oct;
    cjose_err err;
    ck_idtoken_policy p = policy();
    static const char *const only_es[] = { "ES256", NULL };
    json_t *c = t_claims();

    (void)state;
    t = t_jws_raw("{\"alg\":\"none\"}", claims, NULL, 0);
    run(t, "bad_alg");
    free(t);
    t = t_jws_raw("{\"alg\":\"none\",\"kid\":\"k-es\"}", claims,
                  (const uint8_t *)"x", 1);
    run(t, "bad_alg");
    free(t);
    /* HS256 keyed with the provider's public key, the classic confusion */
    pub = cjose_jwk_to_json(F.es, false, &err);
    oct = cjose_jwk_create_oct_spec((const uint8_t *)pub, strlen(pub), &err);
    assert_non_null(oct);
    t = t_jws(oct, "HS256", "k-es", c);
    run(t, "bad_alg");
    free(t);
    cjose_jwk_release(oct);
    free(pub);
    /* RS256 is allowed by default, not under an ES256-only policy */
    t = t_jws(F.rsa, "RS256", "k-rsa", c);
    p.algs = only_es;
    run_p(t, &p, F.jwks, "bad_alg");
    free(t);
    /* kty/crv must match alg: ES256 header naming an RSA or P-384 key */
    t = t_jws_raw("{\"alg\":\"ES256\",\"kid\":\"k-rsa\"}", claims,
                  (const uint8_t *)"0123456789012345678901234567890123456789"
                                   "012345678901234567890123", 64);
    run(t, "bad_key");
    free(t);
    t = t_jws_raw("{\"alg\":\"ES256\",\"kid\":\"k-384\"}", claims,
                  (const uint8_t *)"0123456789012345678901234567890123456789"
                                   "012345678901234567890123", 64);
    run(t, "bad_key");
    free(t);
    t = t_jws_raw("{\"alg\":\"ES256\",\"kid\":\"k-es\",\"typ\":\"logout+jwt\"}",
                  claims, (const uint8_t *)"x", 1);
    run(t, "bad_typ");
    free(t);
    t = t_jws_raw("{\"alg\":\"ES256\",\"kid\":\"k-es\",\"crit\":[\"exp\"],\"exp\":1}",
                  claims, (const uint8_t *)"x", 1);
    run(t, "bad_alg");
    free(t);
    json_decref(c);
}

static void test_rsa_too_small(void **state)
{
    cjose_jwk_t *keys[2] = { F.rsa_small, NULL };
    char *doc = t_jwks(keys, 0), *t, err[256];
    ck_jwks *small = NULL;
    ck_idtoken_policy p = policy();
    json_t *c = t_claims();

    (void)state;
    assert_int_equal(ck_jwks_parse(doc, strlen(doc), &small, err, sizeof(err)), 0);
    t = t_jws(F.rsa_small, "RS256", "k-small", c);
    run_p(t, &p, small, "bad_key");
    free(t);
    free(doc);
    ck_jwks_free(small);
    json_decref(c);
}

static void test_unknown_kid_then_rotation(void **state)
{
    cjose_jwk_t *rotated = t_ec_key("k-new", CJOSE_JWK_EC_P_256);
    cjose_jwk_t *keys[3] = { F.es, rotated, NULL };
    char *doc = t_jwks(keys, 0), *t, err[256];
    ck_jwks *refetched = NULL;
    ck_idtoken_policy p = policy();
    json_t *c = t_claims();

    (void)state;
    t = t_jws(rotated, "ES256", "k-new", c);
    assert_int_equal(run(t, "unknown_kid"), CK_IDT_UNKNOWN_KID);
    assert_false(ck_jwks_has_kid(F.jwks, "k-new"));
    /* the caller refetches the JWKS once: the rotated key is in it now */
    assert_int_equal(ck_jwks_parse(doc, strlen(doc), &refetched, err, sizeof(err)), 0);
    assert_true(ck_jwks_has_kid(refetched, "k-new"));
    assert_int_equal(run_p(t, &p, refetched, NULL), CK_IDT_OK);
    free(t);
    free(doc);
    ck_jwks_free(refetched);
    cjose_jwk_release(rotated);
    json_decref(c);
}

static void test_jwks_unknown_keys_ignored(void **state)
{
    char *pub, doc[8192], err[256], *t;
    cjose_err cerr;
    ck_jwks *k = NULL;
    ck_idtoken_policy p = policy();
    json_t *c = t_claims();

    (void)state;
    pub = cjose_jwk_to_json(F.es, false, &cerr);
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
             "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"broken\",\"x\":\"!!\",\"y\":\"??\"},"
             "{\"kty\":\"RSA\",\"kid\":\"nomod\"},"
             "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"kid\":\"k1\",\"x\":\"AA\",\"y\":\"AA\"},"
             "{\"kid\":\"nokty\"}, 42, \"text\", %s]}", pub);
    free(pub);
    assert_int_equal(ck_jwks_parse(doc, strlen(doc), &k, err, sizeof(err)), 0);
    assert_int_equal(ck_jwks_count(k), 1);
    assert_true(ck_jwks_has_kid(k, "k-es"));
    assert_false(ck_jwks_has_kid(k, "hmac"));
    t = t_jws(F.es, "ES256", "k-es", c);
    run_p(t, &p, k, NULL);
    free(t);
    ck_jwks_free(k);
    /* nothing usable at all is an error */
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
    assert_int_equal(ck_jwks_parse(doc, strlen(doc), &k, err, sizeof(err)), -1);
    assert_null(k);
    printf("# %s\n", err);
    assert_int_equal(ck_jwks_parse("{\"keys\":[]}", 11, &k, err, sizeof(err)), -1);
    assert_int_equal(ck_jwks_parse("[1,2]", 5, &k, err, sizeof(err)), -1);
    assert_int_equal(ck_jwks_parse("{\"keys\":", 8, &k, err, sizeof(err)), -1);
    json_decref(c);
}

static void test_single_key_without_kid(void **state)
{
    cjose_jwk_t *keys[2] = { F.es, NULL };
    char *doc = t_jwks(keys, 1), *t, err[256];
    ck_jwks *k = NULL;
    ck_idtoken_policy p = policy();
    json_t *c = t_claims();

    (void)state;
    assert_int_equal(ck_jwks_parse(doc, strlen(doc), &k, err, sizeof(err)), 0);
    t = t_jws(F.es, "ES256", NULL, c);   /* token without kid */
    run_p(t, &p, k, NULL);
    free(t);
    t = t_jws(F.es, "ES256", "k-es", c); /* token naming a kid */
    run_p(t, &p, k, NULL);
    free(t);
    t = t_jws(F.es2, "ES256", NULL, c);  /* still the signature decides */
    run_p(t, &p, k, "bad_signature");
    free(t);
    free(doc);
    ck_jwks_free(k);
    json_decref(c);
}

static void test_malformed_inputs(void **state)
{
    static const char *const bad[] = {
        "", ".", "..", "....", "a.b.c", "a.b.c.d.e", "a.b", "a.b.c.d",
        "eyJhbGciOiJFUzI1NiJ9..", "eyJhbGciOiJFUzI1NiJ9.e30.",
        "e30.e30.e30", "bnVsbA.e30.AA", "W10.e30.AA",
        "eyJhbGciOiJFUzI1NiJ9.!!!.AA", "e30.e30.e30.e30.e30",
        "eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00ifQ.AA.AA.AA.AA",
    };
    char reason[128];
    json_t *claims = NULL;
    ck_idtoken_policy p = policy();
    char *big;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(ck_idtoken_verify(bad[i], strlen(bad[i]), &p, F.jwks,
                                               F.rp, &claims, reason, sizeof(reason)),
                             CK_IDT_OK);
        assert_null(claims);
        assert_true(reason[0] != '\0');
    }
    big = malloc(CK_JOSE_MAX_INPUT + 2);
    memset(big, 'A', CK_JOSE_MAX_INPUT + 1);
    big[CK_JOSE_MAX_INPUT + 1] = '\0';
    big[10] = '.';
    big[20] = '.';
    assert_int_equal(ck_idtoken_verify(big, strlen(big), &p, F.jwks, F.rp, &claims,
                                       reason, sizeof(reason)), CK_IDT_REJECT);
    assert_string_equal(strtok(reason, ":"), "too_large");
    free(big);
    /* no provider keys and no RP keys: clear errors, no crash */
    assert_int_equal(ck_idtoken_verify("e30.e30.e30.e30.e30", 19, &p, F.jwks, NULL,
                                       &claims, reason, sizeof(reason)), CK_IDT_REJECT);
    assert_string_equal(strtok(reason, ":"), "no_enc_key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_algs),
        cmocka_unit_test(test_good_jwe_matrix),
        cmocka_unit_test(test_jwe_without_kid_tries_each_key),
        cmocka_unit_test(test_jwe_rejections),
        cmocka_unit_test(test_library_encrypt_round_trip),
        cmocka_unit_test(test_require_encryption),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_claim_rejections),
        cmocka_unit_test(test_skew_policy),
        cmocka_unit_test(test_alg_rejections),
        cmocka_unit_test(test_rsa_too_small),
        cmocka_unit_test(test_unknown_kid_then_rotation),
        cmocka_unit_test(test_jwks_unknown_keys_ignored),
        cmocka_unit_test(test_single_key_without_kid),
        cmocka_unit_test(test_malformed_inputs),
    };

    return cmocka_run_group_tests_name("oidc_idtoken", tests, setup, teardown);
}
