/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_idtoken.h - ID token validation (JWE around JWS, or a bare JWS) and
 * the mapping of its claims to the identity a session stores, including
 * CorpPass claims.
 */
#ifndef CK_IDTOKEN_H
#define CK_IDTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ck_jose.h"

/* Clock skew in seconds when a policy leaves skew at 0; a negative skew
 * means none at all. */
#define CK_IDT_DEFAULT_SKEW 60

typedef struct ck_idtoken_policy {
    const char *issuer;     /* iss must equal this */
    const char *client_id;  /* aud must contain this; azp equal when set */
    const char *nonce;      /* nonce must equal this (constant time) */
    int64_t now;            /* seconds since the epoch */
    int skew;               /* seconds; 0 = CK_IDT_DEFAULT_SKEW, < 0 = none */
    const char *const *algs; /* NULL-terminated allowlist;
                                NULL = ES256, RS256, PS256 */
    int require_encryption; /* a bare JWS is rejected */
} ck_idtoken_policy;

typedef enum {
    CK_IDT_OK,
    CK_IDT_UNKNOWN_KID, /* caller refetches the JWKS once and retries */
    CK_IDT_REJECT
} ck_idt_status;

/*
 * Decrypts (when a JWE, with rp's enc keys) and verifies the ID token
 * against the provider's keys and the policy. On CK_IDT_OK *claims_out
 * holds the claims (json_decref it). Otherwise reason gets a short stable
 * word and a detail, e.g. "bad_aud: client id not in aud", meant for the
 * audit log; it never contains token content.
 */
ck_idt_status ck_idtoken_verify(const char *compact, size_t len,
                                const ck_idtoken_policy *p,
                                const ck_jwks *provider, const ck_rp_keys *rp,
                                json_t **claims_out, char *reason,
                                size_t rlen);

/* Which claim gives each identity field; NULL members take the default. */
typedef struct ck_claim_map {
    const char *user_id;   /* default "sub" */
    const char *email;     /* default "email" */
    const char *role;      /* default "role" */
    const char *clinic_id; /* default "clinic_id" */
} ck_claim_map;

typedef struct ck_identity {
    char sub[256];
    char user_id[256];
    char email[255];
    char role[64];
    char clinic_id[64];
    char idp_sid[256];
    /* CorpPass */
    char cp_nric[16]; /* never log it */
    char cp_uuid[64];
    char cp_cpuid[64];
    char cp_country[8];
    char cp_entity_id[64];
    char cp_entity_type[16];
    char cp_role[64];
    int is_corppass;
} ck_identity;

/*
 * Fills out from verified claims. map may be NULL (defaults). With
 * corppass set, the legacy sub "s=..,uuid=..,u=..,c=.." or the v2/FAPI
 * claims (sub = entity id, act, sub_account) and userInfo / entityInfo
 * fill the cp_ fields. A missing sub, a value too long for its field or
 * a malformed CorpPass sub is an error.
 */
int ck_identity_from_claims(json_t *claims, const ck_claim_map *map,
                            int corppass, ck_identity *out, char *err,
                            size_t errlen);

#endif
