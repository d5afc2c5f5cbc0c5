/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_oidc.h - the OIDC / CorpPass relying party: providers from
 * checkup.conf, discovery and JWKS (cached in the store), the
 * authorization request (PKCE, PAR, DPoP) and the callback (code exchange,
 * ID token, userinfo) that ends in a verified identity.
 *
 * Functions return a ck_oidc_status; the detail is read with
 * ck_oidc_errstr(). For CK_OIDC_REJECT it is a short stable word and a
 * detail ("unknown_state: no pending login (expired or replayed)") meant
 * for the audit log. No message ever holds a token, code, secret or body.
 */
#ifndef CK_OIDC_H
#define CK_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "ck_store.h"
#include "ck_idtoken.h"

typedef enum ck_oidc_status {
    CK_OIDC_OK = 0,
    CK_OIDC_REJECT,         /* the login is refused (audit reason in errstr) */
    CK_OIDC_ERR_PROVIDER,   /* provider unreachable, slow or answering nonsense */
    CK_OIDC_ERR_STORE,      /* the store failed: fail closed */
    CK_OIDC_ERR_CONFIG,
    CK_OIDC_ERR_INTERNAL,
    CK_OIDC_PENDING         /* device flow: the user has not finished yet */
} ck_oidc_status;

const char *ck_oidc_status_str(ck_oidc_status st);

/* ---- providers ----------------------------------------------------------- */

typedef struct ck_oidc_providers ck_oidc_providers;
typedef struct ck_oidc_provider ck_oidc_provider;

ck_oidc_providers *ck_oidc_providers_new(void);
void ck_oidc_providers_free(ck_oidc_providers *ps);

/*
 * A ck_config_section_fn (pass the set as ud): takes [provider NAME]
 * sections, returns 0 for any other section. Errors read
 * "[provider corp] client_auth: 'x' is not one of ...".
 */
int ck_oidc_config_section(void *ud, const char *section, const char *name,
                           const char *value, int lineno, char *err,
                           size_t errlen);

/*
 * After ck_config_load: checks every provider's required keys and
 * combinations, reads client_secret_file and loads the PEM keys.
 * path is the configuration file, for messages.
 */
int ck_oidc_providers_finish(ck_oidc_providers *ps, const char *path,
                             char *err, size_t errlen);

const ck_oidc_provider *ck_oidc_provider_find(const ck_oidc_providers *ps,
                                              const char *name);
size_t ck_oidc_providers_count(const ck_oidc_providers *ps);
const char *ck_oidc_provider_name(const ck_oidc_provider *p);
/* The relying party's public JWKS (sig and enc keys); free(). NULL if none. */
char *ck_oidc_provider_rp_jwks(const ck_oidc_provider *p);

/*
 * Fetches the provider's discovery document and JWKS now, past the store's
 * cache and without writing to it (for "checkup config check"). On
 * CK_OIDC_OK *nkeys is the number of usable keys in the JWKS; otherwise
 * err says what is wrong, starting with the step: "discovery: ...",
 * "discovery_issuer_mismatch: ...", "jwks: ...".
 */
ck_oidc_status ck_oidc_provider_probe(const ck_oidc_provider *p, size_t *nkeys, char *err,
                                      size_t errlen);

/* ---- one provider at work ------------------------------------------------ */

typedef struct ck_oidc ck_oidc;

/* st is borrowed and must outlive the handle. */
ck_oidc *ck_oidc_new(const ck_oidc_provider *p, ck_store *st);
void ck_oidc_free(ck_oidc *o);
const char *ck_oidc_errstr(const ck_oidc *o);
/*
 * The last failure as one word for the audit log: unknown_state,
 * bad_aud, ... for a refusal; for a fault of the provider
 * provider_token_error (the token endpoint refused the code),
 * provider_unavailable (no answer or 5xx), provider_timeout,
 * provider_bad_response (oversize, malformed, missing fields, 3xx),
 * issuer_mismatch (discovery names another issuer) or jwks_unavailable.
 * buf (used when the word comes from the message) holds at least 48 bytes.
 */
const char *ck_oidc_reason(const ck_oidc *o, char *buf, size_t len);

typedef struct ck_oidc_stats {
    uint64_t discovery_fetches;
    uint64_t jwks_fetches;
    uint64_t logins;          /* callbacks that ended in an identity */
} ck_oidc_stats;

void ck_oidc_get_stats(const ck_oidc *o, ck_oidc_stats *out);

/*
 * Starts a login: a pending login in the store (state, nonce, PKCE
 * verifier, return_to) for pending_ttl, and the URL to send the browser
 * to (through PAR for FAPI 2.0). state_out (CK_OIDC_STATE_LEN) receives
 * the state, for the browser binding cookie. Free *url with free().
 */
#define CK_OIDC_STATE_LEN 44
ck_oidc_status ck_oidc_auth_begin(ck_oidc *o, const char *return_to,
                                  char **url, char state_out[CK_OIDC_STATE_LEN]);

typedef struct ck_oidc_result {
    ck_identity id;          /* user_id, email, role, clinic, idp_sid, CorpPass */
    char return_to[1024];
    int64_t auth_time;       /* from the ID token when present, else 0 */
} ck_oidc_result;

/*
 * Ends a login from the callback's query string (without '?').
 * bound_state is the state from the browser binding cookie (NULL when
 * the caller has none): it must equal the state parameter. The pending
 * login is taken exactly once: a replayed callback is rejected.
 */
ck_oidc_status ck_oidc_callback(ck_oidc *o, const char *query,
                                const char *bound_state, ck_oidc_result *out);

/* ---- device authorization grant (RFC 8628) ------------------------------ */

typedef struct ck_oidc_device {
    char user_code[64];                 /* show it to the user */
    char verification_uri[512];
    char verification_uri_complete[1024];   /* empty when not given */
    int interval;                       /* seconds between polls; slow_down adds 5 */
    int64_t expires_at;
    char device_code[512];              /* secret: never shown or logged */
} ck_oidc_device;

/* Asks the provider's device_authorization_endpoint for a user code. */
ck_oidc_status ck_oidc_device_begin(ck_oidc *o, ck_oidc_device *d);

/*
 * One poll of the token endpoint. CK_OIDC_PENDING while the user has not
 * finished (authorization_pending; slow_down also raises d->interval by
 * 5 s): wait d->interval seconds and poll again. CK_OIDC_OK with the
 * identity; CK_OIDC_REJECT on access_denied or expired_token
 * ("device_denied", "device_expired").
 */
ck_oidc_status ck_oidc_device_poll(ck_oidc *o, ck_oidc_device *d, ck_oidc_result *out);

/* Polls every d->interval seconds until an answer or d->expires_at. */
ck_oidc_status ck_oidc_device_wait(ck_oidc *o, ck_oidc_device *d, ck_oidc_result *out);

/* ---- logout --------------------------------------------------------------- */

/*
 * RP-initiated logout: the provider's end_session_endpoint with client_id,
 * and id_token_hint, post_logout_redirect_uri and state when not NULL.
 * Free *url with free().
 */
ck_oidc_status ck_oidc_logout_url(ck_oidc *o, const char *id_token_hint,
                                  const char *post_logout_redirect_uri,
                                  const char *state, char **url);

/* Whose sessions a back-channel logout ends: by idp sid, else by user. */
typedef struct ck_oidc_logout {
    char sub[256];
    char sid[256];      /* empty when the token names only the subject */
    char user_id[256];  /* sub mapped through claim_user_id when that is sub */
} ck_oidc_logout;

/*
 * Validates a back-channel logout token (OpenID Connect Back-Channel
 * Logout 1.0): signature and iss/aud/iat/exp as for ID tokens, the
 * back-channel logout event, sid or sub, no nonce, and a jti seen only
 * once per provider (kept in the store for jti_window seconds; 0 = 600).
 * Reasons: "logout_replay", "logout_no_event", "logout_nonce", ...
 */
ck_oidc_status ck_oidc_backchannel_logout(ck_oidc *o, const char *logout_token,
                                          int jti_window, ck_oidc_logout *out);

/* ---- the callback query, parsed (also the fuzz target's entry) ---------- */

#define CK_OIDC_QUERY_MAX 8192

typedef struct ck_oidc_cbparams {
    char *code;
    char *state;
    char *iss;
    char *error;
    char *error_description;
} ck_oidc_cbparams;

/*
 * Parses application/x-www-form-urlencoded text. Unknown parameters are
 * ignored; a repeated known one, a bad %-escape, a NUL or control
 * character, or more than CK_OIDC_QUERY_MAX bytes is an error.
 */
int ck_oidc_parse_callback(const char *query, size_t len, ck_oidc_cbparams *out,
                           char *err, size_t errlen);
void ck_oidc_cbparams_clear(ck_oidc_cbparams *p);

#endif
