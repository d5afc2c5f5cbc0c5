/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Relying-party keys (mode checks, public JWKS, rollover), the
 * private_key_jwt client assertion, DPoP proofs and the CorpPass claim
 * mapping. Keys are generated when the test runs.
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
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "ck_idtoken.h"
#include "oidc_jose_util.h"

static char *gen(const char *dir, const char *name)
{
    char *p = t_path(dir, name), err[256];

    if (ck_rp_key_generate(p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return p;
}

static void test_generate_mode_and_no_overwrite(void **state)
{
    char *dir = t_tmpdir(), *p = gen(dir, "k.pem"), err[256];
    struct stat st;

    (void)state;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(ck_rp_key_generate(p, err, sizeof(err)), -1);
    printf("# %s\n", err);
    free(p);
    t_rmdir(dir);
}

static void test_load_refuses_loose_modes(void **state)
{
    char *dir = t_tmpdir(), *p = gen(dir, "k.pem"), err[256];
    const char *files[1] = { p };
    ck_rp_keys *k = NULL;
    static const mode_t bad[] = { 0640, 0604, 0644, 0660, 0666 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(chmod(p, bad[i]), 0);
        assert_int_equal(ck_rp_keys_load(files, 1, NULL, 0, &k, err, sizeof(err)), -1);
        assert_null(k);
        printf("# mode %o: %s\n", (unsigned)bad[i], err);
    }
    assert_int_equal(chmod(p, 0400), 0);
    assert_int_equal(ck_rp_keys_load(files, 1, NULL, 0, &k, err, sizeof(err)), 0);
    ck_rp_keys_free(k);
    free(p);
    t_rmdir(dir);
}

static void test_load_refuses_wrong_keys(void **state)
{
    char *dir = t_tmpdir(), *p = t_path(dir, "p384.pem"), err[256];
    char *q = t_path(dir, "junk.pem"), *r = gen(dir, "ok.pem");
    const char *files[3];
    EVP_PKEY *k384 = EVP_EC_gen("P-384");
    ck_rp_keys *k = NULL;
    FILE *f;

    (void)state;
    f = fopen(p, "w");
    assert_non_null(f);
    assert_true(PEM_write_PrivateKey(f, k384, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    assert_int_equal(chmod(p, 0600), 0);
    f = fopen(q, "w");
    fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    assert_int_equal(chmod(q, 0600), 0);
    files[0] = p;
    assert_int_equal(ck_rp_keys_load(files, 1, NULL, 0, &k, err, sizeof(err)), -1);
    printf("# %s\n", err);
    files[0] = q;
    assert_int_equal(ck_rp_keys_load(NULL, 0, files, 1, &k, err, sizeof(err)), -1);
    printf("# %s\n", err);
    /* a passphrase-protected key fails at once, no prompt */
    f = fopen(q, "w");
    {
        EVP_PKEY *k256 = EVP_EC_gen("P-256");

        assert_true(PEM_write_PrivateKey(f, k256, EVP_aes_128_cbc(), NULL, 0, NULL,
                                         (void *)"secret-pass"));
        EVP_PKEY_free(k256);
    }
    fclose(f);
    assert_int_equal(ck_rp_keys_load(NULL, 0, files, 1, &k, err, sizeof(err)), -1);
    printf("# %s\n", err);
    files[0] = "/nonexistent/key.pem";
    assert_int_equal(ck_rp_keys_load(files, 1, NULL, 0, &k, err, sizeof(err)), -1);
    files[0] = r;
    files[1] = r;
    files[2] = r;
    assert_int_equal(ck_rp_keys_load(files, 3, NULL, 0, &k, err, sizeof(err)), -1);
    assert_null(k);
    EVP_PKEY_free(k384);
    free(p);
    free(q);
    free(r);
    t_rmdir(dir);
}

struct rp {
    char *dir;
    char *sig[2], *enc[2];
    ck_rp_keys *k;
};

static void rp_make(struct rp *r)
{
    char err[256];

    r->dir = t_tmpdir();
    r->sig[0] = gen(r->dir, "sig1.pem");
    r->sig[1] = gen(r->dir, "sig2.pem");
    r->enc[0] = gen(r->dir, "enc1.pem");
    r->enc[1] = gen(r->dir, "enc2.pem");
    if (ck_rp_keys_load((const char *const *)r->sig, 2, (const char *const *)r->enc,
                        2, &r->k, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void rp_free(struct rp *r)
{
    int i;

    ck_rp_keys_free(r->k);
    for (i = 0; i < 2; i++) {
        free(r->sig[i]);
        free(r->enc[i]);
    }
    t_rmdir(r->dir);
}

static void test_public_jwks(void **state)
{
    struct rp r;
    char *text;
    json_t *doc, *keys, *key;
    size_t i;
    int nsig = 0, nenc = 0;
    EVP_PKEY *pk;
    char *tp;

    (void)state;
    rp_make(&r);
    text = ck_rp_keys_jwks(r.k);
    assert_non_null(text);
    assert_null(strstr(text, "\"d\""));
    doc = json_loads(text, 0, NULL);
    keys = json_object_get(doc, "keys");
    assert_int_equal(json_array_size(keys), 4);
    json_array_foreach(keys, i, key) {
        const char *use = json_string_value(json_object_get(key, "use"));

        assert_null(json_object_get(key, "d"));
        assert_string_equal(json_string_value(json_object_get(key, "kty")), "EC");
        assert_string_equal(json_string_value(json_object_get(key, "crv")), "P-256");
        nsig += strcmp(use, "sig") == 0;
        nenc += strcmp(use, "enc") == 0;
    }
    assert_int_equal(nsig, 2);
    assert_int_equal(nenc, 2);
    /* kid = RFC 7638 thumbprint, computed independently here */
    pk = t_read_pem(r.enc[1]);
    tp = t_thumbprint(pk);
    assert_string_equal(json_string_value(json_object_get(json_array_get(keys, 3), "kid")), tp);
    assert_string_equal(json_string_value(json_object_get(json_array_get(keys, 3), "alg")),
                        "ECDH-ES+A256KW");
    free(tp);
    EVP_PKEY_free(pk);
    /* our own public JWKS is a valid provider-style key set for the sig keys */
    {
        ck_jwks *j = NULL;
        char err[256];

        assert_int_equal(ck_jwks_parse(text, strlen(text), &j, err, sizeof(err)), 0);
        assert_int_equal(ck_jwks_count(j), 2);
        ck_jwks_free(j);
    }
    json_decref(doc);
    free(text);
    rp_free(&r);
}

/* Verifies a compact ES256 JWS with the public jwk, returns its claims
 * and header. */
static json_t *verify_with(const char *compact, const char *jwk_json, json_t **hdr)
{
    cjose_err err;
    cjose_jwk_t *jwk = cjose_jwk_import(jwk_json, strlen(jwk_json), &err);
    cjose_jws_t *jws = cjose_jws_import(compact, strlen(compact), &err);
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    const char *dot = strchr(compact, '.');
    uint8_t *h;
    size_t hlen;
    json_t *claims;

    assert_non_null(jwk);
    assert_non_null(jws);
    assert_true(cjose_jws_verify(jws, jwk, &err));
    assert_true(cjose_jws_get_plaintext(jws, &pt, &ptlen, &err));
    claims = json_loadb((const char *)pt, ptlen, 0, NULL);
    assert_non_null(claims);
    h = t_unb64url(compact, (size_t)(dot - compact), &hlen);
    *hdr = json_loadb((const char *)h, hlen, 0, NULL);
    assert_non_null(*hdr);
    free(h);
    cjose_jws_release(jws);
    cjose_jwk_release(jwk);
    return claims;
}

static char *sig_jwk(const ck_rp_keys *k)
{
    char *text = ck_rp_keys_jwks(k);
    json_t *doc = json_loads(text, 0, NULL);
    char *out = json_dumps(json_array_get(json_object_get(doc, "keys"), 0), JSON_COMPACT);

    json_decref(doc);
    free(text);
    return out;
}

static void test_client_assertion(void **state)
{
    struct rp r;
    char *a1 = NULL, *a2 = NULL, *jwk, err[256];
    json_t *c1, *c2, *h1, *h2;

    (void)state;
    rp_make(&r);
    jwk = sig_jwk(r.k);
    assert_int_equal(ck_client_assertion(r.k, T_CLIENT, T_ISS, T_NOW, &a1, err, sizeof(err)), 0);
    assert_int_equal(ck_client_assertion(r.k, T_CLIENT, T_ISS, T_NOW, &a2, err, sizeof(err)), 0);
    c1 = verify_with(a1, jwk, &h1);
    c2 = verify_with(a2, jwk, &h2);
    assert_string_equal(json_string_value(json_object_get(h1, "alg")), "ES256");
    assert_non_null(json_string_value(json_object_get(h1, "kid")));
    assert_string_equal(json_string_value(json_object_get(c1, "iss")), T_CLIENT);
    assert_string_equal(json_string_value(json_object_get(c1, "sub")), T_CLIENT);
    assert_string_equal(json_string_value(json_object_get(c1, "aud")), T_ISS);
    assert_int_equal(json_integer_value(json_object_get(c1, "iat")), T_NOW);
    assert_true(json_integer_value(json_object_get(c1, "exp")) > T_NOW);
    assert_true(json_integer_value(json_object_get(c1, "exp")) <= T_NOW + 120);
    assert_true(strlen(json_string_value(json_object_get(c1, "jti"))) >= 22);
    assert_string_not_equal(json_string_value(json_object_get(c1, "jti")),
                            json_string_value(json_object_get(c2, "jti")));
    {
        char *none = (char *)"unchanged";

        assert_int_equal(ck_client_assertion(NULL, T_CLIENT, T_ISS, T_NOW, &none, err, sizeof(err)), -1);
        assert_null(none);
    }
    json_decref(c1);
    json_decref(c2);
    json_decref(h1);
    json_decref(h2);
    free(a1);
    free(a2);
    free(jwk);
    rp_free(&r);
}

static void test_dpop_proof(void **state)
{
    struct rp r;
    char *proof = NULL, *hjwk, *ath, *tp, err[256];
    json_t *c, *h, *jwk;
    const char *token = "an-access-token.with.dots";
    uint8_t md[32];
    EVP_PKEY *pk;

    (void)state;
    rp_make(&r);
    assert_int_equal(ck_dpop_proof(r.k, "POST", "https://idp.example.test/token",
                                   token, "server-nonce", T_NOW, &proof, err,
                                   sizeof(err)), 0);
    /* verified with the key the proof itself carries */
    {
        const char *dot = strchr(proof, '.');
        size_t hlen;
        uint8_t *hraw = t_unb64url(proof, (size_t)(dot - proof), &hlen);
        json_t *hh = json_loadb((const char *)hraw, hlen, 0, NULL);

        jwk = json_incref(json_object_get(hh, "jwk"));
        json_decref(hh);
        free(hraw);
    }
    assert_non_null(jwk);
    assert_null(json_object_get(jwk, "d"));
    hjwk = json_dumps(jwk, JSON_COMPACT);
    c = verify_with(proof, hjwk, &h);
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "dpop+jwt");
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(c, "htm")), "POST");
    assert_string_equal(json_string_value(json_object_get(c, "htu")),
                        "https://idp.example.test/token");
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), T_NOW);
    assert_non_null(json_string_value(json_object_get(c, "jti")));
    assert_string_equal(json_string_value(json_object_get(c, "nonce")), "server-nonce");
    SHA256((const uint8_t *)token, strlen(token), md);
    ath = t_b64url(md, sizeof(md));
    assert_string_equal(json_string_value(json_object_get(c, "ath")), ath);
    /* the proof's key is the first signing key; jkt is its thumbprint */
    pk = t_read_pem(r.sig[0]);
    tp = t_thumbprint(pk);
    assert_string_equal(ck_dpop_jkt(r.k), tp);
    json_decref(c);
    json_decref(h);
    free(proof);
    /* without token and nonce: no ath, no nonce */
    assert_int_equal(ck_dpop_proof(r.k, "GET", "https://idp.example.test/userinfo",
                                   NULL, NULL, T_NOW, &proof, err, sizeof(err)), 0);
    c = verify_with(proof, hjwk, &h);
    assert_null(json_object_get(c, "ath"));
    assert_null(json_object_get(c, "nonce"));
    json_decref(c);
    json_decref(h);
    free(proof);
    free(tp);
    free(ath);
    free(hjwk);
    json_decref(jwk);
    EVP_PKEY_free(pk);
    rp_free(&r);
}

static void test_no_sig_key(void **state)
{
    char *dir = t_tmpdir(), *p = gen(dir, "enc.pem"), *out = NULL, err[256];
    const char *files[1] = { p };
    ck_rp_keys *k = NULL;

    (void)state;
    assert_int_equal(ck_rp_keys_load(NULL, 0, files, 1, &k, err, sizeof(err)), 0);
    assert_null(ck_dpop_jkt(k));
    assert_int_equal(ck_dpop_proof(k, "POST", "https://x.test/", NULL, NULL, T_NOW,
                                   &out, err, sizeof(err)), -1);
    assert_int_equal(ck_client_assertion(k, "c", "a", T_NOW, &out, err, sizeof(err)), -1);
    assert_null(out);
    ck_rp_keys_free(k);
    free(p);
    t_rmdir(dir);
}

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    assert_non_null(j);
    return j;
}

static void test_corppass_legacy(void **state)
{
    /* the documented legacy shape, keys of sub in a shuffled order */
    json_t *c = load("{\"sub\":\"uuid=0f14a2fc-09c2-4780-95f0-8c28347f2780,c=SG,"
                     "s=S1234567P,u=CP192\",\"userInfo\":{\"CPAccType\":\"User\","
                     "\"CPUID_FullName\":\"John Grisham\",\"ISSPHOLDER\":\"YES\"},"
                     "\"entityInfo\":{\"CPEntID\":\"82532759L\",\"CPEnt_TYPE\":\"UEN\","
                     "\"CPEnt_Status\":\"Registered\",\"CPNonUEN_Country\":\"\","
                     "\"CPNonUEN_RegNo\":\"\",\"CPNonUEN_Name\":\"\"}}");
    ck_identity id;
    char err[256];

    (void)state;
    assert_int_equal(ck_identity_from_claims(c, NULL, 1, &id, err, sizeof(err)), 0);
    assert_true(id.is_corppass);
    assert_string_equal(id.cp_nric, "S1234567P");
    assert_string_equal(id.cp_uuid, "0f14a2fc-09c2-4780-95f0-8c28347f2780");
    assert_string_equal(id.cp_cpuid, "CP192");
    assert_string_equal(id.cp_country, "SG");
    assert_string_equal(id.cp_entity_id, "82532759L");
    assert_string_equal(id.cp_entity_type, "UEN");
    assert_string_equal(id.cp_role, "User");
    assert_string_equal(id.user_id, json_string_value(json_object_get(c, "sub")));
    json_decref(c);
    /* mockpass's shape: s, u, c and no uuid */
    c = load("{\"sub\":\"s=S8979373D,u=CP192,c=SG\",\"userInfo\":{\"CPAccType\":\"User\"}}");
    assert_int_equal(ck_identity_from_claims(c, NULL, 1, &id, err, sizeof(err)), 0);
    assert_string_equal(id.cp_nric, "S8979373D");
    assert_string_equal(id.cp_uuid, "");
    json_decref(c);
}

static void test_corppass_fapi(void **state)
{
    json_t *c = load("{\"sub\":\"53312345K\",\"sub_type\":\"entity\","
                     "\"sub_attributes\":{\"entity_reg_number\":\"53312345K\","
                     "\"entity_type\":\"UEN\",\"entity_uen_status\":\"Registered\"},"
                     "\"act\":{\"sub\":\"0f14a2fc-09c2-4780-95f0-8c28347f2780\","
                     "\"sub_attributes\":{\"identity_number\":\"S1234567P\","
                     "\"name\":\"John\"}}}");
    ck_identity id;
    char err[256];

    (void)state;
    assert_int_equal(ck_identity_from_claims(c, NULL, 1, &id, err, sizeof(err)), 0);
    assert_string_equal(id.cp_entity_id, "53312345K");
    assert_string_equal(id.cp_entity_type, "UEN");
    assert_string_equal(id.cp_uuid, "0f14a2fc-09c2-4780-95f0-8c28347f2780");
    assert_string_equal(id.cp_nric, "S1234567P");
    json_decref(c);
    /* an entity without an acting user is not a login */
    c = load("{\"sub\":\"53312345K\"}");
    assert_int_equal(ck_identity_from_claims(c, NULL, 1, &id, err, sizeof(err)), -1);
    printf("# %s\n", err);
    json_decref(c);
}

static void test_corppass_rejections(void **state)
{
    static const char *const bad[] = {
        "{\"sub\":\"s=S1234567P,,u=CP1\"}",
        "{\"sub\":\"=x\"}",
        "{\"sub\":\"c=SG\"}",
        "{\"sub\":\"s=S1,s=S2\"}",
        "{\"sub\":\"s=S12345678901234567890\"}",
        "{\"sub\":\"s=S1234567P,u=CP1\",\"userInfo\":[]}",
        "{\"sub\":\"s=S1234567P,u=CP1\",\"entityInfo\":{\"CPEntID\":5}}",
        "{\"sub\":\"E1\",\"act\":\"x\"}",
        "{\"sub\":\"E1\",\"act\":{\"sub\":7}}",
        "{\"sub\":\"\"}",
        "{\"nosub\":1}",
        "[]",
    };
    ck_identity id;
    char err[256];
    size_t i;
    json_t *c;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = load(bad[i]);
        assert_int_equal(ck_identity_from_claims(c, NULL, 1, &id, err, sizeof(err)), -1);
        /* the identity number never reaches the error text */
        assert_null(strstr(err, "S1234567P"));
        assert_string_equal(id.cp_nric, "");
        json_decref(c);
    }
}

static void test_claim_map(void **state)
{
    json_t *c = load("{\"sub\":\"abc\",\"preferred_username\":\"alice\","
                     "\"mail\":\"alice@clinic.example\",\"groups_role\":\"nurse\","
                     "\"org\":\"clinic-7\",\"sid\":\"idp-session-1\"}");
    ck_claim_map map = { "preferred_username", "mail", "groups_role", "org" };
    ck_identity id;
    char err[256], big[400];

    (void)state;
    assert_int_equal(ck_identity_from_claims(c, &map, 0, &id, err, sizeof(err)), 0);
    assert_false(id.is_corppass);
    assert_string_equal(id.sub, "abc");
    assert_string_equal(id.user_id, "alice");
    assert_string_equal(id.email, "alice@clinic.example");
    assert_string_equal(id.role, "nurse");
    assert_string_equal(id.clinic_id, "clinic-7");
    assert_string_equal(id.idp_sid, "idp-session-1");
    /* defaults: user id = sub, the rest absent */
    assert_int_equal(ck_identity_from_claims(c, NULL, 0, &id, err, sizeof(err)), 0);
    assert_string_equal(id.user_id, "abc");
    assert_string_equal(id.email, "");
    /* a mapped user id claim that is missing, or too long */
    map.user_id = "upn";
    assert_int_equal(ck_identity_from_claims(c, &map, 0, &id, err, sizeof(err)), -1);
    printf("# %s\n", err);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(c, "mail", json_string(big));
    map.user_id = NULL;
    assert_int_equal(ck_identity_from_claims(c, &map, 0, &id, err, sizeof(err)), -1);
    assert_null(strstr(err, "xxxx"));
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_mode_and_no_overwrite),
        cmocka_unit_test(test_load_refuses_loose_modes),
        cmocka_unit_test(test_load_refuses_wrong_keys),
        cmocka_unit_test(test_public_jwks),
        cmocka_unit_test(test_client_assertion),
        cmocka_unit_test(test_dpop_proof),
        cmocka_unit_test(test_no_sig_key),
        cmocka_unit_test(test_corppass_legacy),
        cmocka_unit_test(test_corppass_fapi),
        cmocka_unit_test(test_corppass_rejections),
        cmocka_unit_test(test_claim_map),
    };

    return cmocka_run_group_tests_name("oidc_jose", tests, NULL, NULL);
}
