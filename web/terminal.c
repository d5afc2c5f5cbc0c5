/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * terminal.c - GET /t/<code>: the browser half of a CorpPass / OIDC login
 * started at a terminal by the PAM module (ck_terminal.h). The code names
 * a pending terminal login; checkupd runs the provider login for it and,
 * after a verified callback, records the identity against the code
 * (ck_terminal_complete) instead of setting a session cookie: the session
 * is opened by the PAM module, on the terminal.
 *
 * The code is a bearer secret for a few minutes: it is never logged, and
 * lookups are rate limited per address so the code space cannot be walked.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "checkupd.h"
#include "ck_oidc.h"
#include "ck_terminal.h"

#define TERM_RATE_WINDOW 60
#define TERM_RATE_MAX    30   /* lookups per address per minute */

static enum MHD_Result term_page(struct MHD_Connection *c, const ckd *d, unsigned status,
                                 const char *title, const char *text)
{
    return ckd_send(c, d, status, ckd_page(title, text, 0), 1);
}

/* 1 when this address has looked up too many codes this minute. */
static int too_many(const ckd *d, ck_store *st, const char *client)
{
    ck_status err;
    int over = ckd_rate_over(st, "web-term:", client, TERM_RATE_WINDOW, TERM_RATE_MAX, &err);

    if (err != CK_OK)
        ckd_log(d, LOG_ERR, "terminal rate limit: %s", ck_store_errstr(st));
    return over;
}

enum MHD_Result ckd_terminal(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                             const char *code)
{
    char canon[CK_TERMINAL_CODE_LEN], client[CKD_ADDR_MAX];
    ck_store *st = ckd_store(d);
    ck_terminal t;
    ck_status cs;
    enum MHD_Result ret;

    if (!st)
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    ckd_client_addr(c, d, client);
    if (too_many(d, st, client)) {
        ckd_audit(d, "terminal_login", NULL, "corppass", client, NULL, "failure",
                  "rate_limited");
        return term_page(c, d, MHD_HTTP_TOO_MANY_REQUESTS, "Too many attempts",
                         "Too many sign-in links were tried from here. Wait a minute.");
    }
    if (ck_terminal_code_parse(code, canon) != 0)
        return term_page(c, d, MHD_HTTP_NOT_FOUND, "Unknown link",
                         "This is not a sign-in link. Check the link on your terminal.");
    cs = ck_terminal_lookup(st, canon, &t);
    if (cs == CK_NOT_FOUND || cs == CK_ERR_INVALID) {
        OPENSSL_cleanse(canon, sizeof(canon));
        return term_page(c, d, MHD_HTTP_NOT_FOUND, "Link expired",
                         "This sign-in link is unknown, expired or already used. "
                         "Start the login again at your terminal.");
    }
    if (cs != CK_OK) {
        OPENSSL_cleanse(canon, sizeof(canon));
        ckd_log(d, LOG_ERR, "terminal lookup: %s: %s", ck_status_str(cs), ck_store_errstr(st));
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    }
    ret = ckd_oidc_start(c, d, rq, t.provider, "/t/done", canon);
    OPENSSL_cleanse(canon, sizeof(canon));
    return ret;
}

enum MHD_Result ckd_terminal_done(struct MHD_Connection *c, const ckd *d)
{
    return term_page(c, d, MHD_HTTP_OK, "Signed in",
                     "Done. Return to your terminal: the login continues there. "
                     "You can close this page.");
}

/* After a verified callback: the identity goes to the waiting terminal. */
enum MHD_Result ckd_terminal_finish(struct MHD_Connection *c, const ckd *d, const char *code,
                                    const struct ck_oidc_result *res)
{
    ck_terminal_identity id;
    char client[CKD_ADDR_MAX];
    const char *method = res->id.is_corppass ? "corppass" : "oidc";
    ck_store *st = ckd_store(d);
    ck_status cs;
    struct MHD_Response *r;

    memset(&id, 0, sizeof(id));
    snprintf(id.sub, sizeof(id.sub), "%s", res->id.user_id);
    snprintf(id.email, sizeof(id.email), "%s", res->id.email);
    snprintf(id.cp_uuid, sizeof(id.cp_uuid), "%s", res->id.cp_uuid);
    snprintf(id.cp_entity_id, sizeof(id.cp_entity_id), "%s", res->id.cp_entity_id);
    snprintf(id.cp_user_id, sizeof(id.cp_user_id), "%s", res->id.cp_cpuid);
    snprintf(id.idp_sid, sizeof(id.idp_sid), "%s", res->id.idp_sid);
    ckd_client_addr(c, d, client);
    cs = st ? ck_terminal_complete(st, code, &id) : CK_ERR_UNAVAILABLE;
    OPENSSL_cleanse(&id, sizeof(id));
    if (cs == CK_NOT_FOUND) {
        ckd_audit(d, "terminal_login", res->id.user_id, method, client, NULL, "failure",
                  "terminal_gone");
        return term_page(c, d, MHD_HTTP_GONE, "Login expired",
                         "The login at your terminal has ended or expired. Start it again.");
    }
    if (cs != CK_OK) {
        ckd_log(d, LOG_ERR, "terminal complete: %s", ck_status_str(cs));
        ckd_audit(d, "terminal_login", res->id.user_id, method, client, NULL, "failure",
                  "store_unavailable");
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    }
    ckd_audit(d, "terminal_login", res->id.user_id, method, client, NULL, "success",
              "identity_recorded");
    r = ckd_text("text/plain; charset=utf-8", "Return to your terminal.\n");
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, CKD_BIND_COOKIE
                                "=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0");
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/t/done");
    }
    return ckd_send(c, d, MHD_HTTP_SEE_OTHER, r, 1);
}
