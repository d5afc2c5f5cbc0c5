/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * oauthbearer.h - the messages of SASL OAUTHBEARER (RFC 7628) as the
 * checkup_sasl plugin reads and writes them. Pure functions (no libsasl2,
 * no store, no allocation; OpenSSL only to wipe), so the unit test and
 * the fuzz target call them as the plugin does.
 *
 * A client's first message is
 *
 *   gs2-header %x01 *(key "=" value %x01) %x01
 *
 * with gs2-header "n," or "y," then an optional "a=" saslname, then ",".
 * The parser is strict: "p=" (channel binding, which OAUTHBEARER does not
 * offer) is refused; the saslname is UTF-8 with "," and "=" written "=2C"
 * and "=3D" and no other '='; keys are letters, values are printable
 * ASCII, space, tab, CR or LF; no key twice; auth=Bearer <b64token> is
 * required; host and port are kept when sent; unknown keys are ignored
 * (RFC 7628 3.1); exactly one %x01 %x01 ends the message and nothing
 * follows; a NUL anywhere is refused. Every field has a size limit below,
 * and a message longer than CK_OB_MSG_MAX is refused unread.
 */
#ifndef CK_SASL_OAUTHBEARER_H
#define CK_SASL_OAUTHBEARER_H

#include <stddef.h>

#define CK_OB_MSG_MAX       8192    /* bytes of a client message */
#define CK_OB_AUTHZID_MAX   256     /* decoded, with NUL */
#define CK_OB_HOST_MAX      256     /* with NUL */
#define CK_OB_TOKEN_MAX     1025    /* the b64token, with NUL (ck_token.h: 1024) */
#define CK_OB_PAIRS_MAX     16      /* key/value pairs */
#define CK_OB_KEY_MAX       32      /* letters in a key */

typedef enum ck_ob_status {
    CK_OB_OK = 0,
    CK_OB_EMPTY,            /* no bytes at all */
    CK_OB_TOO_LONG,         /* over CK_OB_MSG_MAX, or a field over its limit */
    CK_OB_NUL,              /* a NUL byte */
    CK_OB_BAD_GS2,          /* not "n," / "y," [a=saslname] "," %x01 */
    CK_OB_CHANNEL_BINDING,  /* "p=": channel binding requested */
    CK_OB_BAD_AUTHZID,      /* empty, bad escape, not UTF-8, control character */
    CK_OB_BAD_PAIR,         /* a key that is not letters, no '=', a bad value byte */
    CK_OB_DUP_KEY,          /* a key twice */
    CK_OB_NO_AUTH,          /* no auth= pair */
    CK_OB_BAD_AUTH,         /* auth is not "Bearer" 1*SP b64token */
    CK_OB_BAD_HOST,
    CK_OB_BAD_PORT,         /* not 1..65535 in at most 5 digits */
    CK_OB_BAD_END,          /* not exactly one %x01 %x01 at the end */
    CK_OB_DUMMY             /* the lone %x01 a client sends after an error */
} ck_ob_status;

/* One word per status, for the audit trail ("bad_gs2_header", ...). */
const char *ck_ob_status_word(ck_ob_status st);

typedef struct ck_ob_msg {
    char cbflag;                        /* 'n' or 'y' */
    int has_authzid;
    char authzid[CK_OB_AUTHZID_MAX];    /* decoded ("=2C" -> ',') */
    int has_host;
    char host[CK_OB_HOST_MAX];
    int has_port;
    unsigned port;
    char token[CK_OB_TOKEN_MAX];        /* a secret: the caller wipes it */
    size_t token_len;
} ck_ob_msg;

/*
 * Parses a client's first message of len bytes. On CK_OB_OK *out holds
 * it; otherwise *out holds no token. The caller wipes out->token with
 * OPENSSL_cleanse when done.
 */
ck_ob_status ck_ob_parse(const char *msg, size_t len, ck_ob_msg *out);

/*
 * Writes a client's first message into buf: the gs2 header (authzid
 * escaped, when not NULL or empty), host and port when given (port 0:
 * none), and auth=Bearer token. Returns its length, or 0 when it does not
 * fit in buflen or a field cannot be sent (a control character, a token
 * that is not a b64token). The message holds the token: wipe buf.
 */
size_t ck_ob_build(char *buf, size_t buflen, const char *authzid, const char *host,
                   unsigned port, const char *token);

/*
 * The server's error challenge (RFC 7628 3.2.2):
 *   {"status":"invalid_token","scope":"<scope>"
 *    [,"openid-configuration":"<base>/.well-known/openid-configuration"]}
 * base is checkupd's public URL (NULL or "": left out); scope and base are
 * JSON-escaped. Returns the length, or 0 when it does not fit.
 */
size_t ck_ob_error_json(char *buf, size_t buflen, const char *scope, const char *base);

#endif
