/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * oidc.c - the OIDC / CorpPass half of checkupd: [provider NAME] sections,
 * GET /login/<provider> (pending login + browser binding cookie),
 * GET /callback (verified identity -> session), the relying party's JWKS,
 * back-channel logout and the provider's end-session URL.
 *
 * The browser binding: /login/<provider> sets a random value R in a
 * 10-minute SameSite=Lax cookie and keeps SHA-256(R), the provider name
 * and (for terminal logins) the terminal code in the store under
 * "ckd-bind:" + SHA-256(state). The callback takes that record once and
 * compares the cookie's digest, so a callback URL replayed or carried to
 * another browser is refused, and the record also says which provider
 * the state belongs to.
 *
 * Identity -> session (documented in checkupd(8)), the PAM module's own
 * mapping: a users file record whose corppass field is the CorpPass uuid
 * (lower case) or "<entity id>/<CPUID>", or for other providers whose
 * email is the verified email, gives user, role and clinic; a disabled
 * record is refused, and so is a CorpPass identity two records claim.
 * Without a record, a CorpPass login is refused (not_mapped) and an OIDC
 * login needs a role claim. The session's service is "checkupd:<provider>",
 * which is how logout finds the provider's end-session endpoint.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "checkupd.h"
#include "ck_encode.h"
#include "ck_oidc.h"
#include "ck_terminal.h"
#include "ck_users.h"

#define BIND_TTL        600
#define BIND_PREFIX     "ckd-bind:"
#define SERVICE_PREFIX  "checkupd:"

/* ---- configuration ------------------------------------------------------ */

int ckd_conf_sections(void *ud, const char *section, const char *name, const char *value,
                      int lineno, char *err, size_t errlen)
{
    ckd *d = ud;
    const char *pname;
    size_t i;

    if (strcmp(section, "daemon") == 0)
        return ckd_conf_section(&d->dc, section, name, value, lineno, err, errlen);
    if (strncmp(section, "provider ", 9) != 0)
        return 0;
    /* The library checks the name (1-64 of A-Z a-z 0-9 . _ -) and the key first. */
    if (!ck_oidc_config_section(d->providers, section, name, value, lineno, err, errlen))
        return 0;
    pname = section + 9;
    pname += strspn(pname, " ");
    for (i = 0; i < d->npnames; i++)
        if (strcmp(d->pnames[i], pname) == 0)
            return 1;
    if (d->npnames == CKD_LIST_MAX || strlen(pname) >= sizeof(d->pnames[0])) {
        snprintf(err, errlen, "at most %d providers", CKD_LIST_MAX);
        return 0;
    }
    snprintf(d->pnames[d->npnames++], sizeof(d->pnames[0]), "%s", pname);
    return 1;
}

/* ---- one ck_oidc per worker thread and provider -------------------------- */

typedef struct oidc_handle {
    ck_oidc *o;
    struct oidc_handle *next;
} oidc_handle;

static __thread ck_oidc *thread_oidc[CKD_LIST_MAX];
static pthread_mutex_t oidc_lock = PTHREAD_MUTEX_INITIALIZER;
static oidc_handle *oidc_handles;

static int provider_index(const ckd *d, const char *name)
{
    for (size_t i = 0; i < d->npnames; i++)
        if (strcmp(d->pnames[i], name) == 0)
            return (int)i;
    return -1;
}

/* The calling thread's handle for provider i (its store is the thread's). */
static ck_oidc *thread_handle(const ckd *d, int i)
{
    const ck_oidc_provider *p = ck_oidc_provider_find(d->providers, d->pnames[i]);
    ck_store *st = ckd_store(d);
    oidc_handle *h;

    if (thread_oidc[i])
        return thread_oidc[i];
    if (!p || !st)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->o = ck_oidc_new(p, st);
    if (!h->o) {
        free(h);
        return NULL;
    }
    pthread_mutex_lock(&oidc_lock);
    h->next = oidc_handles;
    oidc_handles = h;
    pthread_mutex_unlock(&oidc_lock);
    thread_oidc[i] = h->o;
    return h->o;
}

void ckd_oidc_close_all(void)
{
    pthread_mutex_lock(&oidc_lock);
    while (oidc_handles) {
        oidc_handle *h = oidc_handles;

        oidc_handles = h->next;
        ck_oidc_free(h->o);
        free(h);
    }
    pthread_mutex_unlock(&oidc_lock);
}

/* ---- small helpers ------------------------------------------------------ */

static void sha256_hex(const char *in, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)in, strlen(in), md);
    ck_hex_encode(md, sizeof(md), out);
}

static void bind_name(const char *state, char out[80])
{
    char h[65];

    sha256_hex(state, h);
    snprintf(out, 80, "%s%s", BIND_PREFIX, h);
}

static enum MHD_Result page(struct MHD_Connection *c, const ckd *d, unsigned status,
                            const char *title, const char *text)
{
    struct MHD_Response *r = ckd_page(title, text, 1);

    /* Whatever the answer, the one-shot binding cookie has done its work. */
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, CKD_BIND_COOKIE
                                "=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0");
    return ckd_send(c, d, status, r, 1);
}

/* A refused login: audited with its reason, a clear 4xx page. */
static enum MHD_Result refuse(struct MHD_Connection *c, const ckd *d, unsigned status,
                              const char *user, const char *method, const char *reason,
                              const char *text)
{
    char client[CKD_ADDR_MAX];

    ckd_client_addr(c, d, client);
    ckd_audit(d, "login_failure", user, method, client, NULL, "failure", reason);
    return page(c, d, status, "Sign-in failed", text);
}

/*
 * A browser login that failed after its state was taken. For a login
 * started at a terminal (term: its code) the terminal is told why at once
 * (ck_terminal_fail) and the PAM module audits the one login_failure;
 * here it is a terminal_login event. Otherwise login_failure here.
 */
static void audit_failed(struct MHD_Connection *c, const ckd *d, const char *term,
                         const char *reason)
{
    char client[CKD_ADDR_MAX];
    ck_store *st = ckd_store(d);
    ck_status cs;

    ckd_client_addr(c, d, client);
    if (!term || !term[0]) {
        ckd_audit(d, "login_failure", "(unknown)", "oidc", client, NULL, "failure", reason);
        return;
    }
    cs = st ? ck_terminal_fail(st, term, reason) : CK_ERR_UNAVAILABLE;
    if (cs != CK_OK && cs != CK_NOT_FOUND)
        ckd_log(d, LOG_ERR, "terminal fail: %s", ck_status_str(cs));
    ckd_audit(d, "terminal_login", "(unknown)", "oidc", client, NULL, "failure", reason);
}

static enum MHD_Result refuse_login(struct MHD_Connection *c, const ckd *d, const char *term,
                                    const char *reason, const char *text)
{
    audit_failed(c, d, term, reason);
    return page(c, d, MHD_HTTP_BAD_REQUEST, "Sign-in failed", text);
}

/*
 * A login that the provider's answer or a fault ended: one login_failure
 * with the library's word for it (ck_oidc_reason), the detail in the log.
 */
static enum MHD_Result oidc_failed_as(struct MHD_Connection *c, const ckd *d,
                                      ck_oidc_status st, const char *reason,
                                      const char *detail, const char *what, const char *term)
{
    if (st == CK_OIDC_REJECT)
        return refuse_login(c, d, term, reason, "The identity provider's answer was refused. "
                            "Start the sign-in again.");
    ckd_log(d, LOG_ERR, "%s: %s: %s", what, ck_oidc_status_str(st), detail);
    audit_failed(c, d, term, reason);
    if (st == CK_OIDC_ERR_PROVIDER)
        return page(c, d, MHD_HTTP_BAD_GATEWAY, "Sign-in unavailable",
                    "The identity provider cannot be reached. Try again later.");
    return page(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "Sign-in unavailable",
                "Sign-in is not available now. Try again later.");
}

/* The audit word of a failed step of o. */
static const char *oidc_word(ck_oidc *o, ck_oidc_status st, char *word, size_t len)
{
    return st == CK_OIDC_ERR_STORE ? "store_unavailable" :
           st == CK_OIDC_ERR_INTERNAL ? "internal_error" : ck_oidc_reason(o, word, len);
}

/* ---- GET /login/<provider> ---------------------------------------------- */

/* Keeps SHA-256(R), the provider and the terminal code under the state. */
static ck_status bind_put(ck_store *st, const char *state, const char *provider,
                          const char *secret, const char *terminal_code)
{
    char name[80], h[65];
    json_t *j;
    char *v;
    ck_status cs;

    bind_name(state, name);
    sha256_hex(secret, h);
    j = json_pack("{s:s, s:s, s:s}", "p", provider, "h", h, "t",
                  terminal_code ? terminal_code : "");
    v = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!v)
        return CK_ERR_NOMEM;
    cs = ck_store_state_put(st, name, v, strlen(v), BIND_TTL);
    free(v);
    return cs;
}

/*
 * Each start leaves two store records for 10 minutes, so starts are
 * limited per client address like password logins (login_rate_limit per
 * minute, a counter of their own named by a hash of the address).
 */
static int start_limited(struct MHD_Connection *c, const ckd *d)
{
    char client[CKD_ADDR_MAX];
    ck_store *st = ckd_store(d);
    ck_status err;

    if (d->dc.login_rate_limit <= 0 || !st)
        return 0;
    ckd_client_addr(c, d, client);
    if (!ckd_rate_over(st, "web-oidc:", client, 60, d->dc.login_rate_limit, &err))
        return 0;
    ckd_audit(d, "login_failure", NULL, "oidc", client, NULL, "failure", "rate_limited");
    return 1;
}

/* The provider pool is full: 503 now, audited at most once a second. */
static enum MHD_Result start_busy(struct MHD_Connection *c, const ckd *d)
{
    char client[CKD_ADDR_MAX];
    unsigned long quiet = 0;

    if (ckd_pool_refusal_audit(d->provider_pool, &quiet)) {
        ckd_client_addr(c, d, client);
        ckd_audit(d, "login_failure", NULL, "oidc", client, NULL, "failure", "queue_full");
        if (quiet)
            ckd_log(d, LOG_WARNING, "provider queue full: %lu more requests refused "
                    "unaudited since the last queue_full event", quiet);
    }
    return ckd_busy(c, d);
}

/*
 * The authorization request (discovery when not cached, PAR when the
 * provider takes pushed requests: the provider's round trips, up to its
 * timeout) runs in the provider pool, like the callback.
 */
typedef struct start_job {
    int index;
    char provider[72];
    char rd[CKD_FORM_FIELD_MAX];
    char code[64];                  /* a terminal login's code, or "" */
    char secret[65];                /* the binding cookie's value */
    char *url;                      /* where the browser goes */
    ck_oidc_status os;
    ck_status bind;                 /* storing the binding */
    char word[64];
    char detail[256];
} start_job;

static void start_run(const ckd *d, ckd_job *job)
{
    start_job *sj = job->data;
    ck_oidc *o = thread_handle(d, sj->index);
    char state[CK_OIDC_STATE_LEN], word[64];

    sj->bind = CK_OK;
    if (!o) {
        sj->os = CK_OIDC_ERR_STORE;
        snprintf(sj->word, sizeof(sj->word), "store_unavailable");
        snprintf(sj->detail, sizeof(sj->detail), "no provider handle (store not open?)");
        return;
    }
    sj->os = ck_oidc_auth_begin(o, sj->rd, &sj->url, state);
    if (sj->os != CK_OIDC_OK) {
        snprintf(sj->word, sizeof(sj->word), "%s", oidc_word(o, sj->os, word, sizeof(word)));
        snprintf(sj->detail, sizeof(sj->detail), "%s", ck_oidc_errstr(o));
        return;
    }
    sj->bind = bind_put(ckd_store(d), state, sj->provider, sj->secret,
                        sj->code[0] ? sj->code : NULL);
    OPENSSL_cleanse(state, sizeof(state));
}

static enum MHD_Result start_answer(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    start_job *sj = rq->job->data;
    struct MHD_Response *r;
    char cookie[160];

    if (sj->os != CK_OIDC_OK)
        return oidc_failed_as(c, d, sj->os, sj->word, sj->detail, "login start", NULL);
    if (sj->bind != CK_OK) {
        ckd_log(d, LOG_ERR, "login binding: %s", ck_status_str(sj->bind));
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    }
    r = ckd_text("text/plain; charset=utf-8", "Continue at the identity provider.\n");
    if (r) {
        snprintf(cookie, sizeof(cookie),
                 "%s=%s; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=%d", CKD_BIND_COOKIE,
                 sj->secret, BIND_TTL);
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, sj->url);
        OPENSSL_cleanse(cookie, sizeof(cookie));
    }
    return ckd_send(c, d, MHD_HTTP_FOUND, r, 1);
}

static void start_clear(ckd_job *job)
{
    start_job *sj = job->data;

    if (!sj)
        return;
    free(sj->url);
    OPENSSL_cleanse(sj, sizeof(*sj));
    free(sj);
}

enum MHD_Result ckd_oidc_start(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                               const char *provider, const char *rd,
                               const char *terminal_code)
{
    int i = provider_index(d, provider);
    unsigned char raw[32];
    ckd_job *job;
    start_job *sj;
    enum MHD_Result ret = MHD_NO;

    if (i < 0)
        return ckd_error(c, d, MHD_HTTP_NOT_FOUND, "no such identity provider");
    /* Refused at once, before the rate limit's store write (as password logins). */
    if (d->provider_pool && ckd_pool_full(d->provider_pool))
        return start_busy(c, d);
    if (start_limited(c, d))
        return page(c, d, MHD_HTTP_TOO_MANY_REQUESTS, "Too many attempts",
                    "Too many sign-ins were started from here. Wait a minute.");
    job = calloc(1, sizeof(*job));
    sj = calloc(1, sizeof(*sj));
    if (!job || !sj) {
        free(job);
        free(sj);
        return MHD_NO;
    }
    job->data = sj;
    job->run = start_run;
    job->answer = start_answer;
    job->clear = start_clear;
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        start_clear(job);
        free(job);
        return ckd_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "no randomness");
    }
    ck_hex_encode(raw, sizeof(raw), sj->secret);
    OPENSSL_cleanse(raw, sizeof(raw));
    sj->index = i;
    snprintf(sj->provider, sizeof(sj->provider), "%s", provider);
    snprintf(sj->rd, sizeof(sj->rd), "%s", rd);
    snprintf(sj->code, sizeof(sj->code), "%s", terminal_code ? terminal_code : "");
    if (!ckd_job_start(c, d, d->provider_pool, rq, job, &ret))
        return start_busy(c, d);
    return ret;
}

/* ---- GET /callback ------------------------------------------------------ */

typedef struct qbuf {
    char *p;
    size_t len, cap;
    int bad;
} qbuf;

/* Re-encodes the decoded query arguments for ck_oidc_callback. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    qbuf *q = cls;
    char ek[256], ev[CK_OIDC_QUERY_MAX];
    size_t need;

    (void)kind;
    if (ck_pct_encode(key, ek, sizeof(ek)) != 0 ||
        ck_pct_encode(value ? value : "", ev, sizeof(ev)) != 0) {
        q->bad = 1;
        return MHD_NO;
    }
    need = q->len + strlen(ek) + strlen(ev) + 3;
    if (need > q->cap) {
        q->bad = 1;
        return MHD_NO;
    }
    q->len += (size_t)snprintf(q->p + q->len, q->cap - q->len, "%s%s=%s",
                               q->len ? "&" : "", ek, ev);
    return MHD_YES;
}

/* Takes the binding record of state; 0 with the provider and digest. */
static ck_status bind_take(ck_store *st, const char *state, char provider[72], char h[65],
                           char code[64])
{
    char name[80];
    void *v = NULL;
    size_t len = 0;
    json_t *j;
    const char *p, *hh, *t;
    ck_status cs;

    bind_name(state, name);
    cs = ck_store_state_take(st, name, &v, &len);
    if (cs != CK_OK)
        return cs;
    j = json_loadb(v, len, 0, NULL);
    free(v);
    p = json_string_value(json_object_get(j, "p"));
    hh = json_string_value(json_object_get(j, "h"));
    t = json_string_value(json_object_get(j, "t"));
    cs = CK_ERR_CORRUPT;
    if (p && hh && t && strlen(p) < 72 && strlen(hh) == 64 && strlen(t) < 64) {
        snprintf(provider, 72, "%s", p);
        snprintf(h, 65, "%s", hh);
        snprintf(code, 64, "%s", t);
        cs = CK_OK;
    }
    json_decref(j);
    return cs;
}

/*
 * Fills the identity fields of s from the users file or the claims; NULL
 * on success, else the audit reason.
 */
static const char *map_identity(const ckd *d, const ck_identity *id, ck_session *s)
{
    ck_users users = { 0 };
    const ck_user_identity uid = { id->is_corppass, id->email, id->cp_uuid,
                                   id->cp_entity_id, id->cp_cpuid };
    const ck_user *u = NULL;
    const char *why = NULL;
    char err[512];
    ck_users_map m;

    if (ck_users_lookup_identity(d->cfg.users_file, &uid, &users, err, sizeof(err)) != 0) {
        ckd_log(d, LOG_ERR, "users file: %s", err);
        return "users_file_unavailable";
    }
    if (users.warning[0])
        ckd_log(d, LOG_WARNING, "users index: %s", users.warning);
    m = ck_users_map_identity(&users, &uid, &u);
    if (m == CK_USERS_AMBIGUOUS) {
        why = "ambiguous_mapping";
    } else if (u && u->disabled) {
        why = "account_disabled";
    } else if (u) {
        snprintf(s->user_id, sizeof(s->user_id), "%s", u->email);
        snprintf(s->email, sizeof(s->email), "%s", u->email);
        snprintf(s->role, sizeof(s->role), "%s", u->role);
        snprintf(s->clinic_id, sizeof(s->clinic_id), "%s", u->clinic_id);
    } else if (id->is_corppass || !id->role[0]) {
        why = "not_mapped";
    } else {
        snprintf(s->user_id, sizeof(s->user_id), "%s", id->user_id);
        snprintf(s->email, sizeof(s->email), "%s", id->email);
        snprintf(s->role, sizeof(s->role), "%s", id->role);
        snprintf(s->clinic_id, sizeof(s->clinic_id), "%s", id->clinic_id);
    }
    ck_users_free(&users);
    return why;
}

/*
 * The answer that carries the new session cookie is a page that moves on
 * to rd itself, not a redirect: the callback arrives through a
 * cross-site redirect chain from the provider, and a browser sends no
 * SameSite=Strict cookie anywhere along such a chain, so a 302 to rd
 * would land without the session. A navigation the page starts is
 * same-site. No script (the CSP forbids it): a meta refresh and a link.
 */
static struct MHD_Response *continue_page(const char *rd)
{
    char esc[CKD_FORM_FIELD_MAX * 6], body[sizeof(esc) * 2 + 512];
    struct MHD_Response *r;

    if (ckd_html_escape(rd, esc, sizeof(esc)) != 0)
        snprintf(esc, sizeof(esc), "/");
    snprintf(body, sizeof(body),
             "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta http-equiv=\"refresh\" content=\"0;url=%s\">\n"
             "<title>Signed in - checkup</title>\n</head>\n<body>\n<main>\n<h1>Signed in</h1>\n"
             "<p><a id=\"continue\" href=\"%s\">Continue</a></p>\n</main>\n</body>\n</html>\n",
             esc, esc);
    r = ckd_text("text/html; charset=utf-8", body);
    if (r)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    return r;
}

/* "ckd-sub:" + SHA-256(provider, sub): the sub itself may hold an NRIC. */
static void sub_name(const char *provider, const char *sub, char out[80])
{
    char both[CK_IDP_SID_MAX + 80], h[65];

    snprintf(both, sizeof(both), "%s\n%s", provider, sub);
    sha256_hex(both, h);
    snprintf(out, 80, "ckd-sub:%s", h);
}

/*
 * Remembers which user a provider's sub was mapped to, for as long as a
 * session can live, so that a back-channel logout naming the sub finds
 * the sessions with one list_user.
 */
static void sub_remember(const ckd *d, ck_store *st, const char *provider, const char *sub,
                         const char *user)
{
    char name[80];

    if (!sub[0])
        return;
    sub_name(provider, sub, name);
    if (ck_store_state_put(st, name, user, strlen(user), d->cfg.absolute_lifetime) != CK_OK)
        ckd_log(d, LOG_WARNING, "back-channel logout index: %s", ck_store_errstr(st));
}

static enum MHD_Result start_session(struct MHD_Connection *c, const ckd *d,
                                     const char *provider, const ck_oidc_result *res)
{
    ck_session s;
    char sid[CK_SID_LEN], client[CKD_ADDR_MAX];
    const char *why, *rd;
    char *token = NULL;
    struct MHD_Response *r;
    ck_store *st = ckd_store(d);
    ck_status cs;

    memset(&s, 0, sizeof(s));
    s.method = res->id.is_corppass ? CK_AUTH_CORPPASS : CK_AUTH_OIDC;
    why = map_identity(d, &res->id, &s);
    if (why)
        return refuse(c, d, MHD_HTTP_FORBIDDEN, res->id.user_id, ck_auth_method_name(s.method),
                      why, "This identity has no access here. Ask your administrator.");
    if (ckd_audit_gate(d) != 0)
        return refuse(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, s.user_id,
                      ck_auth_method_name(s.method), "audit_unavailable",
                      "Sign-in is unavailable for now. Ask your administrator.");
    rd = res->return_to[0] ? res->return_to : "/";
    /* Checked when the login started; checked again, the store is not ours alone. */
    if (!ckd_redirect_ok(d, rd))
        rd = "/";
    ckd_client_addr(c, d, client);
    snprintf(s.remote_host, sizeof(s.remote_host), "%s", client);
    if (strlen(SERVICE_PREFIX) + strlen(provider) < sizeof(s.service))
        snprintf(s.service, sizeof(s.service), "%s%s", SERVICE_PREFIX, provider);
    else
        snprintf(s.service, sizeof(s.service), "checkupd");
    snprintf(s.idp_sid, sizeof(s.idp_sid), "%s", res->id.idp_sid);
    cs = st ? ck_store_create(st, &s, sid) : CK_ERR_UNAVAILABLE;
    if (cs != CK_OK) {
        ckd_log(d, LOG_ERR, "create session: %s: %s", ck_status_str(cs),
                st ? ck_store_errstr(st) : "no store");
        ckd_audit(d, "login_failure", s.user_id, ck_auth_method_name(s.method), client, NULL,
                  "failure", cs == CK_ERR_NOT_DURABLE ? "not_durable" : "store_unavailable");
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    }
    if (ck_token_sign(d->ring, sid, s.created, s.deadline, &token) != CK_TOKEN_OK) {
        ck_store_delete(st, sid);
        OPENSSL_cleanse(sid, sizeof(sid));
        ckd_audit(d, "login_failure", s.user_id, ck_auth_method_name(s.method), client, NULL,
                  "failure", "internal_error");
        return ckd_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot sign the session");
    }
    OPENSSL_cleanse(sid, sizeof(sid));
    sub_remember(d, st, provider, res->id.sub, s.user_id);
    ckd_audit(d, "login_success", s.user_id, ck_auth_method_name(s.method), client, s.key_hex,
              "success", NULL);
    r = continue_page(rd);
    if (r) {
        ckd_set_cookie(r, d, token, d->cfg.absolute_lifetime);
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, CKD_BIND_COOKIE
                                "=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0");
    }
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    return ckd_send(c, d, MHD_HTTP_OK, r, 1);
}

/*
 * The provider half of a callback (code exchange, ID token, userinfo: up
 * to the provider's timeout, and more than once) runs in the provider
 * pool, so that it holds no request thread.
 */
typedef struct cb_job {
    char *query;                    /* holds the authorization code: wiped */
    size_t query_cap;
    char *state;
    char provider[72];
    char code[64];                  /* a terminal login's code, or "" */
    int index;
    ck_oidc_status os;
    char word[64];                  /* os != CK_OIDC_OK: the audit reason */
    char detail[256];               /* and the detail for the log */
    ck_oidc_result res;
} cb_job;

static void cb_run(const ckd *d, ckd_job *job)
{
    cb_job *cj = job->data;
    ck_oidc *o = thread_handle(d, cj->index);
    char word[64];

    if (!o) {
        cj->os = CK_OIDC_ERR_STORE;
        snprintf(cj->word, sizeof(cj->word), "store_unavailable");
        snprintf(cj->detail, sizeof(cj->detail), "no provider handle (store not open?)");
        return;
    }
    cj->os = ck_oidc_callback(o, cj->query, cj->state, &cj->res);
    OPENSSL_cleanse(cj->query, cj->query_cap);
    if (cj->os == CK_OIDC_OK)
        return;
    snprintf(cj->word, sizeof(cj->word), "%s", oidc_word(o, cj->os, word, sizeof(word)));
    snprintf(cj->detail, sizeof(cj->detail), "%s", ck_oidc_errstr(o));
}

static enum MHD_Result cb_answer(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    cb_job *cj = rq->job->data;

    if (cj->os != CK_OIDC_OK)
        return oidc_failed_as(c, d, cj->os, cj->word, cj->detail, "callback", cj->code);
    if (cj->code[0])
        return ckd_terminal_finish(c, d, cj->code, &cj->res);
    return start_session(c, d, cj->provider, &cj->res);
}

static void cb_clear(ckd_job *job)
{
    cb_job *cj = job->data;

    if (!cj)
        return;
    if (cj->query) {
        OPENSSL_cleanse(cj->query, cj->query_cap);
        free(cj->query);
    }
    if (cj->state) {
        OPENSSL_cleanse(cj->state, strlen(cj->state));
        free(cj->state);
    }
    OPENSSL_cleanse(cj, sizeof(*cj));
    free(cj);
}

/* The provider pool is full: 503 now (audited at most once a second). */
static enum MHD_Result cb_busy(struct MHD_Connection *c, const ckd *d, const char *code)
{
    unsigned long quiet = 0;

    if (ckd_pool_refusal_audit(d->provider_pool, &quiet)) {
        audit_failed(c, d, code, "queue_full");
        if (quiet)
            ckd_log(d, LOG_WARNING, "provider queue full: %lu more callbacks refused "
                    "unaudited since the last queue_full event", quiet);
    } else if (code[0]) {
        ck_store *st = ckd_store(d);

        /* The terminal still hears why, audited or not. */
        if (st)
            (void)ck_terminal_fail(st, code, "queue_full");
    }
    return ckd_busy(c, d);
}

static enum MHD_Result finish(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                              const char *query, size_t query_cap, const char *state)
{
    char provider[72], h[65], mine[65], code[64];
    const char *cookie;
    ckd_job *job;
    cb_job *cj;
    ck_status cs;
    int i, same;
    enum MHD_Result ret = MHD_NO;

    /* Before the state is taken: the same callback may be tried again. */
    if (d->provider_pool && ckd_pool_full(d->provider_pool))
        return cb_busy(c, d, "");
    cs = ckd_store(d) ? bind_take(ckd_store(d), state, provider, h, code) : CK_ERR_UNAVAILABLE;
    if (cs == CK_NOT_FOUND || cs == CK_ERR_INVALID || cs == CK_ERR_CORRUPT)
        return refuse(c, d, MHD_HTTP_BAD_REQUEST, NULL, "oidc", "unknown_state",
                      "This sign-in link is unknown, expired or already used. "
                      "Start the sign-in again.");
    if (cs != CK_OK) {
        char client[CKD_ADDR_MAX];

        ckd_client_addr(c, d, client);
        ckd_audit(d, "login_failure", "(unknown)", "oidc", client, NULL, "failure",
                  "store_unavailable");
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    }
    cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, CKD_BIND_COOKIE);
    if (!cookie || !cookie[0])
        return refuse_login(c, d, code, "binding_missing",
                            "This sign-in was not started in this browser. Start it again here.");
    sha256_hex(cookie, mine);
    same = CRYPTO_memcmp(mine, h, 64) == 0;
    if (!same)
        return refuse_login(c, d, code, "binding_mismatch",
                            "This sign-in was not started in this browser. Start it again here.");
    i = provider_index(d, provider);
    if (i < 0)
        return refuse_login(c, d, code, "unknown_provider",
                            "The identity provider of this sign-in is no longer configured.");
    job = calloc(1, sizeof(*job));
    cj = calloc(1, sizeof(*cj));
    if (cj) {
        cj->query = malloc(query_cap);
        cj->state = strdup(state);
    }
    if (!job || !cj || !cj->query || !cj->state) {
        free(job);
        if (cj) {
            free(cj->query);
            free(cj->state);
        }
        free(cj);
        return MHD_NO;
    }
    memcpy(cj->query, query, query_cap);
    cj->query_cap = query_cap;
    snprintf(cj->provider, sizeof(cj->provider), "%s", provider);
    snprintf(cj->code, sizeof(cj->code), "%s", code);
    cj->index = i;
    job->data = cj;
    job->run = cb_run;
    job->answer = cb_answer;
    job->clear = cb_clear;
    if (!ckd_job_start(c, d, d->provider_pool, rq, job, &ret))
        return cb_busy(c, d, code);
    return ret;
}

enum MHD_Result ckd_oidc_callback(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    qbuf q = { NULL, 0, CK_OIDC_QUERY_MAX, 0 };
    ck_oidc_cbparams cb;
    char err[256];
    enum MHD_Result ret;

    q.p = calloc(1, q.cap);
    if (!q.p)
        return MHD_NO;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    memset(&cb, 0, sizeof(cb));
    if (q.bad || ck_oidc_parse_callback(q.p, q.len, &cb, err, sizeof(err)) != 0) {
        ret = refuse(c, d, MHD_HTTP_BAD_REQUEST, NULL, "oidc", "bad_callback",
                     "The sign-in answer is malformed.");
    } else if (!cb.state || !cb.state[0]) {
        ret = refuse(c, d, MHD_HTTP_BAD_REQUEST, NULL, "oidc", "missing_state",
                     "The sign-in answer has no state. Start the sign-in again.");
    } else {
        ret = finish(c, d, rq, q.p, q.cap, cb.state);
    }
    ck_oidc_cbparams_clear(&cb);
    /* The query held the authorization code. */
    OPENSSL_cleanse(q.p, q.cap);
    free(q.p);
    return ret;
}

/* ---- GET /.well-known/jwks.json ----------------------------------------- */

/* Appends the keys whose kid is not there yet (providers may share key files). */
static void add_keys(json_t *all, json_t *keys)
{
    size_t i, k;
    json_t *key, *have;

    json_array_foreach(keys, i, key) {
        const char *kid = json_string_value(json_object_get(key, "kid"));
        int dup = 0;

        json_array_foreach(all, k, have) {
            const char *hk = json_string_value(json_object_get(have, "kid"));

            if (kid && hk && strcmp(kid, hk) == 0)
                dup = 1;
        }
        if (!dup)
            json_array_append(all, key);
    }
}

/* The union of every provider's public RP keys (no private part is ever given). */
enum MHD_Result ckd_jwks(struct MHD_Connection *c, const ckd *d)
{
    json_t *all = json_array(), *doc;
    struct MHD_Response *r;
    char *body;

    for (size_t i = 0; i < d->npnames && all; i++) {
        const ck_oidc_provider *p = ck_oidc_provider_find(d->providers, d->pnames[i]);
        char *one = p ? ck_oidc_provider_rp_jwks(p) : NULL;
        json_t *j = one ? json_loads(one, 0, NULL) : NULL;

        free(one);
        add_keys(all, json_object_get(j, "keys"));
        json_decref(j);
    }
    doc = all ? json_pack("{s:o}", "keys", all) : NULL;
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return ckd_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "no memory");
    r = ckd_take("application/json", body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=300");
    return ckd_send(c, d, MHD_HTTP_OK, r, 0);
}

/* ---- POST /backchannel-logout[/<provider>] ------------------------------ */

/* Ends the sessions of user from provider: the idp sid's, or all when sid is empty. */
static size_t end_sessions(const ckd *d, ck_store *st, const char *user, const char *service,
                           const char *sid)
{
    ck_session_list list = { 0, NULL };
    size_t n = 0;
    ck_status cs;

    if (!user[0] || ck_store_list_user(st, user, &list) != CK_OK)
        return 0;
    for (size_t i = 0; i < list.count; i++) {
        const ck_session *s = &list.items[i];

        if (strcmp(s->service, service) != 0 || (sid[0] && strcmp(s->idp_sid, sid) != 0))
            continue;
        cs = ck_store_delete_key(st, s->key_hex);
        if (cs == CK_OK) {
            ckd_audit(d, "logout", s->user_id, ck_auth_method_name(s->method), "backchannel",
                      s->key_hex, "success", "backchannel_logout");
            n++;
        } else if (cs == CK_ERR_NOT_DURABLE) {
            ckd_log(d, LOG_ERR, "backchannel logout: %s", ck_store_errstr(st));
            ckd_audit(d, "logout", s->user_id, ck_auth_method_name(s->method), "backchannel",
                      s->key_hex, "failure", "not_durable");
        }
    }
    ck_session_list_free(&list);
    return n;
}

/*
 * Whose sessions: the user id a login from this provider with this sub
 * was mapped to (kept at login, see sub_remember), else the logout
 * token's own user id (unmapped OIDC logins). Each is one list_user,
 * never a scan of the store.
 */
static size_t end_for(const ckd *d, ck_store *st, const char *provider,
                      const ck_oidc_logout *lo)
{
    char service[CK_SERVICE_MAX], name[80], user[CK_USER_MAX];
    void *v = NULL;
    size_t len = 0, n;

    snprintf(service, sizeof(service), "%s%s", SERVICE_PREFIX, provider);
    n = end_sessions(d, st, lo->user_id, service, lo->sid);
    sub_name(provider, lo->sub, name);
    if (!lo->sub[0] || ck_store_state_get(st, name, &v, &len) != CK_OK)
        return n;
    if (len > 0 && len < sizeof(user) && !memchr(v, '\0', len)) {
        memcpy(user, v, len);
        user[len] = '\0';
        if (strcmp(user, lo->user_id) != 0)
            n += end_sessions(d, st, user, service, lo->sid);
    }
    free(v);
    return n;
}

enum MHD_Result ckd_backchannel_logout(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    const char *url_provider = rq->bcl_provider[0] ? rq->bcl_provider : NULL;
    ck_oidc_logout lo;
    ck_oidc_status os = CK_OIDC_REJECT;
    ck_oidc *o = NULL;
    size_t i, n;
    char client[CKD_ADDR_MAX];

    if (rq->too_big)
        return ckd_error(c, d, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    if (rq->bad_form || !rq->logout_token || !rq->logout_token[0])
        return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "logout_token missing");
    /* The token's issuer says which provider: try each unless the path names one. */
    for (i = 0; i < d->npnames; i++) {
        if (url_provider && strcmp(url_provider, d->pnames[i]) != 0)
            continue;
        o = thread_handle(d, (int)i);
        if (!o)
            return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
        memset(&lo, 0, sizeof(lo));
        os = ck_oidc_backchannel_logout(o, rq->logout_token, 0, &lo);
        if (os != CK_OIDC_REJECT)
            break;
    }
    ckd_client_addr(c, d, client);
    if (os != CK_OIDC_OK) {
        ckd_audit(d, "logout", NULL, "oidc", client, NULL, "failure",
                  o ? ck_oidc_errstr(o) : "no_provider");
        return ckd_json_error(c, d, os == CK_OIDC_REJECT ? MHD_HTTP_BAD_REQUEST
                                                         : MHD_HTTP_SERVICE_UNAVAILABLE,
                              "invalid_request", "logout token refused");
    }
    n = end_for(d, ckd_store(d), d->pnames[i], &lo);
    ckd_log(d, LOG_INFO, "back-channel logout from %s: %zu session(s) ended", d->pnames[i], n);
    return ckd_send(c, d, MHD_HTTP_OK, ckd_text("text/plain; charset=utf-8", ""), 1);
}

/* ---- logout continues at the provider ----------------------------------- */

char *ckd_oidc_logout_url(const ckd *d, const ck_session *s)
{
    char *url = NULL;
    ck_oidc *o;
    int i;

    if (s->method == CK_AUTH_EMAIL || strncmp(s->service, SERVICE_PREFIX, 9) != 0)
        return NULL;
    i = provider_index(d, s->service + strlen(SERVICE_PREFIX));
    o = i >= 0 ? thread_handle(d, i) : NULL;
    if (!o || ck_oidc_logout_url(o, NULL, NULL, NULL, &url) != CK_OIDC_OK) {
        if (o)
            ckd_log(d, LOG_INFO, "no provider logout: %s", ck_oidc_errstr(o));
        return NULL;
    }
    return url;
}

/* ---- the login page's provider buttons ---------------------------------- */

char *ckd_provider_buttons(const ckd *d, const char *rd)
{
    char enc[CKD_FORM_FIELD_MAX * 3 + 1], html[sizeof(enc) * 2];
    size_t cap = 64 + d->npnames * (sizeof(html) + 200), n = 0;
    char *out = malloc(cap);

    if (!out)
        return NULL;
    out[0] = '\0';
    if (ck_pct_encode(rd ? rd : "", enc, sizeof(enc)) != 0 ||
        ckd_html_escape(enc, html, sizeof(html)) != 0)
        html[0] = '\0';
    for (size_t i = 0; i < d->npnames; i++)
        /* Provider names are [A-Za-z0-9._-] (checked by the OIDC library). */
        n += (size_t)snprintf(out + n, cap - n,
                              "<p><a class=\"provider\" href=\"/login/%s%s%s\">"
                              "Sign in with %s</a></p>\n", d->pnames[i],
                              html[0] ? "?rd=" : "", html, d->pnames[i]);
    return out;
}
