/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow.c - the authorization code flow: the request that sends the
 * browser to the provider (PKCE, optionally PAR and DPoP key binding) and
 * the callback that ends in a verified identity (code exchange with the
 * configured client authentication and DPoP, ID token, userinfo).
 *
 * The pending login (nonce, PKCE verifier, where to return) lives in the
 * store under "oidc-state:<state>" and is taken exactly once, whatever the
 * callback's outcome: a replayed or a failed callback cannot be retried.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ck_clock.h"
#include "ck_encode.h"
#include "oidc_int.h"

#define STATE_PREFIX "oidc-state:"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const char *ck_oidc_status_str(ck_oidc_status st)
{
    switch (st) {
    case CK_OIDC_OK: return "ok";
    case CK_OIDC_REJECT: return "rejected";
    case CK_OIDC_ERR_PROVIDER: return "provider error";
    case CK_OIDC_ERR_STORE: return "store error";
    case CK_OIDC_ERR_CONFIG: return "configuration error";
    case CK_OIDC_ERR_INTERNAL: return "internal error";
    case CK_OIDC_PENDING: return "pending";
    }
    return "unknown";
}

/* ---- small helpers ------------------------------------------------------- */

static char *pct_dup(const char *s)
{
    size_t n = ck_pct_encoded_len(s) + 1;
    char *out = malloc(n);

    if (out && ck_pct_encode(s, out, n) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

int ck_form_add(char **form, const char *name, const char *value)
{
    size_t old = *form ? strlen(*form) : 0;
    size_t need = old + 1 + ck_pct_encoded_len(name) + 1 + ck_pct_encoded_len(value) + 1;
    char *f = realloc(*form, need);

    if (!f)
        return -1;
    *form = f;
    if (old)
        f[old++] = '&';
    if (ck_pct_encode(name, f + old, need - old) != 0)
        return -1;
    old += strlen(f + old);
    f[old++] = '=';
    return ck_pct_encode(value, f + old, need - old);
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* An error code from the provider, reduced to characters safe in a log. */
static void safe_word(const char *in, char *out, size_t outlen)
{
    size_t o = 0;

    for (; in && *in && o + 1 < outlen && o < 64; in++) {
        char c = *in;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-' || c == '.')
            out[o++] = c;
    }
    out[o] = '\0';
    if (o == 0)
        snprintf(out, outlen, "unspecified");
}

/* ---- handle -------------------------------------------------------------- */

ck_oidc *ck_oidc_new(const ck_oidc_provider *p, ck_store *st)
{
    ck_oidc *o;

    if (!p || !st)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->p = p;
    o->st = st;
    return o;
}

void ck_oidc_free(ck_oidc *o)
{
    if (!o)
        return;
    ck_oidc_meta_free(o->meta);
    free(o);
}

const char *ck_oidc_errstr(const ck_oidc *o)
{
    return o->err;
}

/*
 * The named reason, else the leading word of the message, after the
 * "id_token: " or "logout_token: " that says which token was refused.
 */
const char *ck_oidc_reason(const ck_oidc *o, char *buf, size_t len)
{
    static const char *const what[] = { "id_token: ", "logout_token: " };
    const char *e = o->err;
    size_t i, n = 0;

    if (o->reason)
        return o->reason;
    for (i = 0; i < sizeof(what) / sizeof(what[0]); i++)
        if (strncmp(e, what[i], strlen(what[i])) == 0)
            e += strlen(what[i]);
    while (n + 1 < len && ((e[n] >= 'a' && e[n] <= 'z') || e[n] == '_'))
        n++;
    if (n == 0 || len == 0)
        return "provider_error";
    memcpy(buf, e, n);
    buf[n] = '\0';
    return buf;
}

void ck_oidc_get_stats(const ck_oidc *o, ck_oidc_stats *out)
{
    *out = o->stats;
}

static const ck_rp_keys *dpop_keys(const ck_oidc *o)
{
    return o->p->dpop_keys ? o->p->dpop_keys : o->p->rp;
}

/* ---- client authentication at the token and PAR endpoints --------------- */

typedef struct client_auth {
    char *user;      /* client_secret_basic: form-encoded id and secret */
    char *pass;
} client_auth;

static void client_auth_clear(client_auth *a)
{
    free(a->user);
    wipe_free(a->pass);
    memset(a, 0, sizeof(*a));
}

static ck_oidc_status add_client_auth(ck_oidc *o, char **form, client_auth *a,
                                      ck_http_req *rq)
{
    const ck_oidc_provider *p = o->p;
    char sub[256], *jwt = NULL;
    int bad = 0;
    /* PAR carries client_id among the request's own parameters already. */
    int has_id = strncmp(*form, "client_id=", 10) == 0 || strstr(*form, "&client_id=") != NULL;

    switch (p->client_auth) {
    case CK_CA_SECRET_BASIC:
        /* RFC 6749 2.3.1: both are form-encoded before Basic encoding. */
        a->user = pct_dup(p->client_id);
        a->pass = pct_dup(p->client_secret);
        if (!a->user || !a->pass)
            return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
        rq->basic_user = a->user;
        rq->basic_pass = a->pass;
        return CK_OIDC_OK;
    case CK_CA_SECRET_POST:
        if (!has_id)
            bad |= ck_form_add(form, "client_id", p->client_id);
        bad |= ck_form_add(form, "client_secret", p->client_secret);
        break;
    default:
        if (ck_client_assertion(p->rp, p->client_id, p->issuer, ck_now(), &jwt, sub,
                                sizeof(sub)) != 0)
            return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "client assertion: %s", sub);
        if (!has_id)
            bad |= ck_form_add(form, "client_id", p->client_id);
        bad |= ck_form_add(form, "client_assertion_type", ASSERTION_TYPE);
        bad |= ck_form_add(form, "client_assertion", jwt);
        free(jwt);
        break;
    }
    return bad ? ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory") : CK_OIDC_OK;
}

/* Reads {"error": ...} from an error answer, for the message. */
static void error_code(const ck_http_resp *r, char *out, size_t outlen)
{
    json_t *doc = json_loadb(r->body, r->len, 0, NULL);
    json_t *e = json_object_get(doc, "error");

    if (json_is_string(e))
        safe_word(json_string_value(e), out, outlen);
    else
        snprintf(out, outlen, "(not JSON)");
    json_decref(doc);
}

/*
 * POSTs params plus client authentication (and a DPoP proof when the
 * provider binds tokens), retrying once when the server asks for a DPoP
 * nonce. Every attempt has a fresh client assertion: its jti is single-use.
 */
ck_oidc_status ck_oidc_post_form(ck_oidc *o, const char *what, const char *url,
                                 const char *params, int dpop, ck_http_resp *r,
                                 char *ecode, size_t ecodelen)
{
    char nonce[512] = "", sub[384], code[80];
    ck_oidc_status rc = CK_OIDC_OK;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        ck_http_req rq = { .method = "POST", .url = url };
        client_auth a = { NULL, NULL };
        char *form = strdup(params), *proof = NULL;
        int hrc;

        if (!form)
            return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
        rc = add_client_auth(o, &form, &a, &rq);
        if (rc == CK_OIDC_OK && dpop &&
            ck_dpop_proof(dpop_keys(o), "POST", url, NULL, nonce[0] ? nonce : NULL, ck_now(),
                          &proof, sub, sizeof(sub)) != 0)
            rc = ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "dpop proof: %s", sub);
        rq.form = form;
        rq.dpop = proof;
        hrc = rc == CK_OIDC_OK ? ck_http_do(o->p, &rq, r, sub, sizeof(sub)) : 0;
        wipe_free(form);
        free(proof);
        client_auth_clear(&a);
        if (rc != CK_OIDC_OK)
            return rc;
        if (hrc != 0)
            return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, ck_http_fault_reason(hrc),
                                    "%s: %s", what, sub);
        if (r->status >= 200 && r->status < 300)
            return CK_OIDC_OK;
        error_code(r, code, sizeof(code));
        if (dpop && attempt == 0 && strcmp(code, "use_dpop_nonce") == 0 && r->dpop_nonce[0]) {
            snprintf(nonce, sizeof(nonce), "%s", r->dpop_nonce);
            ck_http_resp_clear(r);
            continue;
        }
        if (ecode)
            snprintf(ecode, ecodelen, "%s", code);
        /* 4xx: the provider refused us; 3xx (never followed) and 5xx: a fault. */
        rc = ck_oidc_fail_why(o, r->status >= 400 && r->status < 500 ? CK_OIDC_REJECT :
                              CK_OIDC_ERR_PROVIDER,
                              r->status >= 400 && r->status < 500 ? "provider_token_error" :
                              r->status >= 500 ? "provider_unavailable" :
                              "provider_bad_response",
                              "%s: HTTP status %ld, error %s", what, r->status, code);
        ck_http_resp_clear(r);
        return rc;
    }
    return rc;
}

/* ---- authorization request ------------------------------------------------ */

typedef struct pending {
    char state[CK_OIDC_STATE_LEN];
    char nonce[CK_OIDC_STATE_LEN];
    char verifier[96];
    char challenge[48];
} pending;

static int pending_new(pending *pd)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    /* 256 bits each; the verifier is 64 characters (RFC 7636: 43..128). */
    if (ck_b64url_random(32, pd->state, sizeof(pd->state)) != 0 ||
        ck_b64url_random(32, pd->nonce, sizeof(pd->nonce)) != 0 ||
        ck_b64url_random(48, pd->verifier, sizeof(pd->verifier)) != 0)
        return -1;
    SHA256((const unsigned char *)pd->verifier, strlen(pd->verifier), md);
    ck_b64url_encode(md, sizeof(md), pd->challenge);
    return 0;
}

static ck_oidc_status pending_save(ck_oidc *o, const pending *pd, const char *return_to)
{
    char name[CK_STATE_NAME_MAX], *text;
    json_t *doc;
    ck_status st;

    doc = json_pack("{s:s, s:s, s:s, s:s, s:I}", "p", o->p->name, "n", pd->nonce,
                    "v", pd->verifier, "r", return_to ? return_to : "", "t", (json_int_t)ck_now());
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    snprintf(name, sizeof(name), STATE_PREFIX "%s", pd->state);
    st = ck_store_state_put(o->st, name, text, strlen(text), 0);
    wipe_free(text);
    if (st != CK_OK)
        return ck_oidc_fail(o, CK_OIDC_ERR_STORE, "store: %s", ck_store_errstr(o->st));
    return CK_OIDC_OK;
}

static char *auth_params(ck_oidc *o, const pending *pd)
{
    const ck_oidc_provider *p = o->p;
    char *form = NULL;
    int bad = 0;

    bad |= ck_form_add(&form, "response_type", "code");
    bad |= ck_form_add(&form, "client_id", p->client_id);
    bad |= ck_form_add(&form, "redirect_uri", p->redirect_uri);
    bad |= ck_form_add(&form, "scope", p->scopes);
    bad |= ck_form_add(&form, "state", pd->state);
    bad |= ck_form_add(&form, "nonce", pd->nonce);
    bad |= ck_form_add(&form, "code_challenge", pd->challenge);
    bad |= ck_form_add(&form, "code_challenge_method", "S256");
    if (p->acr)
        bad |= ck_form_add(&form, "authentication_context_type", p->acr);
    if (p->dpop && ck_dpop_jkt(dpop_keys(o)))
        bad |= ck_form_add(&form, "dpop_jkt", ck_dpop_jkt(dpop_keys(o)));
    if (bad) {
        free(form);
        return NULL;
    }
    return form;
}

static char *join_url(const char *endpoint, const char *query)
{
    size_t n = strlen(endpoint) + strlen(query) + 2;
    char *url = malloc(n);

    if (url)
        snprintf(url, n, "%s%c%s", endpoint, strchr(endpoint, '?') ? '&' : '?', query);
    return url;
}

/* RFC 9126: the parameters go to the PAR endpoint; the browser gets a reference. */
static ck_oidc_status push_request(ck_oidc *o, const ck_oidc_meta *m, const char *params,
                                   char **url)
{
    ck_http_resp r;
    json_t *doc = NULL, *uri;
    char *q = NULL;
    ck_oidc_status rc;
    int bad = 0;

    if (!m->par_endpoint)
        return ck_oidc_fail(o, CK_OIDC_ERR_PROVIDER,
                            "par: the provider advertises no pushed_authorization_request_endpoint");
    rc = ck_oidc_post_form(o, "par", m->par_endpoint, params, 0, &r, NULL, 0);
    if (rc != CK_OIDC_OK)
        return rc;
    doc = json_loadb(r.body, r.len, 0, NULL);
    uri = json_object_get(doc, "request_uri");
    if (!json_is_string(uri)) {
        rc = ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                              "par: no request_uri in the answer");
        goto out;
    }
    bad |= ck_form_add(&q, "client_id", o->p->client_id);
    bad |= ck_form_add(&q, "request_uri", json_string_value(uri));
    *url = bad ? NULL : join_url(m->authorization_endpoint, q);
    if (!*url)
        rc = ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
out:
    free(q);
    json_decref(doc);
    ck_http_resp_clear(&r);
    return rc;
}

ck_oidc_status ck_oidc_auth_begin(ck_oidc *o, const char *return_to, char **url,
                                  char state_out[CK_OIDC_STATE_LEN])
{
    const ck_oidc_meta *m;
    pending pd;
    char *params = NULL;
    ck_oidc_status rc;

    *url = NULL;
    o->err[0] = '\0';
    if (return_to && strlen(return_to) >= sizeof(((ck_oidc_result *)0)->return_to))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "return_to: longer than 1023 bytes");
    rc = ck_oidc_meta_get(o, &m);
    if (rc != CK_OIDC_OK)
        return rc;
    if (pending_new(&pd) != 0)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "random: no entropy");
    params = auth_params(o, &pd);
    if (!params) {
        rc = ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = pending_save(o, &pd, return_to);
    if (rc != CK_OIDC_OK)
        goto out;
    if (o->p->par) {
        rc = push_request(o, m, params, url);
    } else {
        *url = join_url(m->authorization_endpoint, params);
        if (!*url)
            rc = ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    }
    if (rc == CK_OIDC_OK && state_out)
        memcpy(state_out, pd.state, CK_OIDC_STATE_LEN);
out:
    free(params);
    OPENSSL_cleanse(&pd, sizeof(pd));
    return rc;
}

/* ---- callback ------------------------------------------------------------ */

typedef struct tokens {
    char *id_token;
    char *access_token;
    char *token_type;
} tokens;

static void tokens_clear(tokens *t)
{
    wipe_free(t->id_token);
    wipe_free(t->access_token);
    free(t->token_type);
    memset(t, 0, sizeof(*t));
}

static char *json_strdup(json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);

    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static ck_oidc_status take_pending(ck_oidc *o, const char *state, json_t **out)
{
    char name[CK_STATE_NAME_MAX];
    void *v = NULL;
    size_t len = 0;
    ck_status st;

    *out = NULL;
    if (strlen(state) + sizeof(STATE_PREFIX) > sizeof(name))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "unknown_state: state too long");
    snprintf(name, sizeof(name), STATE_PREFIX "%s", state);
    st = ck_store_state_take(o->st, name, &v, &len);
    if (st == CK_NOT_FOUND || st == CK_ERR_INVALID)
        return ck_oidc_fail(o, CK_OIDC_REJECT,
                            "unknown_state: no pending login for this state "
                            "(expired, replayed or forged)");
    if (st != CK_OK)
        return ck_oidc_fail(o, CK_OIDC_ERR_STORE, "store: %s", ck_store_errstr(o->st));
    *out = json_loadb(v, len, 0, NULL);
    OPENSSL_cleanse(v, len);
    free(v);
    if (!json_is_object(*out))
        return ck_oidc_fail(o, CK_OIDC_ERR_STORE, "store: pending login unreadable");
    return CK_OIDC_OK;
}

static ck_oidc_status exchange_code(ck_oidc *o, const ck_oidc_meta *m, const char *code,
                                    const char *verifier, ck_http_resp *r)
{
    char *params = NULL;
    ck_oidc_status rc;
    int bad = 0;

    bad |= ck_form_add(&params, "grant_type", "authorization_code");
    bad |= ck_form_add(&params, "code", code);
    bad |= ck_form_add(&params, "redirect_uri", o->p->redirect_uri);
    bad |= ck_form_add(&params, "code_verifier", verifier);
    if (bad) {
        wipe_free(params);
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    }
    rc = ck_oidc_post_form(o, "token", m->token_endpoint, params, o->p->dpop, r, NULL, 0);
    wipe_free(params);
    return rc;
}

/* The token endpoint's answer: id_token, access_token, token_type. */
static ck_oidc_status parse_tokens(ck_oidc *o, const ck_http_resp *r, tokens *t)
{
    json_t *doc = json_loadb(r->body, r->len, 0, NULL);
    ck_oidc_status rc = CK_OIDC_OK;

    if (!json_is_object(doc)) {
        rc = ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                              "token: the answer is not a JSON object");
        goto out;
    }
    t->id_token = json_strdup(doc, "id_token");
    t->access_token = json_strdup(doc, "access_token");
    t->token_type = json_strdup(doc, "token_type");
    if (!t->id_token || !t->access_token || !t->token_type) {
        rc = ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, "provider_bad_response",
                              "token: id_token, access_token or token_type missing");
        goto out;
    }
    if (o->p->dpop && strcasecmp(t->token_type, "DPoP") != 0)
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "token_type: expected a DPoP-bound token");
out:
    json_decref(doc);
    return rc;
}

static ck_oidc_status verify_id_token(ck_oidc *o, const tokens *t, const char *nonce,
                                      json_t **claims)
{
    const ck_oidc_provider *p = o->p;
    ck_idtoken_policy pol;
    char reason[256];
    ck_idt_status vs;
    ck_oidc_status rc;
    int attempt;

    memset(&pol, 0, sizeof(pol));
    pol.issuer = p->issuer;
    pol.client_id = p->client_id;
    pol.nonce = nonce;
    pol.skew = p->clock_skew ? p->clock_skew : -1;
    pol.algs = p->algs[0] ? p->algs : NULL;
    pol.require_encryption = p->profile != CK_PROF_OIDC || p->encryption_key != NULL;
    for (attempt = 0; attempt < 2; attempt++) {
        pol.now = ck_now();
        vs = ck_idtoken_verify(t->id_token, strlen(t->id_token), &pol, o->meta->jwks, p->rp,
                               claims, reason, sizeof(reason));
        if (vs == CK_IDT_OK)
            return CK_OIDC_OK;
        if (vs != CK_IDT_UNKNOWN_KID || attempt > 0)
            break;
        rc = ck_oidc_jwks_refresh(o);
        if (rc != CK_OIDC_OK)
            return rc;
    }
    return ck_oidc_fail(o, CK_OIDC_REJECT, "id_token: %s", reason);
}

/* GET userinfo with the access token (DPoP-bound when configured). */
static ck_oidc_status fetch_userinfo(ck_oidc *o, const ck_oidc_meta *m, const tokens *t,
                                     json_t **out)
{
    char nonce[512] = "", sub[384], *authz;
    ck_http_resp r;
    int attempt;
    size_t n;

    *out = NULL;
    if (!m->userinfo_endpoint)
        return ck_oidc_fail(o, CK_OIDC_ERR_PROVIDER, "userinfo: no userinfo_endpoint");
    n = strlen(t->access_token) + 8;
    authz = malloc(n);
    if (!authz)
        return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "out of memory");
    snprintf(authz, n, "%s %s", o->p->dpop ? "DPoP" : "Bearer", t->access_token);
    for (attempt = 0; attempt < 2; attempt++) {
        ck_http_req rq = { .method = "GET", .url = m->userinfo_endpoint,
                           .authorization = authz };
        char *proof = NULL;
        int hrc;

        if (o->p->dpop && ck_dpop_proof(dpop_keys(o), "GET", m->userinfo_endpoint,
                                        t->access_token, nonce[0] ? nonce : NULL, ck_now(),
                                        &proof, sub, sizeof(sub)) != 0) {
            wipe_free(authz);
            return ck_oidc_fail(o, CK_OIDC_ERR_INTERNAL, "dpop proof: %s", sub);
        }
        rq.dpop = proof;
        hrc = ck_http_do(o->p, &rq, &r, sub, sizeof(sub));
        free(proof);
        if (hrc != 0) {
            wipe_free(authz);
            return ck_oidc_fail_why(o, CK_OIDC_ERR_PROVIDER, ck_http_fault_reason(hrc),
                                    "userinfo: %s", sub);
        }
        if (attempt == 0 && r.status == 401 && r.dpop_nonce[0] &&
            strstr(r.www_authenticate, "use_dpop_nonce")) {
            snprintf(nonce, sizeof(nonce), "%s", r.dpop_nonce);
            ck_http_resp_clear(&r);
            continue;
        }
        break;
    }
    wipe_free(authz);
    if (r.status != 200) {
        long status = r.status;

        ck_http_resp_clear(&r);
        return ck_oidc_fail_why(o, CK_OIDC_REJECT, status >= 500 ? "provider_unavailable" :
                                "provider_bad_response", "userinfo: HTTP status %ld", status);
    }
    *out = json_loadb(r.body, r.len, 0, NULL);
    ck_http_resp_clear(&r);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ck_oidc_fail_why(o, CK_OIDC_REJECT, "provider_bad_response",
                                "userinfo: not a JSON object (signed userinfo is not supported)");
    }
    return CK_OIDC_OK;
}

/* Userinfo claims fill what the ID token lacks; the subjects must agree. */
static ck_oidc_status merge_userinfo(ck_oidc *o, json_t *claims, json_t *ui)
{
    json_t *a = json_object_get(claims, "sub"), *b = json_object_get(ui, "sub");
    const char *k;
    json_t *v;

    if (!json_is_string(b) || !json_equal(a, b))
        return ck_oidc_fail(o, CK_OIDC_REJECT, "userinfo_sub_mismatch: userinfo is about "
                            "another subject");
    json_object_foreach(ui, k, v) {
        if (!json_object_get(claims, k))
            json_object_set(claims, k, v);
    }
    return CK_OIDC_OK;
}

static ck_oidc_status check_response(ck_oidc *o, const ck_oidc_meta *m,
                                     const ck_oidc_cbparams *cb, json_t *pend)
{
    char word[80];
    const char *started = json_string_value(json_object_get(pend, "p"));

    if (!started || strcmp(started, o->p->name) != 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "provider_mismatch: the login was started "
                            "with another provider");
    if (cb->error) {
        safe_word(cb->error, word, sizeof(word));
        return ck_oidc_fail(o, CK_OIDC_REJECT, "idp_error: %s", word);
    }
    if (!cb->iss && m->iss_param)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "missing_iss: the provider sends iss "
                            "(RFC 9207) and this response has none");
    if (cb->iss && strcmp(cb->iss, o->p->issuer) != 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "wrong_iss: the response comes from "
                            "another issuer (mix-up)");
    if (!cb->code || !cb->code[0])
        return ck_oidc_fail(o, CK_OIDC_REJECT, "missing_code: no authorization code");
    return CK_OIDC_OK;
}

static ck_oidc_status finish_identity(ck_oidc *o, json_t *claims, json_t *pend,
                                      ck_oidc_result *out)
{
    const ck_oidc_provider *p = o->p;
    ck_claim_map map = { p->claim_user_id, p->claim_email, p->claim_role, p->claim_clinic };
    json_t *sid = json_object_get(claims, "sid"), *at = json_object_get(claims, "auth_time");
    char sub[256];

    if (ck_identity_from_claims(claims, &map, p->profile != CK_PROF_OIDC, &out->id, sub,
                                sizeof(sub)) != 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "claims: %s", sub);
    /* A CorpPass legacy sub holds the NRIC: never let it become the user id
     * that sessions, listings and audit lines carry. */
    if (out->id.is_corppass && out->id.cp_nric[0] && strstr(out->id.user_id, out->id.cp_nric)) {
        const char *alt = out->id.cp_uuid[0] ? out->id.cp_uuid : out->id.cp_cpuid;

        if (!alt[0])
            return ck_oidc_fail(o, CK_OIDC_REJECT, "claims: the user id would hold the NRIC "
                                "and there is no uuid or CPUID to use instead");
        memmove(out->id.user_id, alt, strlen(alt) + 1);
    }
    if (!out->id.idp_sid[0] && json_is_string(sid)) {
        if (json_string_length(sid) >= sizeof(out->id.idp_sid))
            return ck_oidc_fail(o, CK_OIDC_REJECT, "claims: sid too long");
        memcpy(out->id.idp_sid, json_string_value(sid), json_string_length(sid) + 1);
    }
    if (json_is_integer(at))
        out->auth_time = json_integer_value(at);
    if (pend && json_string_value(json_object_get(pend, "r")))
        snprintf(out->return_to, sizeof(out->return_to), "%s",
                 json_string_value(json_object_get(pend, "r")));
    return CK_OIDC_OK;
}

ck_oidc_status ck_oidc_tokens_finish(ck_oidc *o, ck_http_resp *r, const char *nonce,
                                     json_t *pend, ck_oidc_result *out)
{
    tokens t = { NULL, NULL, NULL };
    json_t *claims = NULL, *ui = NULL;
    ck_oidc_status rc = parse_tokens(o, r, &t);

    /* The answer held tokens: wipe it as soon as they are copied out. */
    OPENSSL_cleanse(r->body, r->len);
    ck_http_resp_clear(r);
    if (rc == CK_OIDC_OK)
        rc = verify_id_token(o, &t, nonce, &claims);
    if (rc == CK_OIDC_OK && o->p->userinfo) {
        rc = fetch_userinfo(o, o->meta, &t, &ui);
        if (rc == CK_OIDC_OK)
            rc = merge_userinfo(o, claims, ui);
    }
    if (rc == CK_OIDC_OK)
        rc = finish_identity(o, claims, pend, out);
    if (rc == CK_OIDC_OK)
        o->stats.logins++;
    tokens_clear(&t);
    json_decref(claims);
    json_decref(ui);
    return rc;
}

static int same_state(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

ck_oidc_status ck_oidc_callback(ck_oidc *o, const char *query, const char *bound_state,
                                ck_oidc_result *out)
{
    ck_oidc_cbparams cb;
    const ck_oidc_meta *m;
    json_t *pend = NULL;
    ck_http_resp r;
    const char *verifier;
    char sub[256];
    ck_oidc_status rc;

    memset(out, 0, sizeof(*out));
    o->err[0] = '\0';
    if (ck_oidc_parse_callback(query, query ? strlen(query) : 0, &cb, sub, sizeof(sub)) != 0)
        return ck_oidc_fail(o, CK_OIDC_REJECT, "bad_callback: %s", sub);
    if (!cb.state || !cb.state[0]) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "missing_state: the response has no state");
        goto out;
    }
    if (bound_state && !same_state(bound_state, cb.state)) {
        rc = ck_oidc_fail(o, CK_OIDC_REJECT, "state_mismatch: the state is not the one "
                          "bound to this browser");
        goto out;
    }
    rc = ck_oidc_meta_get(o, &m);
    if (rc == CK_OIDC_OK)
        rc = take_pending(o, cb.state, &pend);
    if (rc == CK_OIDC_OK)
        rc = check_response(o, m, &cb, pend);
    if (rc != CK_OIDC_OK)
        goto out;
    verifier = json_string_value(json_object_get(pend, "v"));
    rc = exchange_code(o, m, cb.code, verifier ? verifier : "", &r);
    if (rc == CK_OIDC_OK)
        rc = ck_oidc_tokens_finish(o, &r, json_string_value(json_object_get(pend, "n")), pend,
                                   out);
out:
    if (rc != CK_OIDC_OK)
        memset(out, 0, sizeof(*out));
    json_decref(pend);
    ck_oidc_cbparams_clear(&cb);
    return rc;
}
