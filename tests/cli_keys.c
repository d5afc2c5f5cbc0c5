/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_keys - after "checkup keys rotate --provider", what was made with the
 * keys of before still works with the keys of after:
 *
 *   - a private_key_jwt client assertion signed before the rotation (in
 *     flight at the provider) verifies against the relying party's new
 *     public JWKS, which carries the old signing key as signing_key_old;
 *   - an ID token the provider encrypted to the old encryption key
 *     decrypts with the new key set (encryption_key_old).
 *
 * Each check also runs against the new key alone and must fail there, so
 * it cannot pass by accident. No "d" is ever in the JWKS.
 *
 * tests/cli_oidc.sh runs it with CK_KEYS_DIR: sig.before and enc.before
 * (copies made before the rotation) and sig.pem, sig-old.pem, enc.pem,
 * enc-old.pem (after it).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ck_idtoken.h"
#include "ck_jose.h"
#include "oidc_jose_util.h"

static char *dir_path(const char *name)
{
    const char *dir = getenv("CK_KEYS_DIR");

    assert_non_null(dir);
    return t_path(dir, name);
}

static ck_rp_keys *load(const char *sig, const char *sig2, const char *enc, const char *enc2)
{
    char *s[2] = { dir_path(sig), sig2 ? dir_path(sig2) : NULL };
    char *e[2] = { dir_path(enc), enc2 ? dir_path(enc2) : NULL };
    const char *sv[2] = { s[0], s[1] }, *ev[2] = { e[0], e[1] };
    ck_rp_keys *k = NULL;
    char err[256];

    if (ck_rp_keys_load(sv, sig2 ? 2 : 1, ev, enc2 ? 2 : 1, &k, err, sizeof(err)) != 0)
        fail_msg("load: %s", err);
    for (int i = 0; i < 2; i++) {
        free(s[i]);
        free(e[i]);
    }
    return k;
}

/* 1 when compact verifies with the key of its kid in the JWKS text. */
static int verifies(const char *compact, const char *jwks_text)
{
    json_t *doc = json_loads(jwks_text, 0, NULL), *key, *hdr;
    const char *dot = strchr(compact, '.');
    uint8_t *h;
    size_t hlen, i;
    int ok = 0;
    cjose_err err;

    assert_non_null(doc);
    assert_non_null(dot);
    h = t_unb64url(compact, (size_t)(dot - compact), &hlen);
    hdr = json_loadb((const char *)h, hlen, 0, NULL);
    free(h);
    assert_non_null(hdr);
    json_array_foreach(json_object_get(doc, "keys"), i, key) {
        char *one;
        cjose_jwk_t *jwk;
        cjose_jws_t *jws;

        assert_null(json_object_get(key, "d"));
        if (!json_equal(json_object_get(key, "kid"), json_object_get(hdr, "kid")))
            continue;
        one = json_dumps(key, JSON_COMPACT);
        jwk = cjose_jwk_import(one, strlen(one), &err);
        jws = cjose_jws_import(compact, strlen(compact), &err);
        assert_non_null(jwk);
        assert_non_null(jws);
        ok |= cjose_jws_verify(jws, jwk, &err) ? 1 : 0;
        cjose_jws_release(jws);
        cjose_jwk_release(jwk);
        free(one);
    }
    json_decref(hdr);
    json_decref(doc);
    return ok;
}

static void test_old_signature_verifies(void **state)
{
    ck_rp_keys *before = load("sig.before", NULL, "enc.before", NULL);
    ck_rp_keys *after = load("sig.pem", "sig-old.pem", "enc.pem", "enc-old.pem");
    ck_rp_keys *only_new = load("sig.pem", NULL, "enc.pem", NULL);
    char *assertion = NULL, *jwks_after = ck_rp_keys_jwks(after);
    char *jwks_new = ck_rp_keys_jwks(only_new), err[256];

    (void)state;
    assert_non_null(jwks_after);
    assert_non_null(jwks_new);
    if (ck_client_assertion(before, "checkup-client", "https://idp.example.test/token",
                            T_NOW, &assertion, err, sizeof(err)) != 0)
        fail_msg("assertion: %s", err);
    assert_true(verifies(assertion, jwks_after));
    assert_false(verifies(assertion, jwks_new));
    assert_null(strstr(jwks_after, "\"d\""));
    free(assertion);
    free(jwks_after);
    free(jwks_new);
    ck_rp_keys_free(before);
    ck_rp_keys_free(after);
    ck_rp_keys_free(only_new);
}

/* An ID token encrypted to the key in enc.before; status with rp. */
static ck_idt_status decrypt_with(ck_rp_keys *rp)
{
    cjose_jwk_t *idp = t_ec_key("idp-1", CJOSE_JWK_EC_P_256);
    cjose_jwk_t *keys[2] = { idp, NULL };
    char *jwks_text = t_jwks(keys, 0), *old_path = dir_path("enc.before"), reason[256];
    EVP_PKEY *old = t_read_pem(old_path);
    json_t *claims = t_claims(), *out = NULL;
    char *inner = t_jws(idp, "ES256", "idp-1", claims);
    char *tok = t_jwe(inner, "ECDH-ES+A256KW", "A256GCM", old, NULL, NULL);
    ck_jwks *provider = NULL;
    ck_idtoken_policy p;
    ck_idt_status st;

    assert_non_null(tok);
    assert_int_equal(ck_jwks_parse(jwks_text, strlen(jwks_text), &provider, reason,
                                   sizeof(reason)), 0);
    memset(&p, 0, sizeof(p));
    p.issuer = T_ISS;
    p.client_id = T_CLIENT;
    p.nonce = T_NONCE;
    p.now = T_NOW;
    p.require_encryption = 1;
    st = ck_idtoken_verify(tok, strlen(tok), &p, provider, rp, &out, reason, sizeof(reason));
    if (st != CK_IDT_OK)
        printf("# refused: %s\n", reason);
    json_decref(out);
    ck_jwks_free(provider);
    free(tok);
    free(inner);
    json_decref(claims);
    EVP_PKEY_free(old);
    free(old_path);
    free(jwks_text);
    cjose_jwk_release(idp);
    return st;
}

static void test_old_encryption_decrypts(void **state)
{
    ck_rp_keys *after = load("sig.pem", "sig-old.pem", "enc.pem", "enc-old.pem");
    ck_rp_keys *only_new = load("sig.pem", NULL, "enc.pem", NULL);

    (void)state;
    assert_int_equal(decrypt_with(after), CK_IDT_OK);
    assert_int_not_equal(decrypt_with(only_new), CK_IDT_OK);
    ck_rp_keys_free(after);
    ck_rp_keys_free(only_new);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_signature_verifies),
        cmocka_unit_test(test_old_encryption_decrypts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
