/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jose_util.c - base64url, error strings and key thumbprints shared by
 * the JOSE sources.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/sha.h>

#include "ck_encode.h"
#include "jose_internal.h"

void ck_jose_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int ck_jose_compact_ok(const char *s, size_t len, int parts)
{
    size_t start = 0;
    int seen = 1;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!ck_b64url_char((unsigned char)s[i]))
                return 0;
            continue;
        }
        if ((i - start) % 4 == 1)
            return 0;
        if (i < len)
            seen++;
        start = i + 1;
    }
    return seen == parts;
}

int ck_jose_jwk_b64_ok(json_t *key)
{
    static const char *const names[] = { "n", "e", "x", "y", "k", "d" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(key, names[i]);
        uint8_t *raw = NULL;
        size_t rawlen = 0;

        if (v == NULL)
            continue;
        if (!json_is_string(v) ||
            ck_jose_b64dec(json_string_value(v), json_string_length(v), &raw, &rawlen) != 0)
            return 0;
        free(raw);
    }
    return 1;
}

int ck_jose_b64dec(const char *in, size_t inlen, uint8_t **out,
                     size_t *outlen)
{
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    cjose_err cerr;

    *out = NULL;
    *outlen = 0;
    /* cjose is lenient about padding and the standard alphabet; a JOSE
     * compact serialization allows neither. A length of 1 mod 4 cannot
     * come from any byte string. */
    if (!ck_b64url_shape_ok(in, inlen))
        return -1;
    if (inlen > 0 && !cjose_base64url_decode(in, inlen, &raw, &rawlen, &cerr))
        return -1;
    *out = malloc(rawlen + 1);
    if (*out == NULL) {
        cjose_get_dealloc()(raw);
        return -1;
    }
    if (rawlen > 0)
        memcpy(*out, raw, rawlen);
    (*out)[rawlen] = '\0';
    *outlen = rawlen;
    if (raw != NULL)
        cjose_get_dealloc()(raw);
    return 0;
}

char *ck_jose_b64enc(const uint8_t *in, size_t inlen)
{
    char *enc = NULL;
    char *copy;
    size_t enclen = 0;
    cjose_err cerr;

    if (!cjose_base64url_encode(in, inlen, &enc, &enclen, &cerr))
        return NULL;
    copy = strndup(enc, enclen);
    cjose_get_dealloc()(enc);
    return copy;
}

int ck_ec_param32(EVP_PKEY *pkey, const char *name, uint8_t out[32])
{
    BIGNUM *bn = NULL;
    int rc;

    if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
        return -1;
    rc = BN_bn2binpad(bn, out, 32) == 32 ? 0 : -1;
    BN_clear_free(bn);
    return rc;
}

int ck_ec_thumbprint(EVP_PKEY *pkey, char *out, size_t outlen)
{
    uint8_t x[32], y[32], md[SHA256_DIGEST_LENGTH];
    char *bx = NULL, *by = NULL, *t = NULL;
    char json[256];
    int rc = -1;

    if (ck_ec_param32(pkey, OSSL_PKEY_PARAM_EC_PUB_X, x) != 0 ||
        ck_ec_param32(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, y) != 0)
        goto out;
    bx = ck_jose_b64enc(x, sizeof(x));
    by = ck_jose_b64enc(y, sizeof(y));
    if (bx == NULL || by == NULL)
        goto out;
    /* RFC 7638 3.2: the required members only, in lexicographic order,
     * no whitespace. */
    snprintf(json, sizeof(json),
             "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             bx, by);
    SHA256((const unsigned char *)json, strlen(json), md);
    t = ck_jose_b64enc(md, sizeof(md));
    if (t == NULL || strlen(t) >= outlen)
        goto out;
    memcpy(out, t, strlen(t) + 1);
    rc = 0;
out:
    free(bx);
    free(by);
    free(t);
    return rc;
}
