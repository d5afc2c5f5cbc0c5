/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_jose.c - the JOSE half of liboidc: ID token verification (JWE and
 * JWS parsing, key choice, claim checks), JWKS parsing and the CorpPass
 * claim mapping. The first byte of an input picks what it feeds:
 *
 *   T<compact token>    ck_idtoken_verify against keys made at start-up
 *   K<JWKS JSON>        ck_jwks_parse
 *   C<claims JSON>      ck_identity_from_claims, generic and CorpPass
 *   S<m><claims JSON>   the claims signed (ES256) and encrypted (key wrap
 *                       and enc chosen by m) with the start-up keys, then
 *                       verified: reaches the claim checks past the crypto
 *
 * Keys are generated when the process starts, so no private key sits in
 * the corpus. Properties: an accepted token's claims hold the policy's
 * iss, a non-empty sub and the nonce; a rejection always has a reason and
 * no claims; a failed identity mapping leaves the identity number empty.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "ck_idtoken.h"
#include "fuzz.h"
#include "jose_internal.h"

#define FZ_NOW 1800000000
#define FZ_ISS "https://idp.fuzz.test"
#define FZ_CLIENT "fuzz-client"
#define FZ_NONCE "fuzz-nonce-0123456789"

struct keys {
    cjose_jwk_t *sig;
    ck_jwks *jwks;
    ck_rp_keys *rp;
};

static struct keys *keys(void)
{
    static struct keys k;
    static int done;
    char path[4200], err[256], *pub = NULL, doc[4096];
    const char *enc[1] = { path };
    cjose_err cerr;

    if (done)
        return &k;
    k.sig = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    if (k.sig == NULL || !cjose_jwk_set_kid(k.sig, "fz-es", 5, &cerr))
        ck_fuzz_fail("cannot make the provider key");
    pub = cjose_jwk_to_json(k.sig, false, &cerr);
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", pub != NULL ? pub : "");
    free(pub);
    if (ck_jwks_parse(doc, strlen(doc), &k.jwks, err, sizeof(err)) != 0)
        ck_fuzz_fail("provider jwks: %s", err);
    snprintf(path, sizeof(path), "%s/jose-enc.pem", ck_fuzz_tmpdir());
    remove(path);
    if (ck_rp_key_generate(path, err, sizeof(err)) != 0 ||
        ck_rp_keys_load(NULL, 0, enc, 1, &k.rp, err, sizeof(err)) != 0)
        ck_fuzz_fail("rp key: %s", err);
    remove(path);
    done = 1;
    return &k;
}

static ck_idtoken_policy policy(void)
{
    ck_idtoken_policy p;

    memset(&p, 0, sizeof(p));
    p.issuer = FZ_ISS;
    p.client_id = FZ_CLIENT;
    p.nonce = FZ_NONCE;
    p.now = FZ_NOW;
    return p;
}

static void verify(const char *tok, size_t len)
{
    struct keys *k = keys();
    ck_idtoken_policy p = policy();
    json_t *claims = NULL;
    char reason[256];
    const char *s;
    ck_idt_status st;

    st = ck_idtoken_verify(tok, len, &p, k->jwks, k->rp, &claims, reason,
                           sizeof(reason));
    if (st != CK_IDT_OK) {
        if (claims != NULL || reason[0] == '\0')
            ck_fuzz_fail("a rejection without a reason, or with claims");
        return;
    }
    s = json_string_value(json_object_get(claims, "iss"));
    if (s == NULL || strcmp(s, FZ_ISS) != 0)
        ck_fuzz_fail("accepted a token of another issuer");
    s = json_string_value(json_object_get(claims, "sub"));
    if (s == NULL || s[0] == '\0')
        ck_fuzz_fail("accepted a token without sub");
    s = json_string_value(json_object_get(claims, "nonce"));
    if (s == NULL || strcmp(s, FZ_NONCE) != 0)
        ck_fuzz_fail("accepted a token with another nonce");
    json_decref(claims);
}

static void jwks(const uint8_t *data, size_t size)
{
    ck_jwks *k = NULL;
    char err[256];

    if (ck_jwks_parse((const char *)data, size, &k, err, sizeof(err)) == 0) {
        if (ck_jwks_count(k) == 0)
            ck_fuzz_fail("an empty key set parsed");
        (void)ck_jwks_has_kid(k, "fz-es");
        ck_jwks_free(k);
    } else if (k != NULL) {
        ck_fuzz_fail("a failed parse returned a key set");
    }
}

static void claims(const uint8_t *data, size_t size)
{
    json_t *c = json_loadb((const char *)data, size, 0, NULL);
    ck_identity id;
    char err[256];
    int corppass;

    if (c == NULL)
        return;
    for (corppass = 0; corppass < 2; corppass++) {
        if (ck_identity_from_claims(c, NULL, corppass, &id, err, sizeof(err)) == 0) {
            if (id.sub[0] == '\0' || id.user_id[0] == '\0')
                ck_fuzz_fail("an identity without sub or user id");
        } else if (id.cp_nric[0] != '\0') {
            ck_fuzz_fail("a failed mapping kept an identity number");
        }
    }
    json_decref(c);
}

static void signed_claims(const uint8_t *data, size_t size)
{
    static const char *const kw[] = { "ECDH-ES+A128KW", "ECDH-ES+A192KW",
                                      "ECDH-ES+A256KW" };
    static const char *const enc[] = { "A128GCM", "A256GCM", "A128CBC-HS256",
                                       "A256CBC-HS512" };
    struct keys *k = keys();
    cjose_header_t *h = NULL;
    cjose_jws_t *jws = NULL;
    const char *ser = NULL, *kid = NULL;
    char *tok = NULL;
    EVP_PKEY *pk = ck_rp_enc_key(k->rp, 0, &kid);
    cjose_err cerr;
    uint8_t m;

    if (size < 1)
        return;
    m = data[0];
    h = cjose_header_new(&cerr);
    if (h == NULL || !cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &cerr) ||
        ((m & 0x80) == 0 && !cjose_header_set(h, CJOSE_HDR_KID, "fz-es", &cerr)))
        ck_fuzz_fail("cjose header");
    jws = cjose_jws_sign(k->sig, h, data + 1, size - 1, &cerr);
    if (jws == NULL || !cjose_jws_export(jws, &ser, &cerr))
        goto out;
    if (m & 0x40) {
        verify(ser, strlen(ser));
        goto out;
    }
    if (ck_jwe_encrypt(pk, (m & 0x20) ? NULL : kid, kw[m % 3], enc[(m / 3) % 4],
                       (const uint8_t *)ser, strlen(ser), &tok) != 0)
        goto out;
    verify(tok, strlen(tok));
out:
    free(tok);
    if (jws != NULL)
        cjose_jws_release(jws);
    if (h != NULL)
        cjose_header_release(h);
}

CK_FUZZ_TARGET(jose)
{
    if (size < 1)
        return 0;
    switch (data[0]) {
    case 'T':
        verify((const char *)data + 1, size - 1);
        break;
    case 'K':
        jwks(data + 1, size - 1);
        break;
    case 'C':
        claims(data + 1, size - 1);
        break;
    case 'S':
        signed_claims(data + 1, size - 1);
        break;
    default:
        break;
    }
    return 0;
}
