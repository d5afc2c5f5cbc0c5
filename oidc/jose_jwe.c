/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jose_jwe.c - compact JWE decryption for ECDH-ES+A128KW/A192KW/A256KW
 * (RFC 7518 4.6) with AES-GCM or AES-CBC-HMAC-SHA2 content encryption
 * (RFC 7518 5.2, 5.3). cjose 0.6 has no ECDH-ES key wrapping and cannot
 * take a content key from outside, so each step is OpenSSL 3: the key
 * agreement (EVP_PKEY_derive), the Concat KDF (EVP_KDF "SSKDF"), the key
 * unwrap (AES-WRAP) and the content decryption.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "jose_internal.h"

struct kw_alg {
    const char *name;
    size_t keklen;
};

static const struct kw_alg kw_algs[] = {
    { "ECDH-ES+A128KW", 16 },
    { "ECDH-ES+A192KW", 24 },
    { "ECDH-ES+A256KW", 32 },
};

struct enc_alg {
    const char *name;
    int gcm;
    size_t keylen; /* content encryption key, bytes */
};

static const struct enc_alg enc_algs[] = {
    { "A128GCM", 1, 16 },
    { "A192GCM", 1, 24 },
    { "A256GCM", 1, 32 },
    { "A128CBC-HS256", 0, 32 },
    { "A192CBC-HS384", 0, 48 },
    { "A256CBC-HS512", 0, 64 },
};

#define NPARTS 5

struct part {
    const char *p;
    size_t len;
};

/* The five parts of a compact JWE and the decoded binary ones. */
struct jwe {
    struct part part[NPARTS];
    json_t *hdr;
    const struct kw_alg *kw;
    const struct enc_alg *enc;
    uint8_t *apu, *apv, *ek, *iv, *ct, *tag;
    size_t apulen, apvlen, eklen, ivlen, ctlen, taglen;
    EVP_PKEY *epk;
};

static int split(const char *s, size_t len, struct part *part)
{
    size_t i, n = 0, start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (n == NPARTS)
            return -1;
        part[n].p = s + start;
        part[n].len = i - start;
        n++;
        start = i + 1;
    }
    return n == NPARTS ? 0 : -1;
}

static const struct kw_alg *find_kw(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < sizeof(kw_algs) / sizeof(kw_algs[0]); i++) {
        if (strcmp(kw_algs[i].name, name) == 0)
            return &kw_algs[i];
    }
    return NULL;
}

static const struct enc_alg *find_enc(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < sizeof(enc_algs) / sizeof(enc_algs[0]); i++) {
        if (strcmp(enc_algs[i].name, name) == 0)
            return &enc_algs[i];
    }
    return NULL;
}

/* A base64url member of the header, absent = empty. */
static int hdr_b64(json_t *hdr, const char *name, uint8_t **out, size_t *outlen)
{
    json_t *v = json_object_get(hdr, name);
    const char *s = json_string_value(v);

    if (v == NULL)
        return ck_jose_b64dec("", 0, out, outlen);
    if (s == NULL)
        return -1;
    return ck_jose_b64dec(s, strlen(s), out, outlen);
}

/* One coordinate of a P-256 point: a base64url string of exactly 32 bytes,
 * decoded straight into dst. */
static int coord32(json_t *v, uint8_t dst[32])
{
    const char *s = json_string_value(v);
    uint8_t *raw = NULL;
    size_t len = 0;
    int rc = -1;

    if (s != NULL && ck_jose_b64dec(s, strlen(s), &raw, &len) == 0 && len == 32) {
        memcpy(dst, raw, 32);
        rc = 0;
    }
    free(raw);
    return rc;
}

/*
 * The sender's ephemeral key: EC P-256 only (our keys are P-256). It takes
 * its group from one of our keys, which is cheaper than building the group
 * by name; setting the encoded point decodes it with EC_POINT_oct2point,
 * which refuses a point off the curve, so an invalid-curve attack fails
 * here (P-256 has cofactor 1, so on the curve is in the group).
 */
static int epk_load(json_t *epk, EVP_PKEY *group_of, EVP_PKEY **out)
{
    const char *kty = json_string_value(json_object_get(epk, "kty"));
    const char *crv = json_string_value(json_object_get(epk, "crv"));
    uint8_t point[65];
    EVP_PKEY *pkey;

    *out = NULL;
    if (kty == NULL || crv == NULL || strcmp(kty, "EC") != 0 || strcmp(crv, "P-256") != 0)
        return -1;
    /* SEC 1 uncompressed form: 0x04, then x and y of 32 bytes each. */
    point[0] = 0x04;
    if (coord32(json_object_get(epk, "x"), point + 1) != 0 ||
        coord32(json_object_get(epk, "y"), point + 33) != 0)
        return -1;
    pkey = EVP_PKEY_new();
    if (pkey == NULL || EVP_PKEY_copy_parameters(pkey, group_of) <= 0 ||
        EVP_PKEY_set1_encoded_public_key(pkey, point, sizeof(point)) <= 0) {
        EVP_PKEY_free(pkey);
        return -1;
    }
    *out = pkey;
    return 0;
}

static void jwe_clear(struct jwe *j)
{
    json_decref(j->hdr);
    free(j->apu);
    free(j->apv);
    free(j->ek);
    free(j->iv);
    free(j->ct);
    free(j->tag);
    EVP_PKEY_free(j->epk);
}

static int jwe_parse(struct jwe *j, const char *compact, size_t len,
                     EVP_PKEY *group_of, char *reason, size_t rlen)
{
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    json_error_t jerr;

    if (split(compact, len, j->part) != 0) {
        ck_jose_err(reason, rlen, "malformed: not a compact JWE");
        return -1;
    }
    if (ck_jose_b64dec(j->part[0].p, j->part[0].len, &raw, &rawlen) != 0) {
        ck_jose_err(reason, rlen, "malformed: JWE header encoding");
        return -1;
    }
    j->hdr = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!json_is_object(j->hdr)) {
        ck_jose_err(reason, rlen, "malformed: JWE header is not a JSON object");
        return -1;
    }
    j->kw = find_kw(json_string_value(json_object_get(j->hdr, "alg")));
    j->enc = find_enc(json_string_value(json_object_get(j->hdr, "enc")));
    if (j->kw == NULL || j->enc == NULL) {
        ck_jose_err(reason, rlen, "bad_enc_alg: JWE alg or enc not supported");
        return -1;
    }
    /* Compression before encryption leaks through lengths, and unknown
     * critical extensions must not be ignored (RFC 7516 4.1.13). */
    if (json_object_get(j->hdr, "zip") != NULL ||
        json_object_get(j->hdr, "crit") != NULL) {
        ck_jose_err(reason, rlen, "bad_enc_alg: JWE zip or crit not supported");
        return -1;
    }
    if (epk_load(json_object_get(j->hdr, "epk"), group_of, &j->epk) != 0) {
        ck_jose_err(reason, rlen, "malformed: JWE epk is not a P-256 public key");
        return -1;
    }
    if (hdr_b64(j->hdr, "apu", &j->apu, &j->apulen) != 0 ||
        hdr_b64(j->hdr, "apv", &j->apv, &j->apvlen) != 0 ||
        ck_jose_b64dec(j->part[1].p, j->part[1].len, &j->ek, &j->eklen) != 0 ||
        ck_jose_b64dec(j->part[2].p, j->part[2].len, &j->iv, &j->ivlen) != 0 ||
        ck_jose_b64dec(j->part[3].p, j->part[3].len, &j->ct, &j->ctlen) != 0 ||
        ck_jose_b64dec(j->part[4].p, j->part[4].len, &j->tag, &j->taglen) != 0) {
        ck_jose_err(reason, rlen, "malformed: JWE part encoding");
        return -1;
    }
    if (j->eklen != j->enc->keylen + 8 ||
        j->ivlen != (j->enc->gcm ? 12u : 16u) ||
        j->taglen != (j->enc->gcm ? 16u : j->enc->keylen / 2)) {
        ck_jose_err(reason, rlen, "malformed: JWE key, iv or tag length");
        return -1;
    }
    return 0;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Concat KDF, RFC 7518 4.6.2: OtherInfo = AlgorithmID || PartyUInfo ||
 * PartyVInfo || SuppPubInfo, each datum with a 32-bit length, and
 * AlgorithmID the "alg" value in the key wrapping modes. */
static int concat_kdf(const struct jwe *j, const uint8_t *z, size_t zlen,
                      uint8_t *kek)
{
    size_t alglen = strlen(j->kw->name);
    size_t infolen = 4 + alglen + 4 + j->apulen + 4 + j->apvlen + 4;
    uint8_t *info = malloc(infolen), *p;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[4];
    int rc = -1;

    if (info == NULL)
        return -1;
    p = info;
    be32(p, (uint32_t)alglen);
    memcpy(p + 4, j->kw->name, alglen);
    p += 4 + alglen;
    /* apu and apv may be absent (NULL, length 0). */
    be32(p, (uint32_t)j->apulen);
    if (j->apulen > 0)
        memcpy(p + 4, j->apu, j->apulen);
    p += 4 + j->apulen;
    be32(p, (uint32_t)j->apvlen);
    if (j->apvlen > 0)
        memcpy(p + 4, j->apv, j->apvlen);
    p += 4 + j->apvlen;
    be32(p, (uint32_t)(j->kw->keklen * 8));
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                                  (void *)z, zlen);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
                                                  infolen);
    params[3] = OSSL_PARAM_construct_end();
    kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
    kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx != NULL && EVP_KDF_derive(kctx, kek, j->kw->keklen, params) > 0)
        rc = 0;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    free(info);
    return rc;
}

static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t *zlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    int rc = -1;

    /* The peer point was checked when it was decoded (epk_load); the
     * default peer validation would add a scalar multiplication by the
     * group order, which proves nothing more for P-256. */
    if (ctx != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
        EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) > 0 &&
        EVP_PKEY_derive(ctx, z, zlen) > 0)
        rc = 0;
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

static const EVP_CIPHER *wrap_cipher(size_t keklen)
{
    if (keklen == 16)
        return EVP_aes_128_wrap();
    if (keklen == 24)
        return EVP_aes_192_wrap();
    return EVP_aes_256_wrap();
}

/* AES key unwrap (RFC 3394); its integrity check tells a wrong key. */
static int unwrap(const struct jwe *j, const uint8_t *kek, uint8_t *cek)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0, rc = -1;

    if (c == NULL)
        return -1;
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_DecryptInit_ex(c, wrap_cipher(j->kw->keklen), NULL, kek, NULL) > 0 &&
        EVP_DecryptUpdate(c, cek, &outl, j->ek, (int)j->eklen) > 0 &&
        EVP_DecryptFinal_ex(c, cek + outl, &fin) > 0 &&
        (size_t)(outl + fin) == j->enc->keylen)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* Tries one of our keys: ECDH, KDF, unwrap. 0 with the CEK in cek. */
static int key_try(const struct jwe *j, EVP_PKEY *priv, uint8_t *cek)
{
    uint8_t z[66], kek[32];
    size_t zlen = sizeof(z);
    int rc = -1;

    if (ecdh(priv, j->epk, z, &zlen) == 0 && concat_kdf(j, z, zlen, kek) == 0 &&
        unwrap(j, kek, cek) == 0)
        rc = 0;
    OPENSSL_cleanse(z, sizeof(z));
    OPENSSL_cleanse(kek, sizeof(kek));
    return rc;
}

static const EVP_CIPHER *gcm_cipher(size_t keylen)
{
    if (keylen == 16)
        return EVP_aes_128_gcm();
    if (keylen == 24)
        return EVP_aes_192_gcm();
    return EVP_aes_256_gcm();
}

static const EVP_CIPHER *cbc_cipher(size_t keylen)
{
    if (keylen == 16)
        return EVP_aes_128_cbc();
    if (keylen == 24)
        return EVP_aes_192_cbc();
    return EVP_aes_256_cbc();
}

static const EVP_MD *hs_digest(size_t keylen)
{
    if (keylen == 32)
        return EVP_sha256();
    if (keylen == 48)
        return EVP_sha384();
    return EVP_sha512();
}

/* AAD is the ASCII of the encoded protected header (RFC 7516 5.2 14). */
static int decrypt_gcm(const struct jwe *j, const uint8_t *cek, uint8_t *pt,
                       size_t *ptlen)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0, aadl = 0, rc = -1;

    if (c == NULL)
        return -1;
    if (EVP_DecryptInit_ex(c, gcm_cipher(j->enc->keylen), NULL, NULL, NULL) > 0 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)j->ivlen, NULL) > 0 &&
        EVP_DecryptInit_ex(c, NULL, NULL, cek, j->iv) > 0 &&
        EVP_DecryptUpdate(c, NULL, &aadl, (const uint8_t *)j->part[0].p,
                          (int)j->part[0].len) > 0 &&
        EVP_DecryptUpdate(c, pt, &outl, j->ct, (int)j->ctlen) > 0 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, (int)j->taglen, j->tag) > 0 &&
        EVP_DecryptFinal_ex(c, pt + outl, &fin) > 0) {
        *ptlen = (size_t)(outl + fin);
        rc = 0;
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* RFC 7518 5.2.2.1: HMAC(MAC_KEY, AAD || IV || C || AL), cut to half. */
static int cbc_hs_tag(const struct jwe *j, const uint8_t *cek, const uint8_t *ct,
                      size_t ctlen, uint8_t *tag)
{
    size_t half = j->enc->keylen / 2, aadlen = j->part[0].len;
    size_t maclen = aadlen + j->ivlen + ctlen + 8;
    uint8_t *macin = malloc(maclen), *p, md[EVP_MAX_MD_SIZE];
    uint64_t al = (uint64_t)aadlen * 8;
    unsigned int mdlen = 0;
    int i, rc = -1;

    if (macin == NULL)
        return -1;
    p = macin;
    memcpy(p, j->part[0].p, aadlen);
    p += aadlen;
    memcpy(p, j->iv, j->ivlen);
    p += j->ivlen;
    memcpy(p, ct, ctlen);
    p += ctlen;
    for (i = 7; i >= 0; i--)
        *p++ = (uint8_t)(al >> (8 * i));
    if (HMAC(hs_digest(j->enc->keylen), cek, (int)half, macin, maclen, md,
             &mdlen) != NULL && mdlen >= half) {
        memcpy(tag, md, half);
        rc = 0;
    }
    OPENSSL_cleanse(md, sizeof(md));
    free(macin);
    return rc;
}

/* Checks the tag before decrypting anything (RFC 7518 5.2.2.2). */
static int decrypt_cbc_hs(const struct jwe *j, const uint8_t *cek, uint8_t *pt,
                          size_t *ptlen)
{
    size_t half = j->enc->keylen / 2;
    uint8_t tag[32];
    EVP_CIPHER_CTX *c = NULL;
    int outl = 0, fin = 0, rc = -1;

    if (cbc_hs_tag(j, cek, j->ct, j->ctlen, tag) != 0 ||
        CRYPTO_memcmp(tag, j->tag, half) != 0)
        return -1;
    c = EVP_CIPHER_CTX_new();
    if (c != NULL &&
        EVP_DecryptInit_ex(c, cbc_cipher(half), NULL, cek + half, j->iv) > 0 &&
        EVP_DecryptUpdate(c, pt, &outl, j->ct, (int)j->ctlen) > 0 &&
        EVP_DecryptFinal_ex(c, pt + outl, &fin) > 0) {
        *ptlen = (size_t)(outl + fin);
        rc = 0;
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* Which of our keys to try: the one named by kid, else every one. */
static int pick_keys(const struct ck_rp_keys *rp, json_t *hdr,
                     const struct ck_rp_key **keys, size_t *n)
{
    json_t *kidv = json_object_get(hdr, "kid");
    const char *kid = json_string_value(kidv);
    size_t i;

    *n = 0;
    if (kidv != NULL && kid == NULL)
        return -1;
    for (i = 0; i < rp->nenc; i++) {
        if (kid == NULL || strcmp(kid, rp->enc[i].kid) == 0)
            keys[(*n)++] = &rp->enc[i];
    }
    return *n > 0 ? 0 : -1;
}

int ck_jwe_decrypt(const struct ck_rp_keys *rp, const char *compact,
                   size_t len, uint8_t **pt, size_t *ptlen, char *reason,
                   size_t rlen)
{
    struct jwe j;
    const struct ck_rp_key *keys[CK_RP_KEYS_MAX];
    uint8_t cek[64];
    uint8_t *out = NULL;
    size_t n = 0, i, outlen = 0;
    int rc = -1, found = 0, dec;

    *pt = NULL;
    *ptlen = 0;
    memset(&j, 0, sizeof(j));
    if (rp == NULL || rp->nenc == 0) {
        ck_jose_err(reason, rlen, "no_enc_key: encrypted token but no encryption key configured");
        return -1;
    }
    if (len > CK_JOSE_MAX_INPUT) {
        ck_jose_err(reason, rlen, "too_large: token over %d bytes", CK_JOSE_MAX_INPUT);
        return -1;
    }
    if (jwe_parse(&j, compact, len, rp->enc[0].pkey, reason, rlen) != 0)
        goto out;
    if (pick_keys(rp, j.hdr, keys, &n) != 0) {
        ck_jose_err(reason, rlen, "unknown_enc_kid: no encryption key with the JWE kid");
        goto out;
    }
    for (i = 0; i < n && !found; i++)
        found = key_try(&j, keys[i]->pkey, cek) == 0;
    if (!found) {
        ck_jose_err(reason, rlen, "decrypt_failed: key unwrap failed");
        goto out;
    }
    /* CBC output is at most the ciphertext length; GCM equals it. */
    out = malloc(j.ctlen + 1);
    if (out == NULL) {
        ck_jose_err(reason, rlen, "decrypt_failed: out of memory");
        goto out;
    }
    dec = j.enc->gcm ? decrypt_gcm(&j, cek, out, &outlen)
                     : decrypt_cbc_hs(&j, cek, out, &outlen);
    if (dec != 0) {
        ck_jose_err(reason, rlen, "decrypt_failed: content authentication failed");
        goto out;
    }
    out[outlen] = '\0';
    *pt = out;
    *ptlen = outlen;
    out = NULL;
    rc = 0;
out:
    OPENSSL_cleanse(cek, sizeof(cek));
    free(out);
    jwe_clear(&j);
    return rc;
}

/* ---- Encryption: the inverse, for the benchmark and the fuzz target
 * (which need valid tokens without keeping a private key in the tree). */

static int wrap(const struct jwe *j, const uint8_t *kek, const uint8_t *cek,
                uint8_t *ek)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0, rc = -1;

    if (c == NULL)
        return -1;
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_EncryptInit_ex(c, wrap_cipher(j->kw->keklen), NULL, kek, NULL) > 0 &&
        EVP_EncryptUpdate(c, ek, &outl, cek, (int)j->enc->keylen) > 0 &&
        EVP_EncryptFinal_ex(c, ek + outl, &fin) > 0 &&
        (size_t)(outl + fin) == j->enc->keylen + 8)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

static char *epk_header(const struct jwe *j, EVP_PKEY *eph, const char *kid)
{
    uint8_t x[32], y[32];
    BIGNUM *bx = NULL, *by = NULL;
    char *ex = NULL, *ey = NULL, *text = NULL, *h64 = NULL;
    json_t *hdr = NULL;

    if (!EVP_PKEY_get_bn_param(eph, OSSL_PKEY_PARAM_EC_PUB_X, &bx) ||
        !EVP_PKEY_get_bn_param(eph, OSSL_PKEY_PARAM_EC_PUB_Y, &by) ||
        BN_bn2binpad(bx, x, 32) != 32 || BN_bn2binpad(by, y, 32) != 32)
        goto out;
    ex = ck_jose_b64enc(x, 32);
    ey = ck_jose_b64enc(y, 32);
    if (ex == NULL || ey == NULL)
        goto out;
    hdr = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "alg",
                    j->kw->name, "enc", j->enc->name, "cty", "JWT", "epk",
                    "kty", "EC", "crv", "P-256", "x", ex, "y", ey);
    if (hdr != NULL && kid != NULL)
        json_object_set_new(hdr, "kid", json_string(kid));
    text = hdr != NULL ? json_dumps(hdr, JSON_COMPACT) : NULL;
    if (text != NULL)
        h64 = ck_jose_b64enc((const uint8_t *)text, strlen(text));
out:
    BN_free(bx);
    BN_free(by);
    free(ex);
    free(ey);
    free(text);
    json_decref(hdr);
    return h64;
}

static int encrypt_content(const struct jwe *j, const uint8_t *cek,
                           const uint8_t *pt, size_t ptlen, uint8_t *ct,
                           size_t *ctlen, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    size_t half = j->enc->keylen / 2;
    int outl = 0, fin = 0, aadl = 0, rc = -1;

    if (c == NULL)
        return -1;
    if (j->enc->gcm) {
        if (EVP_EncryptInit_ex(c, gcm_cipher(j->enc->keylen), NULL, cek, j->iv) > 0 &&
            EVP_EncryptUpdate(c, NULL, &aadl, (const uint8_t *)j->part[0].p,
                              (int)j->part[0].len) > 0 &&
            EVP_EncryptUpdate(c, ct, &outl, pt, (int)ptlen) > 0 &&
            EVP_EncryptFinal_ex(c, ct + outl, &fin) > 0 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) > 0)
            rc = 0;
        *ctlen = (size_t)(outl + fin);
        EVP_CIPHER_CTX_free(c);
        return rc;
    }
    if (EVP_EncryptInit_ex(c, cbc_cipher(half), NULL, cek + half, j->iv) > 0 &&
        EVP_EncryptUpdate(c, ct, &outl, pt, (int)ptlen) > 0 &&
        EVP_EncryptFinal_ex(c, ct + outl, &fin) > 0)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    *ctlen = (size_t)(outl + fin);
    return rc;
}

static char *join5(const char *h64, const uint8_t *ek, size_t eklen,
                   const uint8_t *iv, size_t ivlen, const uint8_t *ct,
                   size_t ctlen, const uint8_t *tag, size_t taglen)
{
    char *p[4], *out = NULL;
    size_t n, i;

    p[0] = ck_jose_b64enc(ek, eklen);
    p[1] = ck_jose_b64enc(iv, ivlen);
    p[2] = ck_jose_b64enc(ct, ctlen);
    p[3] = ck_jose_b64enc(tag, taglen);
    if (p[0] != NULL && p[1] != NULL && p[2] != NULL && p[3] != NULL) {
        n = strlen(h64) + strlen(p[0]) + strlen(p[1]) + strlen(p[2]) +
            strlen(p[3]) + 5;
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n, "%s.%s.%s.%s.%s", h64, p[0], p[1], p[2], p[3]);
    }
    for (i = 0; i < 4; i++)
        free(p[i]);
    return out;
}

int ck_jwe_encrypt(EVP_PKEY *rcpt, const char *kid, const char *alg,
                   const char *enc, const uint8_t *pt, size_t ptlen,
                   char **out)
{
    struct jwe j;
    EVP_PKEY *eph = NULL;
    uint8_t z[66], kek[32], cek[64], ek[72], iv[16], tag[32], *ct = NULL;
    size_t zlen = sizeof(z), ctlen = 0;
    char *h64 = NULL;
    int rc = -1;

    *out = NULL;
    memset(&j, 0, sizeof(j));
    j.kw = find_kw(alg);
    j.enc = find_enc(enc);
    if (j.kw == NULL || j.enc == NULL || ptlen > CK_JOSE_MAX_INPUT)
        return -1;
    j.ivlen = j.enc->gcm ? 12 : 16;
    j.iv = iv;
    eph = EVP_EC_gen("P-256");
    ct = malloc(ptlen + 16);
    if (eph == NULL || ct == NULL || ecdh(eph, rcpt, z, &zlen) != 0 ||
        concat_kdf(&j, z, zlen, kek) != 0 ||
        RAND_bytes(cek, (int)j.enc->keylen) != 1 || wrap(&j, kek, cek, ek) != 0 ||
        RAND_bytes(iv, (int)j.ivlen) != 1)
        goto out;
    h64 = epk_header(&j, eph, kid);
    if (h64 == NULL)
        goto out;
    j.part[0].p = h64;
    j.part[0].len = strlen(h64);
    if (encrypt_content(&j, cek, pt, ptlen, ct, &ctlen, tag) != 0 ||
        (!j.enc->gcm && cbc_hs_tag(&j, cek, ct, ctlen, tag) != 0))
        goto out;
    *out = join5(h64, ek, j.enc->keylen + 8, iv, j.ivlen, ct, ctlen, tag,
                 j.enc->gcm ? 16 : j.enc->keylen / 2);
    rc = *out != NULL ? 0 : -1;
out:
    OPENSSL_cleanse(z, sizeof(z));
    OPENSSL_cleanse(kek, sizeof(kek));
    OPENSSL_cleanse(cek, sizeof(cek));
    EVP_PKEY_free(eph);
    free(ct);
    free(h64);
    return rc;
}
