/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * login.c - GET /login (the form), POST /login and POST /v1/auth/login
 * (email and password through ck_login_password, the PAM module's own
 * login with its lockout and audit; a per-address rate limit; then a
 * session and its cookie, with a redirect or, for the API, a JSON answer).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "checkupd.h"
#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_login.h"
#include "ck_users.h"

#define PAGE_CSP "default-src 'none'; form-action 'self'; frame-ancestors 'none'; " \
                 "base-uri 'none'"
#define RATE_WINDOW 60

static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Sign in - checkup</title>\n</head>\n<body>\n<main>\n<h1>Sign in</h1>\n";

static const char page_form[] =
    "<form method=\"post\" action=\"/login\">\n"
    "<input type=\"hidden\" name=\"rd\" value=\"%s\">\n"
    "<p><label for=\"email\">Email</label><br>\n"
    "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" "
    "required autofocus></p>\n"
    "<p><label for=\"password\">Password</label><br>\n"
    "<input id=\"password\" name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\" required></p>\n"
    "<p><button type=\"submit\">Sign in</button></p>\n</form>\n</main>\n</body>\n</html>\n";

enum MHD_Result ckd_login_page(struct MHD_Connection *c, const ckd *d, unsigned status,
                               const char *rd, const char *message)
{
    char rd_html[CKD_FORM_FIELD_MAX * 6];
    char *body, *buttons = ckd_provider_buttons(d, rd);
    struct MHD_Response *r;
    size_t n, cap;

    if (!buttons)
        return MHD_NO;
    cap = sizeof(page_head) + sizeof(page_form) + sizeof(rd_html) + strlen(buttons) + 512;
    body = malloc(cap);
    if (!body) {
        free(buttons);
        return MHD_NO;
    }

    if (ckd_html_escape(rd ? rd : "", rd_html, sizeof(rd_html)) != 0)
        rd_html[0] = '\0';
    n = (size_t)snprintf(body, cap, "%s", page_head);
    /* message is always one of our fixed sentences, never user input. */
    if (message)
        n += (size_t)snprintf(body + n, cap - n, "<p role=\"alert\">%s</p>\n", message);
    n += (size_t)snprintf(body + n, cap - n, "%s", buttons);
    snprintf(body + n, cap - n, page_form, rd_html);
    free(buttons);
    r = ckd_text("text/html; charset=utf-8", body);
    free(body);
    if (r)
        MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
    return ckd_send(c, d, status, r, 1);
}

/* Returns 1 when this address has posted too many logins this minute. */
static int rate_limited(const ckd *d, ck_store *st, const char *client, ck_status *err)
{
    *err = CK_OK;
    if (d->dc.login_rate_limit <= 0)
        return 0;
    return ckd_rate_over(st, "web-login:", client, RATE_WINDOW, d->dc.login_rate_limit, err);
}

/*
 * A refused login, in the caller's language: the form page (or a short
 * text) for /login, a JSON error for /v1/auth/login. code is the JSON
 * error code; page, when set, the sentence shown on the form.
 */
static enum MHD_Result refuse(struct MHD_Connection *c, const ckd *d, const ckd_req *rq,
                              unsigned status, const char *code, const char *msg,
                              const char *page)
{
    if (rq->api)
        return ckd_json_error(c, d, status, code, msg);
    if (page)
        return ckd_login_page(c, d, status, rq->rd[0] ? rq->rd : "/", page);
    return ckd_error(c, d, status, msg);
}

static enum MHD_Result store_failed(struct MHD_Connection *c, const ckd *d,
                                    const ckd_req *rq, ck_store *st, ck_status s,
                                    const char *what)
{
    ckd_log(d, LOG_ERR, "%s: %s: %s", what, ck_status_str(s),
            st ? ck_store_errstr(st) : "no store");
    return refuse(c, d, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                  "session store unavailable", NULL);
}

/* Audit events of the shared login (ck_login.h) go to the daemon's log. */
typedef struct web_login {
    const ckd *d;
    const char *client;
} web_login;

static void login_audit(void *ud, const char *event, const char *user, const char *result,
                        const char *reason)
{
    web_login *wl = ud;

    ckd_audit(wl->d, event, user, "password", wl->client, NULL, result, reason);
}

/* "2026-12-06T04:30:00Z" */
static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "%lld", (long long)t);
}

/*
 * The answer to a JSON login: the token (also set as the cookie), when
 * the session ends if left idle, and who signed in (the fields of
 * GET /v1/users/me).
 */
static struct MHD_Response *api_answer(struct MHD_Connection *c, const ckd *d,
                                       const ck_session *s, const char *token)
{
    char expires[32], deadline[32];
    struct MHD_Response *r;
    json_t *j;
    char *body;

    iso_time(s->expires, expires);
    iso_time(s->deadline, deadline);
    j = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s?, s:s}}", "token", token,
                  "expiresAt", expires, "absoluteExpiresAt", deadline, "user",
                  "user", s->user_id, "email", s->email, "role", s->role, "clinic",
                  s->clinic_id[0] ? s->clinic_id : NULL, "auth_method",
                  ck_auth_method_name(s->method));
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (j) {
        /* jansson frees without wiping: the token goes first. */
        json_t *t = json_object_get(j, "token");

        OPENSSL_cleanse((char *)json_string_value(t), json_string_length(t));
        json_decref(j);
    }
    if (!body)
        return NULL;
    r = ckd_take("application/json", body);
    if (r)
        ckd_cors(c, d, r);
    return r;
}

/* Creates the session and answers with the cookie: 303 to rd, or JSON. */
static enum MHD_Result start_session(struct MHD_Connection *c, const ckd *d, ck_store *st,
                                     const ck_user *u, const ckd_req *rq, const char *rd)
{
    const char *client = rq->client;
    ck_session s;
    char sid[CK_SID_LEN];
    char *token = NULL;
    struct MHD_Response *r;
    ck_status cs;

    ck_login_session_init(&s, u);
    s.method = CK_AUTH_EMAIL;
    snprintf(s.remote_host, sizeof(s.remote_host), "%s", client);
    snprintf(s.service, sizeof(s.service), "checkupd");
    cs = ck_store_create(st, &s, sid);
    /* The login itself was audited (login_success); the session was not made. */
    if (cs != CK_OK) {
        ckd_audit(d, "session_open", u->email, "password", client, NULL, "failure",
                  cs == CK_ERR_NOT_DURABLE ? "not_durable" : "store_unavailable");
        return store_failed(c, d, rq, st, cs, "create session");
    }
    if (ck_token_sign(d->ring, sid, s.created, s.deadline, &token) != CK_TOKEN_OK) {
        ckd_log(d, LOG_ERR, "cannot sign a session token");
        ckd_audit(d, "session_open", u->email, "password", client, NULL, "failure",
                  "internal_error");
        ck_store_delete(st, sid);
        OPENSSL_cleanse(sid, sizeof(sid));
        return refuse(c, d, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                      "cannot sign the session", NULL);
    }
    OPENSSL_cleanse(sid, sizeof(sid));
    ckd_replace_cookie_session(c, d, client);
    ckd_audit(d, "session_open", u->email, "password", client, s.key_hex, "success",
              NULL);
    r = rq->api ? api_answer(c, d, &s, token) : ckd_text("text/plain; charset=utf-8",
                                                         "Signed in.\n");
    if (r) {
        ckd_set_cookie(r, d, token, d->cfg.absolute_lifetime);
        if (!rq->api)
            MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rd);
    }
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    return ckd_send(c, d, rq->api ? MHD_HTTP_OK : MHD_HTTP_SEE_OTHER, r, 1);
}

/*
 * A password login handed to the login pool: the hash runs on a pool
 * thread (pw_run), the answer is given on the request thread (pw_answer).
 */
typedef struct pw_job {
    ckd_req *rq;                    /* email, password: not touched elsewhere meanwhile */
    int users_failed;               /* the users file could not be read */
    ck_login_result result;
    ck_user user;                   /* CK_LOGIN_OK: the user, without its hash */
    ck_status store_status;
    const char *store_what;
} pw_job;

static unsigned long long password_hashes;

unsigned long long ckd_password_hashes(void)
{
    return __atomic_load_n(&password_hashes, __ATOMIC_RELAXED);
}

static void pw_run(const ckd *d, ckd_job *job)
{
    pw_job *pj = job->data;
    ckd_req *rq = pj->rq;
    ck_users users = { 0 };
    web_login wl = { d, rq->client };
    ck_store *st = ckd_store(d);
    ck_login lg;
    char err[512];

    pj->result = CK_LOGIN_STORE_ERROR;
    pj->store_status = CK_ERR_UNAVAILABLE;
    pj->store_what = "open store";
    if (!st)
        goto out;
    if (ck_users_lookup(d->cfg.users_file, rq->email, &users, err, sizeof(err)) != 0) {
        ckd_log(d, LOG_ERR, "users file: %s", err);
        pj->users_failed = 1;
        goto out;
    }
    if (users.warning[0])
        ckd_log(d, LOG_WARNING, "users index: %s", users.warning);
    memset(&lg, 0, sizeof(lg));
    lg.store = st;
    lg.lockout = &d->lockout;
    lg.users = &users;
    lg.rhost = rq->client;
    lg.cfg = &d->cfg;
    lg.audit = login_audit;
    lg.ud = &wl;
    lg.hash_priority = d->dc.login_priority;
    pj->result = ck_login_password(&lg, rq->email, rq->password);
    if (lg.hashed)
        __atomic_add_fetch(&password_hashes, 1, __ATOMIC_RELAXED);
    /* A disabled account is CK_LOGIN_FAILED, answered as a wrong password. */
    if (pj->result == CK_LOGIN_OK) {
        pj->user = *lg.user;
        OPENSSL_cleanse(pj->user.hash, sizeof(pj->user.hash));
    }
    pj->store_status = lg.store_status;
    pj->store_what = lg.store_what;
out:
    /* Checked: the password is not needed any more. */
    OPENSSL_cleanse(rq->password, sizeof(rq->password));
    ck_users_free(&users);
}

static enum MHD_Result locked(struct MHD_Connection *c, const ckd *d, const ckd_req *rq)
{
    return refuse(c, d, rq, MHD_HTTP_FORBIDDEN, "locked",
                  "too many failed logins, try again later",
                  "Too many failed logins. Try again later.");
}

static enum MHD_Result pw_answer(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    pw_job *pj = rq->job->data;

    if (pj->users_failed)
        return refuse(c, d, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                      "users file unavailable", NULL);
    switch (pj->result) {
    case CK_LOGIN_OK:
        return start_session(c, d, ckd_store(d), &pj->user, rq, rq->rd[0] ? rq->rd : "/");
    case CK_LOGIN_LOCKED:
        return locked(c, d, rq);
    case CK_LOGIN_FAILED:
        return refuse(c, d, rq, MHD_HTTP_UNAUTHORIZED, "invalid_credentials",
                      "wrong email or password", "Wrong email or password.");
    default:
        return store_failed(c, d, rq, ckd_store(d), pj->store_status, pj->store_what);
    }
}

static void pw_clear(ckd_job *job)
{
    if (job->data)
        OPENSSL_cleanse(job->data, sizeof(pw_job));
    free(job->data);
}

/*
 * A login the pool has no room for: 503 with Retry-After at once. Audited,
 * but at most once a second: a flood is one event and a count in the log.
 */
static enum MHD_Result pool_full(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    struct MHD_Response *r;
    unsigned long quiet = 0;

    if (ckd_pool_refusal_audit(d->login_pool, &quiet)) {
        ckd_audit(d, "login_failure", rq->email, "password", rq->client, NULL, "failure",
                  "queue_full");
        if (quiet)
            ckd_log(d, LOG_WARNING, "login queue full: %lu more logins refused unaudited "
                    "since the last queue_full event", quiet);
    }
    if (!rq->api)
        return ckd_busy(c, d);
    r = ckd_text("application/json", "{\"error\":\"busy\",\"message\":"
                 "\"too many sign-ins at once, try again\"}\n");
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        ckd_cors(c, d, r);
    }
    return ckd_send(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, r, 1);
}

/*
 * Locks that need no hash are answered here, before the queue (see
 * ck_login_check_locks); the rest goes to the login pool.
 */
static enum MHD_Result check_password(struct MHD_Connection *c, const ckd *d, ck_store *st,
                                      ckd_req *rq)
{
    web_login wl = { d, rq->client };
    ckd_job *job;
    pw_job *pj;
    ck_login lg;
    enum MHD_Result ret = MHD_NO;

    memset(&lg, 0, sizeof(lg));
    lg.store = st;
    lg.lockout = &d->lockout;
    lg.rhost = rq->client;
    lg.cfg = &d->cfg;
    lg.audit = login_audit;
    lg.ud = &wl;
    switch (ck_login_check_locks(&lg, rq->email)) {
    case CK_LOGIN_OK:
        break;
    case CK_LOGIN_LOCKED:
        return locked(c, d, rq);
    default:
        return store_failed(c, d, rq, st, lg.store_status, lg.store_what);
    }
    job = calloc(1, sizeof(*job));
    pj = calloc(1, sizeof(*pj));
    if (!job || !pj) {
        free(job);
        free(pj);
        return MHD_NO;
    }
    pj->rq = rq;
    job->data = pj;
    job->run = pw_run;
    job->answer = pw_answer;
    job->clear = pw_clear;
    if (!ckd_job_start(c, d, d->login_pool, rq, job, &ret))
        return pool_full(c, d, rq);
    return ret;
}

/* Rate limit, audit gate, then the password: /login and /v1/auth/login alike. */
static enum MHD_Result login_checked(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    ck_store *st;
    ck_status s;

    if (!rq->email[0] || !rq->password[0])
        return refuse(c, d, rq, MHD_HTTP_BAD_REQUEST, "bad_request",
                      "email and password are required", "Enter your email and password.");
    /*
     * A full queue refuses before anything else: under a spray the
     * refusals are most of the logins, and one that costs a store write
     * (the rate limit's count) would take the request threads from
     * /session. check_password asks the queue again when it submits.
     */
    if (d->login_pool && ckd_pool_full(d->login_pool))
        return pool_full(c, d, rq);
    st = ckd_store(d);
    if (!st)
        return store_failed(c, d, rq, NULL, CK_ERR_UNAVAILABLE, "open store");
    if (rate_limited(d, st, rq->client, &s)) {
        struct MHD_Response *r = rq->api ?
            ckd_text("application/json", "{\"error\":\"rate_limited\",\"message\":"
                     "\"too many login attempts\"}\n") :
            ckd_text("text/plain; charset=utf-8", "429 too many login attempts\n");

        ckd_audit(d, "login_failure", rq->email, "password", rq->client, NULL,
                  "failure", "rate_limited");
        if (r) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "60");
            if (rq->api)
                ckd_cors(c, d, r);
        }
        return ckd_send(c, d, MHD_HTTP_TOO_MANY_REQUESTS, r, 1);
    }
    if (s != CK_OK)
        return store_failed(c, d, rq, st, s, "rate limit");
    if (ckd_audit_gate(d) != 0) {
        /* [audit] on_failure = deny: no password is checked unaudited. */
        ckd_audit(d, "login_failure", rq->email, "password", rq->client, NULL, "failure",
                  "audit_unavailable");
        return refuse(c, d, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                      "sign-in is unavailable for now",
                      "Sign-in is unavailable for now. Ask your administrator.");
    }
    return check_password(c, d, st, rq);
}

enum MHD_Result ckd_login_post(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    const char *rd = rq->rd[0] ? rq->rd : "/";

    if (!ckd_same_origin(c, d))
        return ckd_error(c, d, MHD_HTTP_FORBIDDEN, "cross-origin request refused");
    if (rq->too_big)
        return ckd_error(c, d, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    if (rq->bad_form)
        return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "malformed form");
    /* No rd: the site's root, which is ours whatever the allowlist says. */
    if (rq->rd[0] && !ckd_redirect_ok(d, rd))
        return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "redirect target not allowed");
    return login_checked(c, d, rq);
}

/*
 * {"email": "...", "password": "..."}: both strings that fit the form's
 * fields; other members are ignored. 0, or -1 for anything else.
 */
static int json_fields(ckd_req *rq)
{
    json_error_t jerr;
    json_t *j, *e, *p;
    int rc = -1;

    j = json_loadb(rq->json, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    e = json_object_get(j, "email");
    p = json_object_get(j, "password");
    if (json_is_object(j) && json_is_string(e) && json_is_string(p) &&
        json_string_length(e) < sizeof(rq->email) &&
        json_string_length(p) < sizeof(rq->password)) {
        memcpy(rq->email, json_string_value(e), json_string_length(e) + 1);
        memcpy(rq->password, json_string_value(p), json_string_length(p) + 1);
        rc = 0;
    }
    /* jansson frees without wiping: the password goes first. */
    if (json_is_string(p))
        OPENSSL_cleanse((char *)json_string_value(p), json_string_length(p));
    json_decref(j);
    return rc;
}

enum MHD_Result ckd_api_login(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    /* A JSON body cannot come from another site's form, and a browser's
     * script elsewhere must pass CORS; a form must come from our pages. */
    if (rq->bad_type)
        return ckd_json_error(c, d, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                              "send application/json or a form");
    if (rq->json ? !ckd_api_origin_ok(c, d) : !ckd_same_origin(c, d))
        return ckd_json_error(c, d, MHD_HTTP_FORBIDDEN, "cross_origin",
                              "cross-origin request refused");
    if (rq->too_big)
        return ckd_json_error(c, d, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                              "request body too large");
    if (rq->json ? json_fields(rq) != 0 : rq->bad_form)
        return ckd_json_error(c, d, MHD_HTTP_BAD_REQUEST, "bad_request",
                              "expected a JSON object with string members email and password");
    return login_checked(c, d, rq);
}
