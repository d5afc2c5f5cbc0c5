/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * idtoken.c - ID token validation: decrypt the JWE (when there is one),
 * verify the inner JWS with cjose under an algorithm allowlist and a key
 * whose type matches the algorithm, then check the claims of OpenID
 * Connect Core 3.1.3.7. Every rejection names a stable reason word.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "ck_idtoken.h"
#include "jose_internal.h"

static const char *const default_algs[] = { "ES256", "RS256", "PS256", NULL };

/* What key an algorithm needs. */
struct alg_req {
    const char *alg;
    cjose_jwk_kty_t kty;
    const char *crv;
};

static const struct alg_req alg_reqs[] = {
    { "ES256", CJOSE_JWK_KTY_EC, "P-256" },
    { "ES384", CJOSE_JWK_KTY_EC, "P-384" },
    { "ES512", CJOSE_JWK_KTY_EC, "P-521" },
    { "RS256", CJOSE_JWK_KTY_RSA, NULL },
    { "RS384", CJOSE_JWK_KTY_RSA, NULL },
    { "RS512", CJOSE_JWK_KTY_RSA, NULL },
    { "PS256", CJOSE_JWK_KTY_RSA, NULL },
    { "PS384", CJOSE_JWK_KTY_RSA, NULL },
    { "PS512", CJOSE_JWK_KTY_RSA, NULL },
};

#define CK_RSA_MIN_BITS 2048

static const struct alg_req *find_alg(const char *alg)
{
    size_t i;

    for (i = 0; i < sizeof(alg_reqs) / sizeof(alg_reqs[0]); i++) {
        if (strcmp(alg_reqs[i].alg, alg) == 0)
            return &alg_reqs[i];
    }
    return NULL;
}

static int alg_allowed(const char *alg, const char *const *algs)
{
    size_t i;

    for (i = 0; algs[i] != NULL; i++) {
        if (strcmp(algs[i], alg) == 0)
            return 1;
    }
    return 0;
}

static int key_fits(const struct ck_jwk_entry *e, const struct alg_req *req)
{
    if (e->kty != req->kty)
        return 0;
    if (req->crv != NULL && strcmp(e->crv, req->crv) != 0)
        return 0;
    if (e->kty == CJOSE_JWK_KTY_RSA && e->bits < CK_RSA_MIN_BITS)
        return 0;
    /* A key that names its algorithm is used for that one only. */
    return e->alg == NULL || strcmp(e->alg, req->alg) == 0;
}

static int count_dots(const char *s, size_t len)
{
    size_t i;
    int n = 0;

    for (i = 0; i < len; i++)
        n += s[i] == '.';
    return n;
}

static json_t *jws_header(const char *compact, size_t len)
{
    const char *dot = memchr(compact, '.', len);
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    json_error_t jerr;
    json_t *hdr;

    if (dot == NULL ||
        ck_jose_b64dec(compact, (size_t)(dot - compact), &raw, &rawlen) != 0)
        return NULL;
    hdr = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!json_is_object(hdr)) {
        json_decref(hdr);
        return NULL;
    }
    return hdr;
}

static int typ_ok(json_t *hdr)
{
    const char *typ = json_string_value(json_object_get(hdr, "typ"));

    return typ != NULL && (strcasecmp(typ, "JWT") == 0 ||
                           strcasecmp(typ, "application/jwt") == 0);
}

/* Checks the JWS header and picks the candidate keys. */
static ck_idt_status jws_keys(json_t *hdr, const ck_idtoken_policy *p,
                              const ck_jwks *jwks,
                              const struct ck_jwk_entry **cand, size_t *ncand,
                              char *reason, size_t rlen)
{
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    json_t *kidv = json_object_get(hdr, "kid");
    const char *kid = json_string_value(kidv);
    const struct alg_req *req;
    size_t i, named = 0;

    *ncand = 0;
    if (alg == NULL) {
        ck_jose_err(reason, rlen, "bad_alg: no alg in the JWS header");
        return CK_IDT_REJECT;
    }
    if (strcmp(alg, "none") == 0) {
        ck_jose_err(reason, rlen, "bad_alg: unsigned token (alg none)");
        return CK_IDT_REJECT;
    }
    /* An HMAC key would be the provider's public key: anyone can sign. */
    if (strncmp(alg, "HS", 2) == 0) {
        ck_jose_err(reason, rlen, "bad_alg: HMAC algorithm with a provider key");
        return CK_IDT_REJECT;
    }
    req = find_alg(alg);
    if (req == NULL || !alg_allowed(alg, p->algs != NULL ? p->algs : default_algs)) {
        ck_jose_err(reason, rlen, "bad_alg: algorithm not allowed");
        return CK_IDT_REJECT;
    }
    if (json_object_get(hdr, "crit") != NULL) {
        ck_jose_err(reason, rlen, "bad_alg: crit header not supported");
        return CK_IDT_REJECT;
    }
    /* Other provider-signed JWTs (logout+jwt, at+jwt) carry the same iss
     * and aud: their typ keeps them from passing for an ID token. */
    if (json_object_get(hdr, "typ") != NULL && !typ_ok(hdr)) {
        ck_jose_err(reason, rlen, "bad_typ: not an ID token (typ)");
        return CK_IDT_REJECT;
    }
    if (kidv != NULL && kid == NULL) {
        ck_jose_err(reason, rlen, "malformed: kid is not a string");
        return CK_IDT_REJECT;
    }
    if (jwks == NULL) {
        ck_jose_err(reason, rlen, "unknown_kid: no provider keys");
        return CK_IDT_UNKNOWN_KID;
    }
    for (i = 0; i < jwks->n; i++) {
        const struct ck_jwk_entry *e = &jwks->keys[i];

        if (kid != NULL && (e->kid == NULL || strcmp(e->kid, kid) != 0))
            continue;
        named++;
        if (key_fits(e, req))
            cand[(*ncand)++] = e;
    }
    /* A provider that publishes keys without kid may still name one in
     * its tokens: those keys are the provider's all the same. */
    for (i = 0; kid != NULL && named == 0 && i < jwks->n; i++) {
        if (jwks->keys[i].kid == NULL && key_fits(&jwks->keys[i], req))
            cand[(*ncand)++] = &jwks->keys[i];
    }
    if (kid != NULL && named == 0 && *ncand == 0) {
        ck_jose_err(reason, rlen, "unknown_kid: kid not in the provider's keys");
        return CK_IDT_UNKNOWN_KID;
    }
    if (*ncand == 0) {
        ck_jose_err(reason, rlen, "bad_key: no provider key of the type alg needs");
        return CK_IDT_REJECT;
    }
    return CK_IDT_OK;
}

static ck_idt_status jws_verify(const char *compact, size_t len,
                                const ck_idtoken_policy *p, const ck_jwks *jwks,
                                json_t **claims, char *reason, size_t rlen)
{
    const struct ck_jwk_entry **cand = NULL;
    json_t *hdr = NULL;
    cjose_jws_t *jws = NULL;
    uint8_t *pt = NULL;
    size_t ncand = 0, ptlen = 0, i;
    cjose_err cerr;
    json_error_t jerr;
    ck_idt_status st = CK_IDT_REJECT;
    int ok = 0;

    *claims = NULL;
    hdr = jws_header(compact, len);
    if (hdr == NULL) {
        ck_jose_err(reason, rlen, "malformed: JWS header");
        goto out;
    }
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    cand = calloc(jwks != NULL && jwks->n > 0 ? jwks->n : 1, sizeof(*cand));
    if (cand == NULL) {
        ck_jose_err(reason, rlen, "malformed: out of memory");
        goto out;
    }
    st = jws_keys(hdr, p, jwks, cand, &ncand, reason, rlen);
    if (st != CK_IDT_OK)
        goto out;
    st = CK_IDT_REJECT;
    jws = ck_jose_compact_ok(compact, len, 3) ? cjose_jws_import(compact, len, &cerr) : NULL;
    if (jws == NULL) {
        ck_jose_err(reason, rlen, "malformed: not a compact JWS");
        goto out;
    }
    for (i = 0; i < ncand && !ok; i++)
        ok = cjose_jws_verify(jws, cand[i]->jwk, &cerr);
    if (!ok) {
        ck_jose_err(reason, rlen, "bad_signature: JWS signature does not verify");
        goto out;
    }
    if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &cerr)) {
        ck_jose_err(reason, rlen, "malformed: JWS payload");
        goto out;
    }
    *claims = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(*claims)) {
        json_decref(*claims);
        *claims = NULL;
        ck_jose_err(reason, rlen, "malformed: claims are not a JSON object");
        goto out;
    }
    st = CK_IDT_OK;
out:
    if (jws != NULL)
        cjose_jws_release(jws);
    json_decref(hdr);
    free(cand);
    return st;
}

static int str_eq_ct(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    /* The length of the expected nonce is no secret. */
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

/* aud holds the client id; with several audiences azp must name us. */
static int check_aud(json_t *claims, const char *client_id, char *reason,
                     size_t rlen)
{
    json_t *aud = json_object_get(claims, "aud"), *v;
    json_t *azp = json_object_get(claims, "azp");
    size_t i, n = 0;
    int found = 0;

    if (json_is_string(aud)) {
        n = 1;
        found = strcmp(json_string_value(aud), client_id) == 0;
    } else if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v)) {
                ck_jose_err(reason, rlen, "bad_aud: aud holds a non-string");
                return -1;
            }
            n++;
            found |= strcmp(json_string_value(v), client_id) == 0;
        }
    } else {
        ck_jose_err(reason, rlen, "bad_aud: aud missing or not a string or array");
        return -1;
    }
    if (!found) {
        ck_jose_err(reason, rlen, "bad_aud: client id not in aud");
        return -1;
    }
    if (n > 1 && azp == NULL) {
        ck_jose_err(reason, rlen, "no_azp: several audiences and no azp");
        return -1;
    }
    if (azp != NULL && (!json_is_string(azp) ||
                        strcmp(json_string_value(azp), client_id) != 0)) {
        ck_jose_err(reason, rlen, "bad_azp: azp is not the client id");
        return -1;
    }
    return 0;
}

/* Times may be integers or (as some providers send) fractions. */
static int claim_time(json_t *claims, const char *name, double *t)
{
    json_t *v = json_object_get(claims, name);

    if (!json_is_number(v))
        return -1;
    *t = json_number_value(v);
    return 0;
}

static int check_times(json_t *claims, const ck_idtoken_policy *p, char *reason,
                       size_t rlen)
{
    double skew = p->skew == 0 ? CK_IDT_DEFAULT_SKEW : (p->skew < 0 ? 0 : p->skew);
    double now = (double)p->now, exp, iat, nbf;

    if (claim_time(claims, "exp", &exp) != 0) {
        ck_jose_err(reason, rlen, "no_exp: exp missing or not a number");
        return -1;
    }
    if (exp <= now - skew) {
        ck_jose_err(reason, rlen, "expired: exp is in the past");
        return -1;
    }
    if (claim_time(claims, "iat", &iat) != 0) {
        ck_jose_err(reason, rlen, "no_iat: iat missing or not a number");
        return -1;
    }
    if (iat > now + skew) {
        ck_jose_err(reason, rlen, "bad_iat: issued in the future");
        return -1;
    }
    if (json_object_get(claims, "nbf") != NULL &&
        (claim_time(claims, "nbf", &nbf) != 0 || nbf > now + skew)) {
        ck_jose_err(reason, rlen, "bad_nbf: not valid yet");
        return -1;
    }
    return 0;
}

static int check_claims(json_t *claims, const ck_idtoken_policy *p,
                        char *reason, size_t rlen)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const char *nonce = json_string_value(json_object_get(claims, "nonce"));

    if (iss == NULL || strcmp(iss, p->issuer) != 0) {
        ck_jose_err(reason, rlen, "bad_iss: issuer is not the configured one");
        return -1;
    }
    if (check_aud(claims, p->client_id, reason, rlen) != 0)
        return -1;
    if (check_times(claims, p, reason, rlen) != 0)
        return -1;
    if (p->nonce != NULL && nonce == NULL) {
        ck_jose_err(reason, rlen, "no_nonce: nonce missing");
        return -1;
    }
    if (p->nonce != NULL && !str_eq_ct(nonce, p->nonce)) {
        ck_jose_err(reason, rlen, "bad_nonce: nonce does not match");
        return -1;
    }
    if (sub == NULL || sub[0] == '\0') {
        ck_jose_err(reason, rlen, "no_sub: sub missing or empty");
        return -1;
    }
    return 0;
}

ck_idt_status ck_idtoken_verify(const char *compact, size_t len,
                                const ck_idtoken_policy *p,
                                const ck_jwks *provider, const ck_rp_keys *rp,
                                json_t **claims_out, char *reason, size_t rlen)
{
    uint8_t *inner = NULL;
    size_t innerlen = 0;
    json_t *claims = NULL;
    ck_idt_status st = CK_IDT_REJECT;
    int dots;

    if (claims_out != NULL)
        *claims_out = NULL;
    if (reason != NULL && rlen > 0)
        reason[0] = '\0';
    if (p == NULL || p->issuer == NULL || p->client_id == NULL || claims_out == NULL) {
        ck_jose_err(reason, rlen, "bad_policy: issuer and client id are required");
        return CK_IDT_REJECT;
    }
    if (compact == NULL || len == 0 || len > CK_JOSE_MAX_INPUT) {
        ck_jose_err(reason, rlen, "too_large: token empty or over %d bytes",
                    CK_JOSE_MAX_INPUT);
        return CK_IDT_REJECT;
    }
    if (memchr(compact, '\0', len) != NULL) {
        ck_jose_err(reason, rlen, "malformed: NUL in token");
        return CK_IDT_REJECT;
    }
    dots = count_dots(compact, len);
    if (dots == 4) {
        if (ck_jwe_decrypt(rp, compact, len, &inner, &innerlen, reason, rlen) != 0)
            goto out;
        compact = (const char *)inner;
        len = innerlen;
        if (count_dots(compact, len) != 2 || memchr(compact, '\0', len) != NULL) {
            ck_jose_err(reason, rlen, "malformed: JWE content is not a compact JWS");
            goto out;
        }
    } else if (dots == 2) {
        if (p->require_encryption) {
            ck_jose_err(reason, rlen, "not_encrypted: provider must encrypt ID tokens");
            goto out;
        }
    } else {
        ck_jose_err(reason, rlen, "malformed: neither a compact JWS nor JWE");
        goto out;
    }
    st = jws_verify(compact, len, p, provider, &claims, reason, rlen);
    if (st == CK_IDT_OK && check_claims(claims, p, reason, rlen) != 0)
        st = CK_IDT_REJECT;
    if (st == CK_IDT_OK) {
        *claims_out = claims;
        claims = NULL;
    }
out:
    json_decref(claims);
    if (inner != NULL) {
        OPENSSL_cleanse(inner, innerlen);
        free(inner);
    }
    return st;
}
