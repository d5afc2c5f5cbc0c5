/*
 * login.c - GET /login (the form) and POST /login (email and password
 * against the users file, with the same lockout and audit as the PAM
 * module, a per-address rate limit, then a session and its cookie).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "checkupd.h"
#include "ck_audit.h"
#include "ck_clock.h"
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
    char rd_html[CKD_FORM_FIELD_MAX * 6], body[sizeof(page_head) + sizeof(page_form) +
                                               sizeof(rd_html) + 512];
    struct MHD_Response *r;
    size_t n;

    if (ckd_html_escape(rd ? rd : "", rd_html, sizeof(rd_html)) != 0)
        rd_html[0] = '\0';
    n = (size_t)snprintf(body, sizeof(body), "%s", page_head);
    /* message is always one of our fixed sentences, never user input. */
    if (message)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "<p role=\"alert\">%s</p>\n",
                              message);
    snprintf(body + n, sizeof(body) - n, page_form, rd_html);
    r = ckd_text("text/html; charset=utf-8", body);
    if (r)
        MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
    return ckd_send(c, d, status, r, 1);
}

/* A counter name that holds no address: "web-login:" + SHA-256 hex. */
static void rate_name(const char *client, char out[80])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    int n;

    SHA256((const unsigned char *)client, strlen(client), md);
    n = snprintf(out, 80, "web-login:");
    for (size_t i = 0; i < 16; i++)
        n += snprintf(out + n, (size_t)(80 - n), "%02x", md[i]);
}

/* Returns 1 when this address has posted too many logins this minute. */
static int rate_limited(const ckd *d, ck_store *st, const char *client, ck_status *err)
{
    char name[80];
    int64_t count = 0;

    *err = CK_OK;
    if (d->dc.login_rate_limit <= 0)
        return 0;
    rate_name(client, name);
    *err = ck_store_fail_add(st, name, RATE_WINDOW, &count);
    return *err == CK_OK && count > d->dc.login_rate_limit;
}

static enum MHD_Result store_failed(struct MHD_Connection *c, const ckd *d, ck_store *st,
                                    ck_status s, const char *what)
{
    ckd_log(d, LOG_ERR, "%s: %s: %s", what, ck_status_str(s),
            st ? ck_store_errstr(st) : "no store");
    return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
}

/* Counts a failure against the account and the address; audits new locks. */
static ck_status count_failure(const ckd *d, ck_store *st, const char *account,
                               const char *client)
{
    int64_t count;
    int locked = 0;
    ck_status s;

    s = ck_lockout_fail(st, &d->lockout, CK_LOCK_ACCOUNT, account, &count, &locked);
    if (s != CK_OK)
        return s;
    if (locked)
        ckd_audit(d, "locked", account, "password", client, NULL, "failure",
                  "account_locked");
    s = ck_lockout_fail(st, &d->lockout, CK_LOCK_HOST, client, &count, &locked);
    if (s == CK_OK && locked)
        ckd_audit(d, "locked", account, "password", client, NULL, "failure",
                  "host_locked");
    return s;
}

/* Creates the session and answers 303 to rd with the cookie. */
static enum MHD_Result start_session(struct MHD_Connection *c, const ckd *d, ck_store *st,
                                     const ck_user *u, const char *client, const char *rd)
{
    ck_session s;
    char sid[CK_SID_LEN];
    char *token = NULL;
    struct MHD_Response *r;
    ck_status cs;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "%s", u->email);
    snprintf(s.email, sizeof(s.email), "%s", u->email);
    snprintf(s.role, sizeof(s.role), "%s", u->role);
    snprintf(s.clinic_id, sizeof(s.clinic_id), "%s", u->clinic_id);
    s.method = CK_AUTH_EMAIL;
    snprintf(s.remote_host, sizeof(s.remote_host), "%s", client);
    snprintf(s.service, sizeof(s.service), "checkupd");
    cs = ck_store_create(st, &s, sid);
    if (cs != CK_OK)
        return store_failed(c, d, st, cs, "create session");
    if (ck_token_sign(d->ring, sid, s.created, s.deadline, &token) != CK_TOKEN_OK) {
        ckd_log(d, LOG_ERR, "cannot sign a session token");
        ck_store_delete(st, sid);
        OPENSSL_cleanse(sid, sizeof(sid));
        return ckd_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot sign the session");
    }
    OPENSSL_cleanse(sid, sizeof(sid));
    ckd_audit(d, "login_success", u->email, "password", client, s.key_hex, "success",
              NULL);
    r = ckd_text("text/plain; charset=utf-8", "Signed in.\n");
    if (r) {
        ckd_set_cookie(r, d, token, d->cfg.absolute_lifetime);
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rd);
    }
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    return ckd_send(c, d, MHD_HTTP_SEE_OTHER, r, 1);
}

static enum MHD_Result refuse_locked(struct MHD_Connection *c, const ckd *d,
                                     const char *account, const char *client, int user,
                                     const char *rd)
{
    ckd_audit(d, "locked", account, "password", client, NULL, "failure",
              user ? "account_locked" : "host_locked");
    return ckd_login_page(c, d, MHD_HTTP_FORBIDDEN, rd,
                          "Too many failed logins. Try again later.");
}

static enum MHD_Result check_password(struct MHD_Connection *c, const ckd *d, ck_store *st,
                                      ckd_req *rq, const char *rd)
{
    ck_users users = { 0, NULL };
    const ck_user *u;
    const char *account;
    char err[512];
    int locked_user = 0, locked_host = 0;
    enum MHD_Result ret;
    ck_status s;

    if (ck_users_load(d->cfg.users_file, 1, &users, err, sizeof(err)) != 0) {
        ckd_log(d, LOG_ERR, "users file: %s", err);
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "users file unavailable");
    }
    u = strlen(rq->email) < CK_EMAIL_MAX ? ck_users_find(&users, rq->email) : NULL;
    /* Counters are kept per email, as in the PAM module. */
    account = u ? u->email : rq->email;
    s = ck_lockout_check(st, &d->lockout, CK_LOCK_ACCOUNT, account, &locked_user);
    if (s == CK_OK)
        s = ck_lockout_check(st, &d->lockout, CK_LOCK_HOST, rq->client, &locked_host);
    if (s != CK_OK) {
        ret = store_failed(c, d, st, s, "lockout check");
        goto out;
    }
    if (locked_user || locked_host) {
        ret = refuse_locked(c, d, account, rq->client, locked_user, rd);
        goto out;
    }
    if (!ck_password_verify(&users, u, rq->password) || u->disabled) {
        ckd_audit(d, "login_failure", account, "password", rq->client, NULL, "failure",
                  !u ? "unknown_user" : u->disabled ? "disabled"
                  : u->hash[0] != '$' ? "no_password" : "bad_password");
        s = count_failure(d, st, account, rq->client);
        if (s != CK_OK)
            ret = store_failed(c, d, st, s, "failure count");
        else
            ret = ckd_login_page(c, d, MHD_HTTP_UNAUTHORIZED, rd,
                                 "Wrong email or password.");
        goto out;
    }
    s = ck_lockout_success(st, &d->lockout, u->email);
    if (s != CK_OK) {
        ret = store_failed(c, d, st, s, "lockout reset");
        goto out;
    }
    ret = start_session(c, d, st, u, rq->client, rd);
out:
    ck_users_free(&users);
    return ret;
}

enum MHD_Result ckd_login_post(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    const char *rd = rq->rd[0] ? rq->rd : "/";
    ck_store *st;
    ck_status s;

    if (!ckd_same_origin(c, d))
        return ckd_error(c, d, MHD_HTTP_FORBIDDEN, "cross-origin request refused");
    if (rq->too_big)
        return ckd_error(c, d, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    if (rq->bad_form)
        return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "malformed form");
    /* No rd: the site's root, which is ours whatever the allowlist says. */
    if (rq->rd[0] && !ckd_redirect_ok(d, rd))
        return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "redirect target not allowed");
    if (!rq->email[0] || !rq->password[0])
        return ckd_login_page(c, d, MHD_HTTP_BAD_REQUEST, rd,
                              "Enter your email and password.");
    st = ckd_store(d);
    if (!st)
        return store_failed(c, d, NULL, CK_ERR_UNAVAILABLE, "open store");
    if (rate_limited(d, st, rq->client, &s)) {
        struct MHD_Response *r = ckd_text("text/plain; charset=utf-8",
                                          "429 too many login attempts\n");

        ckd_audit(d, "login_failure", "(rate limited)", "password", rq->client, NULL,
                  "failure", "rate_limited");
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "60");
        return ckd_send(c, d, MHD_HTTP_TOO_MANY_REQUESTS, r, 1);
    }
    if (s != CK_OK)
        return store_failed(c, d, st, s, "rate limit");
    return check_password(c, d, st, rq, rd);
}
