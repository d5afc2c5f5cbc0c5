/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jose_jwks.c - a provider's key set. Keys that cannot be used to check a
 * signature (unknown kty, symmetric keys, encryption keys, keys cjose
 * cannot parse) are dropped here, so that nothing later can pick one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jose_internal.h"

/* A provider publishes a handful of keys; more is a broken document. */
#define CK_JWKS_MAX_KEYS 64

static const char *ec_curve(const char *crv)
{
    static const char *const known[] = { "P-256", "P-384", "P-521" };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (crv != NULL && strcmp(crv, known[i]) == 0)
            return known[i];
    }
    return NULL;
}

/* Bits of the RSA modulus in the JWK's "n" member (0 when unreadable). */
static size_t rsa_bits(json_t *key)
{
    const char *n = json_string_value(json_object_get(key, "n"));
    uint8_t *raw = NULL;
    size_t rawlen = 0, i = 0, bits = 0;
    int top;

    if (n == NULL || ck_jose_b64dec(n, strlen(n), &raw, &rawlen) != 0)
        return 0;
    while (i < rawlen && raw[i] == 0)
        i++;
    if (i < rawlen) {
        bits = (rawlen - i) * 8;
        for (top = 7; top >= 0 && !(raw[i] & (1u << top)); top--)
            bits--;
    }
    free(raw);
    return bits;
}

static void entry_clear(struct ck_jwk_entry *e)
{
    if (e->jwk != NULL)
        cjose_jwk_release(e->jwk);
    free(e->kid);
    free(e->alg);
    memset(e, 0, sizeof(*e));
}

/* 0: e filled; 1: key skipped; -1: out of memory. */
static int entry_from_json(json_t *key, struct ck_jwk_entry *e)
{
    const char *kty = json_string_value(json_object_get(key, "kty"));
    const char *use = json_string_value(json_object_get(key, "use"));
    const char *kid = json_string_value(json_object_get(key, "kid"));
    const char *alg = json_string_value(json_object_get(key, "alg"));
    json_t *kid_member = json_object_get(key, "kid");
    json_t *pub;
    char *text;
    cjose_err cerr;

    memset(e, 0, sizeof(*e));
    if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
        return 1;
    /* A kid that is not a string cannot be matched: skip the key. */
    if (kid_member != NULL && kid == NULL)
        return 1;
    if (!ck_jose_jwk_b64_ok(key))
        return 1;
    if (strcmp(kty, "EC") == 0) {
        e->kty = CJOSE_JWK_KTY_EC;
        e->crv = ec_curve(json_string_value(json_object_get(key, "crv")));
        if (e->crv == NULL)
            return 1;
    } else if (strcmp(kty, "RSA") == 0) {
        e->kty = CJOSE_JWK_KTY_RSA;
        e->bits = rsa_bits(key);
        if (e->bits == 0)
            return 1;
    } else {
        /* "oct" included: a provider's key never verifies an HMAC. */
        return 1;
    }
    /* Only the public members go to cjose: a "d" published by mistake
     * must not turn this into a key we could sign with. */
    pub = json_deep_copy(key);
    if (pub == NULL)
        return -1;
    json_object_del(pub, "d");
    json_object_del(pub, "p");
    json_object_del(pub, "q");
    json_object_del(pub, "dp");
    json_object_del(pub, "dq");
    json_object_del(pub, "qi");
    json_object_del(pub, "oth");
    text = json_dumps(pub, JSON_COMPACT);
    json_decref(pub);
    if (text == NULL)
        return -1;
    e->jwk = cjose_jwk_import(text, strlen(text), &cerr);
    free(text);
    if (e->jwk == NULL || cjose_jwk_get_kty(e->jwk, &cerr) != e->kty) {
        entry_clear(e);
        return 1;
    }
    if (kid != NULL)
        e->kid = strdup(kid);
    if (alg != NULL)
        e->alg = strdup(alg);
    if ((kid != NULL && e->kid == NULL) || (alg != NULL && e->alg == NULL)) {
        entry_clear(e);
        return -1;
    }
    return 0;
}

int ck_jwks_parse(const char *json, size_t len, ck_jwks **out, char *err,
                  size_t errlen)
{
    ck_jwks *k = NULL;
    json_t *doc = NULL, *keys, *key;
    json_error_t jerr;
    size_t i, nkeys;
    int rc = -1, r;

    *out = NULL;
    if (json == NULL || len == 0 || len > CK_JOSE_MAX_INPUT) {
        ck_jose_err(err, errlen, "jwks: empty or larger than %d bytes",
                    CK_JOSE_MAX_INPUT);
        return -1;
    }
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    keys = json_object_get(doc, "keys");
    if (doc == NULL || !json_is_array(keys)) {
        ck_jose_err(err, errlen, "jwks: not a JSON object with a keys array");
        goto out;
    }
    nkeys = json_array_size(keys);
    if (nkeys > CK_JWKS_MAX_KEYS) {
        ck_jose_err(err, errlen, "jwks: more than %d keys", CK_JWKS_MAX_KEYS);
        goto out;
    }
    k = calloc(1, sizeof(*k));
    if (k != NULL)
        k->keys = calloc(nkeys > 0 ? nkeys : 1, sizeof(*k->keys));
    if (k == NULL || k->keys == NULL) {
        ck_jose_err(err, errlen, "jwks: out of memory");
        goto out;
    }
    json_array_foreach(keys, i, key) {
        if (!json_is_object(key))
            continue;
        r = entry_from_json(key, &k->keys[k->n]);
        if (r < 0) {
            ck_jose_err(err, errlen, "jwks: out of memory");
            goto out;
        }
        if (r == 0)
            k->n++;
    }
    if (k->n == 0) {
        ck_jose_err(err, errlen, "jwks: no usable signing key");
        goto out;
    }
    *out = k;
    k = NULL;
    rc = 0;
out:
    ck_jwks_free(k);
    json_decref(doc);
    return rc;
}

int ck_jwks_has_kid(const ck_jwks *k, const char *kid)
{
    size_t i;

    if (k == NULL || kid == NULL)
        return 0;
    for (i = 0; i < k->n; i++) {
        if (k->keys[i].kid != NULL && strcmp(k->keys[i].kid, kid) == 0)
            return 1;
    }
    return 0;
}

size_t ck_jwks_count(const ck_jwks *k)
{
    return k == NULL ? 0 : k->n;
}

void ck_jwks_free(ck_jwks *k)
{
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->n; i++)
        entry_clear(&k->keys[i]);
    free(k->keys);
    free(k);
}
