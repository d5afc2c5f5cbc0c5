/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_jose.h - JOSE for the OIDC client: provider key sets (JWKS), the
 * relying party's own EC P-256 keys (signing and encryption, with
 * rollover), private_key_jwt client assertions and DPoP proofs.
 *
 * Functions return 0 on success and -1 on failure with a short reason in
 * err; a reason never contains key material or token content.
 */
#ifndef CK_JOSE_H
#define CK_JOSE_H

#include <stddef.h>
#include <stdint.h>

/* Largest JWKS, JWS or JWE accepted; larger input is refused unread. */
#define CK_JOSE_MAX_INPUT (64 * 1024)

/* A provider's key set, parsed. */
typedef struct ck_jwks ck_jwks;

/*
 * Parses a JWKS document. Keys of an unknown kty, or that cannot be
 * parsed, are skipped; a set with no usable key is an error.
 */
int ck_jwks_parse(const char *json, size_t len, ck_jwks **out, char *err,
                  size_t errlen);
/* 1 when the set holds a key with this kid, else 0. */
int ck_jwks_has_kid(const ck_jwks *k, const char *kid);
/* Number of usable keys in the set. */
size_t ck_jwks_count(const ck_jwks *k);
void ck_jwks_free(ck_jwks *k);

/* The relying party's own EC P-256 keys: sig and enc, up to 2 each. */
typedef struct ck_rp_keys ck_rp_keys;

#define CK_RP_KEYS_MAX 2

/*
 * Loads PEM private keys (EC P-256 only). The first signing key signs;
 * every encryption key may decrypt. Files readable or writable by group
 * or others are refused. kid = RFC 7638 thumbprint of each public key.
 * nsig may be 0 (no private_key_jwt / DPoP) and nenc may be 0 (no JWE).
 */
int ck_rp_keys_load(const char *const *sig_pem_files, size_t nsig,
                    const char *const *enc_pem_files, size_t nenc,
                    ck_rp_keys **out, char *err, size_t errlen);
/* Public JWKS JSON of every key ("use" sig / enc), never a private part;
 * free() it. NULL on allocation failure. */
char *ck_rp_keys_jwks(const ck_rp_keys *k);
void ck_rp_keys_free(ck_rp_keys *k);

/* Writes a new P-256 private key as PEM to path, mode 0600, refusing to
 * overwrite an existing file (for `checkup keys`). */
int ck_rp_key_generate(const char *path, char *err, size_t errlen);

/*
 * private_key_jwt client assertion (RFC 7523): ES256 with the first
 * signing key, iss = sub = client_id, aud = audience, iat = now,
 * exp = now + 120, a random unique jti. *out is a compact JWS; free().
 */
int ck_client_assertion(const ck_rp_keys *k, const char *client_id,
                        const char *audience, int64_t now, char **out,
                        char *err, size_t errlen);

/*
 * DPoP proof (RFC 9449): ES256 with the first signing key, whose public
 * jwk is in the header, typ dpop+jwt; claims htm, htu, iat = now, a
 * random jti, ath = b64url(SHA-256(access_token)) when access_token is
 * not NULL and nonce when nonce is not NULL. *out: compact JWS; free().
 */
int ck_dpop_proof(const ck_rp_keys *k, const char *htm, const char *htu,
                  const char *access_token, const char *nonce, int64_t now,
                  char **out, char *err, size_t errlen);
/* RFC 7638 thumbprint (b64url SHA-256) of the DPoP key, for dpop_jkt;
 * NULL without a signing key. Owned by k. */
const char *ck_dpop_jkt(const ck_rp_keys *k);

#endif
