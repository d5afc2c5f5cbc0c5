/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jose_internal.h - what the JOSE sources of liboidc share: the layout of
 * key sets, base64url helpers and the JWE decryption step. Not public.
 */
#ifndef CK_JOSE_INTERNAL_H
#define CK_JOSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ck_jose.h"

/* One provider key: the cjose key and what decides whether it may check a
 * given algorithm. */
struct ck_jwk_entry {
    cjose_jwk_t *jwk;
    char *kid;        /* NULL when the key has none */
    char *alg;        /* the key's "alg" member, NULL when absent */
    cjose_jwk_kty_t kty;
    const char *crv;  /* "P-256", "P-384", "P-521" for EC keys */
    size_t bits;      /* RSA modulus size */
};

struct ck_jwks {
    struct ck_jwk_entry *keys;
    size_t n;
};

/* One of the relying party's keys. kid is its RFC 7638 thumbprint. */
struct ck_rp_key {
    EVP_PKEY *pkey;
    cjose_jwk_t *jwk;
    char kid[48];
};

struct ck_rp_keys {
    struct ck_rp_key sig[CK_RP_KEYS_MAX];
    size_t nsig;
    struct ck_rp_key enc[CK_RP_KEYS_MAX];
    size_t nenc;
};

/* snprintf into err when err is not NULL. */
void ck_jose_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A compact serialization of exactly parts base64url parts (3 for a JWS):
 * only the URL-safe alphabet and no part of 1 mod 4 characters. cjose
 * 0.6.2.1 aborts on some malformed base64url ("AQAS2=6"), so anything
 * handed to cjose_jws_import passes this first.
 */
int ck_jose_compact_ok(const char *s, size_t len, int parts);
/* The same care for a JWK: its base64url members (n, e, x, y, k, d) are strict. */
int ck_jose_jwk_b64_ok(json_t *key);

/* base64url without padding. ck_jose_b64dec refuses any character
 * outside the URL-safe alphabet; *out is malloc'd (NUL-terminated). */
int ck_jose_b64dec(const char *in, size_t inlen, uint8_t **out,
                     size_t *outlen);
char *ck_jose_b64enc(const uint8_t *in, size_t inlen);

/* RFC 7638 thumbprint of a P-256 public key into out (>= 44 bytes). */
/* A P-256 key's parameter (x, y or the private d) as 32 big-endian bytes. */
int ck_ec_param32(EVP_PKEY *pkey, const char *name, uint8_t out[32]);
int ck_ec_thumbprint(EVP_PKEY *pkey, char *out, size_t outlen);

/*
 * Decrypts a compact JWE (ECDH-ES+A*KW) with rp's encryption keys.
 * *pt is malloc'd and NUL-terminated. reason: stable word + detail.
 */
int ck_jwe_decrypt(const struct ck_rp_keys *rp, const char *compact,
                   size_t len, uint8_t **pt, size_t *ptlen, char *reason,
                   size_t rlen);

/*
 * The inverse, for the benchmark and the fuzz target: a compact JWE of pt
 * for rcpt (P-256) with a fresh ephemeral key; *out malloc'd.
 */
int ck_jwe_encrypt(EVP_PKEY *rcpt, const char *kid, const char *alg,
                   const char *enc, const uint8_t *pt, size_t ptlen,
                   char **out);

/* The first encryption key of rp and its kid (NULL when none). */
EVP_PKEY *ck_rp_enc_key(const ck_rp_keys *rp, size_t i, const char **kid);

#endif
