/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpkeys.c - the relying party's own EC P-256 keys: loading them from
 * files only the owner can read, publishing their public halves as a
 * JWKS, and signing what a client signs (private_key_jwt assertions and
 * DPoP proofs) with cjose.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "jose_internal.h"
#include "ck_secfile.h"

/* A PEM EC private key is a few hundred bytes. */
#define CK_RP_KEY_MAX_FILE 16384
/* RFC 7523 / CorpPass: a client assertion lives at most two minutes. */
#define CK_ASSERTION_LIFETIME 120

/* The same key as cjose sees it, for signing with cjose_jws_sign. */
static cjose_jwk_t *jwk_from_pkey(EVP_PKEY *pkey, const char *kid)
{
    uint8_t d[32], x[32], y[32];
    cjose_jwk_ec_keyspec spec;
    cjose_jwk_t *jwk = NULL;
    cjose_err cerr;

    if (ck_ec_param32(pkey, OSSL_PKEY_PARAM_PRIV_KEY, d) != 0 ||
        ck_ec_param32(pkey, OSSL_PKEY_PARAM_EC_PUB_X, x) != 0 ||
        ck_ec_param32(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, y) != 0)
        goto out;
    memset(&spec, 0, sizeof(spec));
    spec.crv = CJOSE_JWK_EC_P_256;
    spec.d = d;
    spec.dlen = sizeof(d);
    spec.x = x;
    spec.xlen = sizeof(x);
    spec.y = y;
    spec.ylen = sizeof(y);
    jwk = cjose_jwk_create_EC_spec(&spec, &cerr);
    if (jwk != NULL && !cjose_jwk_set_kid(jwk, kid, strlen(kid), &cerr)) {
        cjose_jwk_release(jwk);
        jwk = NULL;
    }
out:
    OPENSSL_cleanse(d, sizeof(d));
    return jwk;
}

static int is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t glen = 0;

    if (!EVP_PKEY_is_a(pkey, "EC"))
        return 0;
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &glen))
        return 0;
    return strcmp(group, "prime256v1") == 0;
}

/* An encrypted PEM fails instead of prompting on a terminal (OpenSSL's
 * default when no callback is given), which would hang a daemon. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int key_load(const char *path, struct ck_rp_key *key, char *err,
                    size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    char ferr[256];
    int rc = -1;

    if (ck_secfile_read(path, 1, CK_RP_KEY_MAX_FILE, &data, &len, ferr,
                        sizeof(ferr)) != 0) {
        ck_jose_err(err, errlen, "rp key: %s", ferr);
        return -1;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    key->pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
    if (key->pkey == NULL || !is_p256(key->pkey)) {
        ck_jose_err(err, errlen, "rp key %s: not a PEM EC P-256 private key", path);
        goto out;
    }
    if (ck_ec_thumbprint(key->pkey, key->kid, sizeof(key->kid)) != 0) {
        ck_jose_err(err, errlen, "rp key %s: cannot compute its thumbprint", path);
        goto out;
    }
    key->jwk = jwk_from_pkey(key->pkey, key->kid);
    if (key->jwk == NULL) {
        ck_jose_err(err, errlen, "rp key %s: cjose cannot import it", path);
        goto out;
    }
    rc = 0;
out:
    BIO_free(bio);
    ck_secfile_free(data, len);
    return rc;
}

static void key_clear(struct ck_rp_key *key)
{
    EVP_PKEY_free(key->pkey);
    if (key->jwk != NULL)
        cjose_jwk_release(key->jwk);
    OPENSSL_cleanse(key, sizeof(*key));
}

int ck_rp_keys_load(const char *const *sig_pem_files, size_t nsig,
                    const char *const *enc_pem_files, size_t nenc,
                    ck_rp_keys **out, char *err, size_t errlen)
{
    ck_rp_keys *k;
    size_t i;

    *out = NULL;
    if (nsig > CK_RP_KEYS_MAX || nenc > CK_RP_KEYS_MAX) {
        ck_jose_err(err, errlen, "rp keys: at most %d of each use", CK_RP_KEYS_MAX);
        return -1;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        ck_jose_err(err, errlen, "rp keys: out of memory");
        return -1;
    }
    for (i = 0; i < nsig; i++) {
        if (key_load(sig_pem_files[i], &k->sig[i], err, errlen) != 0)
            goto fail;
        k->nsig++;
    }
    for (i = 0; i < nenc; i++) {
        if (key_load(enc_pem_files[i], &k->enc[i], err, errlen) != 0)
            goto fail;
        k->nenc++;
    }
    *out = k;
    return 0;
fail:
    ck_rp_keys_free(k);
    return -1;
}

void ck_rp_keys_free(ck_rp_keys *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < CK_RP_KEYS_MAX; i++) {
        key_clear(&k->sig[i]);
        key_clear(&k->enc[i]);
    }
    free(k);
}

/* The public members only, built from the coordinates rather than by
 * deleting "d" from a private export, so no private part can slip in. */
static json_t *public_jwk(const struct ck_rp_key *key, const char *use,
                          const char *alg)
{
    uint8_t x[32], y[32];
    char *bx = NULL, *by = NULL;
    json_t *o = NULL;

    if (ck_ec_param32(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, x) != 0 ||
        ck_ec_param32(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, y) != 0)
        return NULL;
    bx = ck_jose_b64enc(x, sizeof(x));
    by = ck_jose_b64enc(y, sizeof(y));
    if (bx != NULL && by != NULL)
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC",
                      "crv", "P-256", "x", bx, "y", by, "kid", key->kid,
                      "use", use, "alg", alg);
    free(bx);
    free(by);
    return o;
}

char *ck_rp_keys_jwks(const ck_rp_keys *k)
{
    json_t *keys = json_array(), *doc = NULL, *jwk;
    char *text = NULL;
    size_t i;

    if (keys == NULL || k == NULL)
        goto out;
    for (i = 0; i < k->nsig; i++) {
        jwk = public_jwk(&k->sig[i], "sig", "ES256");
        if (jwk == NULL || json_array_append_new(keys, jwk) != 0)
            goto out;
    }
    for (i = 0; i < k->nenc; i++) {
        /* The strongest wrap we accept is what a provider should pick. */
        jwk = public_jwk(&k->enc[i], "enc", "ECDH-ES+A256KW");
        if (jwk == NULL || json_array_append_new(keys, jwk) != 0)
            goto out;
    }
    doc = json_pack("{s:O}", "keys", keys);
    if (doc != NULL)
        text = json_dumps(doc, JSON_COMPACT);
out:
    json_decref(doc);
    json_decref(keys);
    return text;
}

int ck_rp_key_generate(const char *path, char *err, size_t errlen)
{
    EVP_PKEY *pkey = NULL;
    FILE *f = NULL;
    int fd, rc = -1;

    pkey = EVP_EC_gen("P-256");
    if (pkey == NULL) {
        ck_jose_err(err, errlen, "key generation failed");
        return -1;
    }
    /* O_EXCL: never replace a key that may still be published. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        ck_jose_err(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        ck_jose_err(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        goto fail;
    }
    if (!PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) ||
        fflush(f) != 0 || fsync(fileno(f)) != 0) {
        ck_jose_err(err, errlen, "%s: write failed", path);
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0) {
        ck_jose_err(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    unlink(path);
out:
    EVP_PKEY_free(pkey);
    return rc;
}

/* 128 random bits, base64url: a jti nobody can predict or repeat. */
static char *new_jti(void)
{
    uint8_t r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return NULL;
    return ck_jose_b64enc(r, sizeof(r));
}

/*
 * Signs claims with key under a protected header; *out is malloc'd. Takes
 * hdr and claims, either of which may be NULL after a failed allocation,
 * and releases both; what names the token in an error.
 */
static int sign_jws(const struct ck_rp_key *key, cjose_header_t *hdr,
                    json_t *claims, const char *what, char **out, char *err, size_t errlen)
{
    char *payload = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
    cjose_jws_t *jws = NULL;
    const char *ser = NULL;
    cjose_err cerr;
    int rc = -1;

    *out = NULL;
    if (hdr == NULL || payload == NULL) {
        ck_jose_err(err, errlen, "%s: out of memory", what);
        goto out;
    }
    jws = cjose_jws_sign(key->jwk, hdr, (const uint8_t *)payload,
                         strlen(payload), &cerr);
    if (jws == NULL || !cjose_jws_export(jws, &ser, &cerr)) {
        ck_jose_err(err, errlen, "%s: ES256 signing failed: %s", what,
                    cerr.message != NULL ? cerr.message : "cjose");
        goto out;
    }
    *out = strdup(ser);
    if (*out == NULL) {
        ck_jose_err(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (jws != NULL)
        cjose_jws_release(jws);
    free(payload);
    if (hdr != NULL)
        cjose_header_release(hdr);
    json_decref(claims);
    return rc;
}

static cjose_header_t *es256_header(const struct ck_rp_key *key, const char *typ)
{
    cjose_header_t *hdr = cjose_header_new(NULL);
    cjose_err cerr;

    if (hdr == NULL)
        return NULL;
    if (!cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &cerr) ||
        !cjose_header_set(hdr, "typ", typ, &cerr) ||
        (key != NULL && !cjose_header_set(hdr, CJOSE_HDR_KID, key->kid, &cerr))) {
        cjose_header_release(hdr);
        return NULL;
    }
    return hdr;
}

int ck_client_assertion(const ck_rp_keys *k, const char *client_id,
                        const char *audience, int64_t now, char **out,
                        char *err, size_t errlen)
{
    cjose_header_t *hdr = NULL;
    json_t *claims = NULL;
    char *jti = NULL;

    *out = NULL;
    if (k == NULL || k->nsig == 0 || client_id == NULL || audience == NULL) {
        ck_jose_err(err, errlen, "client assertion: no signing key, client id or audience");
        return -1;
    }
    jti = new_jti();
    hdr = es256_header(&k->sig[0], "JWT");
    if (jti != NULL)
        claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", client_id,
                           "sub", client_id, "aud", audience, "jti", jti,
                           "iat", (json_int_t)now,
                           "exp", (json_int_t)(now + CK_ASSERTION_LIFETIME));
    free(jti);
    return sign_jws(&k->sig[0], hdr, claims, "client assertion", out, err, errlen);
}

/* b64url(SHA-256(access token)), RFC 9449 4.2 "ath". */
static char *token_hash(const char *token)
{
    uint8_t md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)token, strlen(token), md);
    return ck_jose_b64enc(md, sizeof(md));
}

static json_t *dpop_claims(const char *htm, const char *htu,
                           const char *access_token, const char *nonce,
                           int64_t now)
{
    char *jti = new_jti(), *ath = NULL;
    json_t *claims = NULL;

    if (jti == NULL)
        return NULL;
    claims = json_pack("{s:s, s:s, s:s, s:I}", "jti", jti, "htm", htm, "htu",
                       htu, "iat", (json_int_t)now);
    free(jti);
    if (claims == NULL)
        return NULL;
    if (access_token != NULL) {
        ath = token_hash(access_token);
        if (ath == NULL || json_object_set_new(claims, "ath", json_string(ath)) != 0)
            goto fail;
        free(ath);
        ath = NULL;
    }
    if (nonce != NULL && json_object_set_new(claims, "nonce", json_string(nonce)) != 0)
        goto fail;
    return claims;
fail:
    free(ath);
    json_decref(claims);
    return NULL;
}

int ck_dpop_proof(const ck_rp_keys *k, const char *htm, const char *htu,
                  const char *access_token, const char *nonce, int64_t now,
                  char **out, char *err, size_t errlen)
{
    cjose_header_t *hdr = NULL;
    json_t *claims = NULL, *jwk = NULL;
    char *jwk_text = NULL;
    cjose_err cerr;

    *out = NULL;
    if (k == NULL || k->nsig == 0 || htm == NULL || htu == NULL) {
        ck_jose_err(err, errlen, "dpop: no signing key, method or URI");
        return -1;
    }
    /* The header carries the public key itself (RFC 9449 4.2), no kid. */
    hdr = es256_header(NULL, "dpop+jwt");
    jwk = public_jwk(&k->sig[0], "sig", "ES256");
    if (jwk != NULL) {
        json_object_del(jwk, "use");
        json_object_del(jwk, "alg");
        json_object_del(jwk, "kid");
        jwk_text = json_dumps(jwk, JSON_COMPACT);
    }
    claims = dpop_claims(htm, htu, access_token, nonce, now);
    if (hdr != NULL && (jwk_text == NULL || !cjose_header_set_raw(hdr, "jwk", jwk_text, &cerr))) {
        cjose_header_release(hdr);
        hdr = NULL;
    }
    json_decref(jwk);
    free(jwk_text);
    return sign_jws(&k->sig[0], hdr, claims, "dpop", out, err, errlen);
}

const char *ck_dpop_jkt(const ck_rp_keys *k)
{
    if (k == NULL || k->nsig == 0)
        return NULL;
    return k->sig[0].kid;
}

EVP_PKEY *ck_rp_enc_key(const ck_rp_keys *rp, size_t i, const char **kid)
{
    if (rp == NULL || i >= rp->nenc)
        return NULL;
    if (kid != NULL)
        *kid = rp->enc[i].kid;
    return rp->enc[i].pkey;
}
