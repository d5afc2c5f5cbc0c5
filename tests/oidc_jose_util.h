/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * oidc_jose_util.h - what the JOSE tests build at test time: keys, JWKS
 * documents, JWS and JWE tokens. The JWE side (ECDH-ES+A*KW, Concat KDF
 * as a plain SHA-256 round, AES key wrap, content encryption) is written
 * here independently of oidc/jose_jwe.c, so that a shared mistake is less
 * likely to pass unnoticed.
 */
#ifndef OIDC_JOSE_UTIL_H
#define OIDC_JOSE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#define T_NOW 1800000000LL
#define T_ISS "https://idp.example.test"
#define T_CLIENT "checkup-client"
#define T_NONCE "n-0S6_WzA2Mj-ABCDEFGHIJKLMNOP"

/* A temporary directory (mkdtemp) removed, with its files, by t_rmdir. */
char *t_tmpdir(void);
void t_rmdir(char *dir);
char *t_path(const char *dir, const char *name);

/* Provider keys, generated now. */
cjose_jwk_t *t_ec_key(const char *kid, cjose_jwk_ec_curve crv);
cjose_jwk_t *t_rsa_key(const char *kid, size_t bits);
/* {"keys":[...]} of the public halves; NULL-terminated list; kid_off
 * drops the kid member of every key. Returns malloc'd JSON. */
char *t_jwks(cjose_jwk_t *const *keys, int kid_off);

/* Standard good claims for the T_ constants; the caller edits them. */
json_t *t_claims(void);
/* Compact JWS of claims with alg/kid (kid NULL = none). malloc'd. */
char *t_jws(cjose_jwk_t *key, const char *alg, const char *kid, json_t *claims);
/* Compact JWS built by hand: any header, any signature bytes. */
char *t_jws_raw(const char *header_json, const char *payload_json,
                const uint8_t *sig, size_t siglen);

/* Compact JWE of inner for the recipient's P-256 key. extra: JSON object
 * text merged into the header, or NULL. kid NULL = no kid. */
char *t_jwe(const char *inner, const char *alg, const char *enc,
            EVP_PKEY *rcpt, const char *kid, const char *extra);

/* Reads a PEM private key. */
EVP_PKEY *t_read_pem(const char *path);
/* RFC 7638 thumbprint of an EC P-256 public key, computed here. */
char *t_thumbprint(EVP_PKEY *pkey);

char *t_b64url(const uint8_t *in, size_t len);
uint8_t *t_unb64url(const char *in, size_t len, size_t *outlen);

#endif
