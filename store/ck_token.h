/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_token.h - checkup session tokens: compact JWS, HS256, with a kid.
 *
 * What a client holds is header.payload.signature, base64url without
 * padding, where the header is {"alg":"HS256","typ":"JWT","kid":"<kid>"}
 * and the payload carries only {"sid":"<session id>","iat":n,"exp":n}.
 * The signature is checked before anything else is believed, so a forged
 * token never costs a store round trip.
 *
 * Key ring file: one key per line, "kid base64url-secret", '#' comments
 * and blank lines ignored. The first key signs; every key verifies (key
 * rotation: put the new key first, drop the old one after a lifetime).
 * Secrets are at least 32 bytes. A ring readable or writable by group or
 * others is refused.
 */
#ifndef CK_TOKEN_H
#define CK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "ck_store.h"

#define CK_KID_MAX          65      /* with NUL; [A-Za-z0-9._-] */
#define CK_KEY_MIN_BYTES    32
#define CK_KEY_MAX_BYTES    128
#define CK_TOKEN_MAX        1024    /* anything longer is refused unread */
#ifdef CK_SYSCONFDIR
#define CK_DEFAULT_KEY_FILE CK_SYSCONFDIR "/checkup/token.keys"
#endif

typedef enum ck_token_status {
    CK_TOKEN_OK = 0,
    CK_TOKEN_MALFORMED,     /* not three base64url parts, bad JSON, bad claims */
    CK_TOKEN_BAD_ALG,       /* alg is not HS256 (none, RS256, ...) */
    CK_TOKEN_UNKNOWN_KID,   /* no key with that kid in the ring */
    CK_TOKEN_BAD_SIGNATURE,
    CK_TOKEN_EXPIRED,       /* exp <= now: the session's lifetime is over */
    CK_TOKEN_ERR_INTERNAL   /* OpenSSL or allocation failure */
} ck_token_status;

const char *ck_token_status_str(ck_token_status st);

typedef struct ck_keyring ck_keyring;

/*
 * Loads a key ring. check_mode refuses a file that group or others can
 * read or write. Returns 0, or -1 with a one-line reason (never a secret)
 * in err.
 */
int ck_keyring_load(const char *path, int check_mode, ck_keyring **out,
                    char *err, size_t errlen);
void ck_keyring_free(ck_keyring *ring);
size_t ck_keyring_count(const ck_keyring *ring);
/* The kid of the signing key (the first one). */
const char *ck_keyring_signing_kid(const ck_keyring *ring);

/*
 * Adds a fresh random 32-byte key with a new kid in front of the keys in
 * path (creating it), rewritten atomically with mode 0600. The new kid is
 * copied to kid_out.
 */
int ck_keyring_generate(const char *path, char kid_out[CK_KID_MAX],
                        char *err, size_t errlen);

/* Signs {sid, iat, exp} with the first key. *out is freed with free(). */
ck_token_status ck_token_sign(const ck_keyring *ring, const char *sid,
                              int64_t iat, int64_t exp, char **out);

/*
 * Verifies token (len bytes, need not be NUL-terminated; NUL bytes make it
 * malformed) at time now: shape, alg = HS256, known kid, signature in
 * constant time, then the claims. On success the session id goes to sid
 * and the claims to iat/exp (either may be NULL). Tokens are signed with
 * exp = the session's deadline, so CK_TOKEN_EXPIRED (a good signature, exp
 * past) means the session reached its absolute lifetime; sid is then set
 * too, so that the caller can name the session that ended.
 */
ck_token_status ck_token_verify(const ck_keyring *ring, const char *token, size_t len,
                                int64_t now, char sid[CK_SID_LEN],
                                int64_t *iat, int64_t *exp);

/* Quick shape test: could this input be a token rather than a password? */
int ck_token_looks_like(const char *s);

#endif
