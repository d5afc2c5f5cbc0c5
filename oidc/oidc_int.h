/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * oidc_int.h - internals shared by the protocol half of liboidc.
 */
#ifndef CK_OIDC_INT_H
#define CK_OIDC_INT_H

#include <stdarg.h>

#include <jansson.h>

#include "ck_oidc.h"

enum ck_oidc_auth { CK_CA_SECRET_BASIC, CK_CA_SECRET_POST, CK_CA_PRIVATE_KEY_JWT };
enum ck_oidc_profile { CK_PROF_OIDC, CK_PROF_CORPPASS, CK_PROF_FAPI2 };

#define CK_OIDC_MAX_ALGS 8

struct ck_oidc_provider {
    char *name;
    char *issuer;
    char *client_id;
    char *client_secret;
    char *client_secret_file;
    int client_auth;
    int profile;
    char *scopes;
    char *redirect_uri;
    char *claim_user_id, *claim_email, *claim_role, *claim_clinic;
    char *algs_text;
    const char *algs[CK_OIDC_MAX_ALGS + 1];
    char *signing_key, *signing_key_old, *encryption_key, *encryption_key_old;
    char *dpop_key;
    char *ca_file;
    char *acr;               /* authentication_context_type (CorpPass) */
    int par;                 /* -1 = by profile */
    int dpop;                /* -1 = by profile */
    int userinfo;            /* -1 = by profile */
    int clock_skew;
    int http_timeout;        /* seconds, the whole transfer */
    int jwks_cache_ttl;
    int jwks_refetch_min;    /* seconds between two refetches forced by unknown kids */
    int lineno;
    ck_rp_keys *rp;
    ck_rp_keys *dpop_keys;   /* the DPoP key (dpop_key, else the signing key) */
    struct ck_oidc_provider *next;
};

struct ck_oidc_providers {
    ck_oidc_provider *head;
    size_t count;
};

/* ---- HTTP (http.c) ------------------------------------------------------- */

#define CK_HTTP_MAX_BODY (1024 * 1024)

typedef struct ck_http_req {
    const char *method;          /* "GET" or "POST" */
    const char *url;
    const char *form;            /* POST body, x-www-form-urlencoded */
    const char *basic_user;      /* client_secret_basic (already form-encoded) */
    const char *basic_pass;
    const char *authorization;   /* full Authorization header value */
    const char *dpop;            /* DPoP header value */
    const char *accept;
} ck_http_req;

typedef struct ck_http_resp {
    long status;
    char *body;                  /* NUL-terminated */
    size_t len;
    char content_type[128];
    char dpop_nonce[512];
    char www_authenticate[512];
} ck_http_resp;

/*
 * Returns 0 with an answer (any status), else one of the CK_HTTP_* faults
 * below with err set.
 */
#define CK_HTTP_NO_ANSWER  (-1)  /* refused URL, connect, TLS, reset */
#define CK_HTTP_TIMEOUT    (-2)  /* no complete answer within http_timeout */
#define CK_HTTP_TOO_LARGE  (-3)  /* answer over CK_HTTP_MAX_BODY, aborted */
int ck_http_do(const ck_oidc_provider *p, const ck_http_req *rq, ck_http_resp *out,
               char *err, size_t errlen);
/* The audit word for a fault of ck_http_do. */
const char *ck_http_fault_reason(int hrc);
void ck_http_resp_clear(ck_http_resp *r);
/* 1 if url may be fetched for this provider (https, or loopback http when
 * the issuer itself is http://127.0.0.1). */
int ck_http_url_allowed(const ck_oidc_provider *p, const char *url);

/* ---- discovery and JWKS (discovery.c) ------------------------------------ */

typedef struct ck_oidc_meta {
    char *issuer;
    char *authorization_endpoint;
    char *token_endpoint;
    char *userinfo_endpoint;
    char *jwks_uri;
    char *par_endpoint;
    char *end_session_endpoint;
    char *device_authorization_endpoint;
    int iss_param;               /* authorization_response_iss_parameter_supported */
    int64_t fetched;             /* discovery */
    int64_t jwks_fetched;
    int64_t jwks_forced;         /* last refetch forced by an unknown kid */
    char *jwks_json;
    ck_jwks *jwks;
} ck_oidc_meta;

struct ck_oidc {
    const ck_oidc_provider *p;
    ck_store *st;
    ck_oidc_meta *meta;
    ck_oidc_stats stats;
    char err[512];
    const char *reason;          /* audit word of the last failure, or NULL */
};

ck_oidc_status ck_oidc_fail(ck_oidc *o, ck_oidc_status rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ck_oidc_fail that also names the failure's audit word (a static string). */
ck_oidc_status ck_oidc_fail_why(ck_oidc *o, ck_oidc_status rc, const char *reason,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#ifdef __clang_analyzer__
/* The static analyzer sees one file at a time: ck_oidc_fail returns its
 * status (as ck_fail in store/backend.h). The definition is (ck_oidc_fail). */
#define ck_oidc_fail(o, rc, ...) (ck_oidc_fail((o), (rc), __VA_ARGS__), (rc))
#define ck_oidc_fail_why(o, rc, why, ...) \
    (ck_oidc_fail_why((o), (rc), (why), __VA_ARGS__), (rc))
#endif
ck_oidc_status ck_oidc_meta_get(ck_oidc *o, const ck_oidc_meta **out);
/* Unknown kid: refetch the JWKS unless an unknown kid forced one under
 * jwks_refetch_min seconds ago (ordinary fetches do not count). */
ck_oidc_status ck_oidc_jwks_refresh(ck_oidc *o);
void ck_oidc_meta_free(ck_oidc_meta *m);

/* ---- shared by the code flow and the device flow (flow.c) ---------------- */

/*
 * POSTs params with client authentication (and DPoP when dpop), retrying
 * once on use_dpop_nonce. A 4xx answer is CK_OIDC_REJECT with the
 * provider's error code (sanitised) copied to ecode when not NULL.
 */
ck_oidc_status ck_oidc_post_form(ck_oidc *o, const char *what, const char *url,
                                 const char *params, int dpop, ck_http_resp *r,
                                 char *ecode, size_t ecodelen);
/* A token endpoint's 2xx answer to an identity: ID token (nonce NULL = none
 * expected), userinfo when enabled, claim mapping. Clears r. */
ck_oidc_status ck_oidc_tokens_finish(ck_oidc *o, ck_http_resp *r, const char *nonce,
                                     json_t *pend, ck_oidc_result *out);

/* ---- helpers (util in flow.c) -------------------------------------------- */

/* Appends name=value, both %-encoded, to a growing form string. */
int ck_form_add(char **form, const char *name, const char *value);

#endif
