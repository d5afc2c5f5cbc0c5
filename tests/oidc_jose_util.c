/* SPDX-License-Identifier: BSD-3-Clause */
/* oidc_jose_util.c - test-time keys and tokens for the JOSE tests. */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>

#include "oidc_jose_util.h"

char *t_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);

    assert_non_null(dir);
    snprintf(dir, 4096, "%s/ck-jose-XXXXXX", base != NULL && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
    return dir;
}

void t_rmdir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *p;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            p = t_path(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

char *t_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *t_b64url(const uint8_t *in, size_t len)
{
    char *out = NULL;
    size_t outlen = 0;
    cjose_err err;

    assert_true(cjose_base64url_encode(in, len, &out, &outlen, &err));
    return out;
}

uint8_t *t_unb64url(const char *in, size_t len, size_t *outlen)
{
    uint8_t *out = NULL;
    cjose_err err;

    if (!cjose_base64url_decode(in, len, &out, outlen, &err))
        return NULL;
    return out;
}

cjose_jwk_t *t_ec_key(const char *kid, cjose_jwk_ec_curve crv)
{
    cjose_err err;
    cjose_jwk_t *k = cjose_jwk_create_EC_random(crv, &err);

    assert_non_null(k);
    if (kid != NULL)
        assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
    return k;
}

cjose_jwk_t *t_rsa_key(const char *kid, size_t bits)
{
    static const uint8_t e[] = { 0x01, 0x00, 0x01 };
    cjose_err err;
    cjose_jwk_t *k = cjose_jwk_create_RSA_random(bits, e, sizeof(e), &err);

    assert_non_null(k);
    if (kid != NULL)
        assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
    return k;
}

char *t_jwks(cjose_jwk_t *const *keys, int kid_off)
{
    json_t *arr = json_array(), *doc;
    cjose_err err;
    char *text;
    size_t i;

    for (i = 0; keys[i] != NULL; i++) {
        char *pub = cjose_jwk_to_json(keys[i], false, &err);
        json_t *o;

        assert_non_null(pub);
        o = json_loads(pub, 0, NULL);
        assert_non_null(o);
        if (kid_off)
            json_object_del(o, "kid");
        json_array_append_new(arr, o);
        free(pub);
    }
    doc = json_pack("{s:o}", "keys", arr);
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

json_t *t_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss", T_ISS,
                     "aud", T_CLIENT, "sub", "user-0001", "nonce", T_NONCE,
                     "iat", (json_int_t)T_NOW - 5, "exp",
                     (json_int_t)T_NOW + 600, "email", "a.user@clinic.example");
}

char *t_jws(cjose_jwk_t *key, const char *alg, const char *kid, json_t *claims)
{
    cjose_err err;
    cjose_header_t *h = cjose_header_new(&err);
    char *payload = json_dumps(claims, JSON_COMPACT);
    cjose_jws_t *jws;
    const char *ser = NULL;
    char *out;

    assert_non_null(h);
    assert_true(cjose_header_set(h, CJOSE_HDR_ALG, alg, &err));
    if (kid != NULL)
        assert_true(cjose_header_set(h, CJOSE_HDR_KID, kid, &err));
    jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &err);
    if (jws == NULL)
        fail_msg("cjose_jws_sign %s: %s", alg, err.message);
    assert_true(cjose_jws_export(jws, &ser, &err));
    out = strdup(ser);
    cjose_jws_release(jws);
    cjose_header_release(h);
    free(payload);
    return out;
}

char *t_jws_raw(const char *header_json, const char *payload_json,
                const uint8_t *sig, size_t siglen)
{
    char *h = t_b64url((const uint8_t *)header_json, strlen(header_json));
    char *p = t_b64url((const uint8_t *)payload_json, strlen(payload_json));
    char *s = siglen > 0 ? t_b64url(sig, siglen) : strdup("");
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *out = malloc(n);

    snprintf(out, n, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    return out;
}

static void coords(EVP_PKEY *k, uint8_t x[32], uint8_t y[32])
{
    BIGNUM *bx = NULL, *by = NULL;

    assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx));
    assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by));
    assert_int_equal(BN_bn2binpad(bx, x, 32), 32);
    assert_int_equal(BN_bn2binpad(by, y, 32), 32);
    BN_free(bx);
    BN_free(by);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* NIST SP 800-56A single-step KDF with SHA-256, one round (<= 256 bits). */
static void kdf(const uint8_t *z, size_t zlen, const char *alg, size_t keklen,
                const uint8_t *apu, size_t apulen, uint8_t *kek)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t be[4], md[32];

    assert_true(EVP_DigestInit_ex(c, EVP_sha256(), NULL) > 0);
    put32(be, 1);
    EVP_DigestUpdate(c, be, 4);
    EVP_DigestUpdate(c, z, zlen);
    put32(be, (uint32_t)strlen(alg));
    EVP_DigestUpdate(c, be, 4);
    EVP_DigestUpdate(c, alg, strlen(alg));
    put32(be, (uint32_t)apulen);
    EVP_DigestUpdate(c, be, 4);
    EVP_DigestUpdate(c, apu, apulen);
    put32(be, 0);
    EVP_DigestUpdate(c, be, 4);
    put32(be, (uint32_t)(keklen * 8));
    EVP_DigestUpdate(c, be, 4);
    assert_true(EVP_DigestFinal_ex(c, md, NULL) > 0);
    EVP_MD_CTX_free(c);
    memcpy(kek, md, keklen);
}

static size_t enc_keylen(const char *enc, int *gcm)
{
    *gcm = strstr(enc, "GCM") != NULL;
    if (strcmp(enc, "A128GCM") == 0)
        return 16;
    if (strcmp(enc, "A192GCM") == 0)
        return 24;
    if (strcmp(enc, "A256GCM") == 0)
        return 32;
    if (strcmp(enc, "A128CBC-HS256") == 0)
        return 32;
    if (strcmp(enc, "A192CBC-HS384") == 0)
        return 48;
    if (strcmp(enc, "A256CBC-HS512") == 0)
        return 64;
    fail_msg("unknown enc %s", enc);
    return 0;
}

static const EVP_CIPHER *aes(const char *mode, size_t keylen)
{
    char name[32];

    snprintf(name, sizeof(name), "aes-%zu-%s", keylen * 8, mode);
    return EVP_get_cipherbyname(name);
}

char *t_jwe(const char *inner, const char *alg, const char *enc,
            EVP_PKEY *rcpt, const char *kid, const char *extra)
{
    EVP_PKEY *eph = EVP_EC_gen("P-256");
    EVP_PKEY_CTX *dc;
    EVP_CIPHER_CTX *c;
    uint8_t z[32], kek[32], cek[64], ek[72], iv[16], x[32], y[32];
    uint8_t tag[64], *ct, *macin;
    size_t zlen = sizeof(z), keklen, keylen, ctlen, ivlen, taglen, aadlen, n;
    int gcm, outl, fin;
    const char *apu = "checkup-test";
    json_t *hdr;
    char *hjson, *h64, *p[4], *out;
    unsigned int mdlen;

    keklen = strstr(alg, "A128KW") ? 16 : strstr(alg, "A192KW") ? 24 : 32;
    keylen = enc_keylen(enc, &gcm);
    assert_non_null(eph);
    dc = EVP_PKEY_CTX_new(eph, NULL);
    assert_true(EVP_PKEY_derive_init(dc) > 0);
    assert_true(EVP_PKEY_derive_set_peer(dc, rcpt) > 0);
    assert_true(EVP_PKEY_derive(dc, z, &zlen) > 0);
    EVP_PKEY_CTX_free(dc);
    kdf(z, zlen, alg, keklen, (const uint8_t *)apu, strlen(apu), kek);
    assert_int_equal(RAND_bytes(cek, (int)keylen), 1);
    c = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    assert_true(EVP_EncryptInit_ex(c, aes("wrap", keklen), NULL, kek, NULL) > 0);
    assert_true(EVP_EncryptUpdate(c, ek, &outl, cek, (int)keylen) > 0);
    assert_true(EVP_EncryptFinal_ex(c, ek + outl, &fin) > 0);
    assert_int_equal(outl + fin, (int)keylen + 8);
    EVP_CIPHER_CTX_free(c);

    coords(eph, x, y);
    p[0] = t_b64url(x, 32);
    p[1] = t_b64url(y, 32);
    p[2] = t_b64url((const uint8_t *)apu, strlen(apu));
    hdr = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "alg", alg,
                    "enc", enc, "cty", "JWT", "apu", p[2], "epk", "kty", "EC",
                    "crv", "P-256", "x", p[0], "y", p[1]);
    free(p[0]);
    free(p[1]);
    free(p[2]);
    if (kid != NULL)
        json_object_set_new(hdr, "kid", json_string(kid));
    if (extra != NULL) {
        json_t *e = json_loads(extra, 0, NULL);

        assert_non_null(e);
        json_object_update(hdr, e);
        json_decref(e);
    }
    hjson = json_dumps(hdr, JSON_COMPACT);
    json_decref(hdr);
    h64 = t_b64url((const uint8_t *)hjson, strlen(hjson));
    free(hjson);
    aadlen = strlen(h64);

    ivlen = gcm ? 12 : 16;
    assert_int_equal(RAND_bytes(iv, (int)ivlen), 1);
    n = strlen(inner);
    ct = malloc(n + 32);
    c = EVP_CIPHER_CTX_new();
    if (gcm) {
        assert_true(EVP_EncryptInit_ex(c, aes("gcm", keylen), NULL, cek, iv) > 0);
        assert_true(EVP_EncryptUpdate(c, NULL, &outl, (const uint8_t *)h64, (int)aadlen) > 0);
        assert_true(EVP_EncryptUpdate(c, ct, &outl, (const uint8_t *)inner, (int)n) > 0);
        assert_true(EVP_EncryptFinal_ex(c, ct + outl, &fin) > 0);
        ctlen = (size_t)(outl + fin);
        taglen = 16;
        assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) > 0);
    } else {
        size_t half = keylen / 2;
        uint64_t al = (uint64_t)aadlen * 8;
        uint8_t md[64];
        int i;

        assert_true(EVP_EncryptInit_ex(c, aes("cbc", half), NULL, cek + half, iv) > 0);
        assert_true(EVP_EncryptUpdate(c, ct, &outl, (const uint8_t *)inner, (int)n) > 0);
        assert_true(EVP_EncryptFinal_ex(c, ct + outl, &fin) > 0);
        ctlen = (size_t)(outl + fin);
        macin = malloc(aadlen + ivlen + ctlen + 8);
        memcpy(macin, h64, aadlen);
        memcpy(macin + aadlen, iv, ivlen);
        memcpy(macin + aadlen + ivlen, ct, ctlen);
        for (i = 0; i < 8; i++)
            macin[aadlen + ivlen + ctlen + i] = (uint8_t)(al >> (56 - 8 * i));
        HMAC(half == 16 ? EVP_sha256() : half == 24 ? EVP_sha384() : EVP_sha512(),
             cek, (int)half, macin, aadlen + ivlen + ctlen + 8, md, &mdlen);
        free(macin);
        taglen = half;
        memcpy(tag, md, taglen);
    }
    EVP_CIPHER_CTX_free(c);
    p[0] = t_b64url(ek, keylen + 8);
    p[1] = t_b64url(iv, ivlen);
    p[2] = t_b64url(ct, ctlen);
    p[3] = t_b64url(tag, taglen);
    n = aadlen + strlen(p[0]) + strlen(p[1]) + strlen(p[2]) + strlen(p[3]) + 5;
    out = malloc(n);
    snprintf(out, n, "%s.%s.%s.%s.%s", h64, p[0], p[1], p[2], p[3]);
    free(h64);
    free(ct);
    for (n = 0; n < 4; n++)
        free(p[n]);
    EVP_PKEY_free(eph);
    return out;
}

EVP_PKEY *t_read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;

    assert_non_null(f);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

char *t_thumbprint(EVP_PKEY *pkey)
{
    uint8_t x[32], y[32], md[32];
    char *bx, *by, json[256];

    coords(pkey, x, y);
    bx = t_b64url(x, 32);
    by = t_b64url(y, 32);
    snprintf(json, sizeof(json), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
    SHA256((const uint8_t *)json, strlen(json), md);
    free(bx);
    free(by);
    return t_b64url(md, 32);
}
