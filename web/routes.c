/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * routes.c - the endpoints: which method and path go where, the request
 * body, and the session-bearing answers (/session, /v1/users/me, logout).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "checkupd.h"
#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_metrics.h"

/* ---- the request body (POST /login form) -------------------------------- */

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data,
                                  uint64_t off, size_t size)
{
    ckd_req *rq = cls;
    char *dst = NULL;
    size_t max = CKD_FORM_FIELD_MAX;
    unsigned bit = 0;

    (void)kind; (void)filename; (void)content_type; (void)transfer_encoding;
    if (rq->logout_token) {
        /* The body limit (checked as it comes) bounds the token. */
        if (strcmp(key, "logout_token") != 0)
            return MHD_YES;
        dst = rq->logout_token;
        max = rq->logout_cap;
    } else if (strcmp(key, "email") == 0)
        dst = rq->email, bit = 1;
    else if (strcmp(key, "password") == 0)
        dst = rq->password, bit = 2;
    else if (strcmp(key, "rd") == 0)
        dst = rq->rd, bit = 4;
    if (!dst)
        return MHD_YES;
    /* A field sent twice is refused, as a JSON member twice is: the one a
     * proxy or log reads first is not the one that would be checked. */
    if (off == 0 && (rq->form_seen & bit)) {
        rq->bad_form = 1;
        return MHD_NO;
    }
    rq->form_seen |= bit;
    if (off + size >= max || (size > 0 && memchr(data, '\0', size))) {
        rq->bad_form = 1;
        return MHD_NO;
    }
    if (size > 0)
        memcpy(dst + off, data, size);
    dst[off + size] = '\0';
    return MHD_YES;
}

/* Takes one chunk of body; answers nothing yet (the last call does). */
static void take_body(ckd_req *rq, const ckd *d, const char *data, size_t size)
{
    rq->body_len += size;
    if (rq->body_len > d->dc.body_max) {
        rq->too_big = 1;
        return;
    }
    if (rq->too_big || rq->bad_form)
        return;
    if (rq->json) {
        /* body_len is at most body_max here, and json holds body_max + 1. */
        memcpy(rq->json + rq->body_len - size, data, size);
        return;
    }
    if (!rq->pp || MHD_post_process(rq->pp, data, size) != MHD_YES)
        rq->bad_form = 1;
}

/* The request's Content-Type is TYPE, parameters (charset) aside. */
static int media_is(struct MHD_Connection *c, const char *type)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = strlen(type);

    return ct && strncasecmp(ct, type, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* ---- sessions ----------------------------------------------------------- */

typedef enum { AUTH_OK, AUTH_NONE, AUTH_BAD, AUTH_ENDED, AUTH_STORE } auth_result;

/*
 * A session that ended by time: audited once, when the store reports the
 * end (its first touch after it), under the session's short name.
 */
static void audit_end(struct MHD_Connection *c, const ckd *d, const char *sid, ck_status end)
{
    char client[CKD_ADDR_MAX], name[CK_SID_HASH_LEN];
    int idle = end == CK_EXPIRED_IDLE;

    ck_audit_sid_hash_of(sid, name);
    ckd_client_addr(c, d, client);
    ckd_audit(d, idle ? "session_expired_idle" : "session_expired_lifetime", "(unknown)",
              "session", client, name, "failure", idle ? "expired_idle" : "expired_lifetime");
}

/*
 * The session of a request, touched (every valid call is a keep-alive)
 * when refresh is set, else only read. The signature is checked before
 * the store is asked. For AUTH_ENDED, *end says why: CK_EXPIRED_IDLE,
 * CK_EXPIRED_LIFETIME (also for a token past its exp, which is the
 * session's deadline) or CK_NOT_FOUND.
 */
/*
 * The first half of authenticate_as: the request's token, its signature
 * checked. AUTH_OK with *ts CK_TOKEN_OK or CK_TOKEN_EXPIRED when the store
 * is to be asked about sid; else the answer (AUTH_NONE, AUTH_BAD).
 */
static auth_result auth_token(struct MHD_Connection *c, const ckd *d, char sid[CK_SID_LEN],
                              ck_token_status *ts)
{
    const char *tok;
    size_t len = 0;
    int malformed = 0;

    tok = ckd_request_token(c, d, &len, &malformed);
    if (malformed)
        return AUTH_BAD;
    if (!tok)
        return AUTH_NONE;
    *ts = ck_token_verify(d->ring, tok, len, ck_now(), sid, NULL, NULL);
    if (*ts != CK_TOKEN_OK && *ts != CK_TOKEN_EXPIRED)
        return AUTH_BAD;
    return AUTH_OK;
}

/*
 * The second half: what the store said (cs) about the token's session.
 * A store failure is logged by the caller, which has the store's reason.
 */
static auth_result auth_settle(struct MHD_Connection *c, const ckd *d, const char *sid,
                               ck_token_status ts, ck_status cs, ck_status *end)
{
    if (cs == CK_OK && ts == CK_TOKEN_OK)
        return AUTH_OK;
    if (cs == CK_EXPIRED_IDLE || cs == CK_EXPIRED_LIFETIME)
        audit_end(c, d, sid, cs);
    /* The token alone tells the answer, whatever the store said. */
    if (ts == CK_TOKEN_EXPIRED) {
        *end = CK_EXPIRED_LIFETIME;
        return AUTH_ENDED;
    }
    if (cs == CK_EXPIRED_IDLE || cs == CK_EXPIRED_LIFETIME || cs == CK_NOT_FOUND ||
        cs == CK_ERR_INVALID) {
        *end = cs == CK_ERR_INVALID ? CK_NOT_FOUND : cs;
        return AUTH_ENDED;
    }
    return AUTH_STORE;
}

/*
 * The session of a request, touched (every valid call is a keep-alive)
 * when refresh is set, else only read. The signature is checked before
 * the store is asked. For AUTH_ENDED, *end says why: CK_EXPIRED_IDLE,
 * CK_EXPIRED_LIFETIME (also for a token past its exp, which is the
 * session's deadline) or CK_NOT_FOUND.
 */
static auth_result authenticate_as(struct MHD_Connection *c, const ckd *d, ck_session *s,
                                   char sid[CK_SID_LEN], ck_status *end, int refresh)
{
    ck_token_status ts = CK_TOKEN_MALFORMED;
    ck_store *st;
    ck_status cs;
    auth_result ar;

    *end = CK_NOT_FOUND;
    ar = auth_token(c, d, sid, &ts);
    if (ar != AUTH_OK)
        return ar;
    st = ckd_store(d);
    if (!st)
        return AUTH_STORE;
    /* An expired token's session is past its deadline: the touch only ends it. */
    cs = refresh ? ck_store_touch(st, sid, s) : ck_store_get(st, sid, s);
    ar = auth_settle(c, d, sid, ts, cs, end);
    if (ar == AUTH_STORE)
        ckd_log(d, LOG_ERR, "%s: %s: %s", refresh ? "touch" : "get", ck_status_str(cs),
                ck_store_errstr(st));
    return ar;
}

static auth_result authenticate(struct MHD_Connection *c, const ckd *d, ck_session *s,
                                char sid[CK_SID_LEN], ck_status *end)
{
    return authenticate_as(c, d, s, sid, end, 1);
}

/*
 * The session the browser's cookie names, touched. A Bearer token is not
 * a browser's: only the cookie counts here.
 */
int ckd_cookie_session(struct MHD_Connection *c, const ckd *d, ck_session *s,
                       char sid[CK_SID_LEN])
{
    const char *cookies, *tok;
    size_t len = 0;
    int dup = 0;
    ck_store *st;

    cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    tok = cookies ? ckd_cookie_value(cookies, d->cookie_name, &len, &dup) : NULL;
    if (!tok || dup || len == 0 || len > CK_TOKEN_MAX ||
        ck_token_verify(d->ring, tok, len, ck_now(), sid, NULL, NULL) != CK_TOKEN_OK)
        return -1;
    st = ckd_store(d);
    if (st && ck_store_touch(st, sid, s) == CK_OK)
        return 0;
    OPENSSL_cleanse(sid, CK_SID_LEN);
    return -1;
}

/*
 * A new login from a browser replaces the session its cookie held, so the
 * old one does not live on beside it until it times out.
 */
void ckd_replace_cookie_session(struct MHD_Connection *c, const ckd *d, const char *client)
{
    ck_session s;
    char sid[CK_SID_LEN];
    ck_store *st;
    ck_status cs;

    if (ckd_cookie_session(c, d, &s, sid) != 0)
        return;
    st = ckd_store(d);
    cs = ck_store_delete(st, sid);
    OPENSSL_cleanse(sid, sizeof(sid));
    if (cs != CK_OK) {
        ckd_log(d, LOG_ERR, "end replaced session: %s: %s", ck_status_str(cs),
                ck_store_errstr(st));
        if (cs == CK_ERR_NOT_DURABLE)
            ckd_audit(d, "logout", s.user_id, "session", client, s.key_hex, "failure",
                      "not_durable");
        return;
    }
    ckd_audit(d, "logout", s.user_id, "session", client, s.key_hex, "success",
              "replaced_by_login");
}

/* GET /login with a live session: nothing to ask, on to rd. */
static enum MHD_Result login_page(struct MHD_Connection *c, const ckd *d, const char *rd)
{
    ck_session s;
    char sid[CK_SID_LEN];
    struct MHD_Response *r;

    if (ckd_cookie_session(c, d, &s, sid) != 0)
        return ckd_login_page(c, d, MHD_HTTP_OK, rd, NULL);
    OPENSSL_cleanse(sid, sizeof(sid));
    r = ckd_text("text/plain; charset=utf-8", "Already signed in.\n");
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rd ? rd : "/");
    return ckd_send(c, d, MHD_HTTP_SEE_OTHER, r, 1);
}

/* "20 minutes", "24 hours", "90 seconds": a configured span for people. */
static void span_text(int secs, char *buf, size_t len)
{
    if (secs % 3600 == 0)
        snprintf(buf, len, "%d hour%s", secs / 3600, secs == 3600 ? "" : "s");
    else if (secs % 60 == 0)
        snprintf(buf, len, "%d minute%s", secs / 60, secs == 60 ? "" : "s");
    else
        snprintf(buf, len, "%d second%s", secs, secs == 1 ? "" : "s");
}

/* What the user is told about a session that ended (end as authenticate). */
static void end_text(const ckd *d, ck_status end, char *buf, size_t len)
{
    char span[32];

    if (end == CK_EXPIRED_IDLE) {
        span_text(d->cfg.inactivity_timeout, span, sizeof(span));
        snprintf(buf, len, "Your session expired after %s of inactivity. "
                 "Please sign in again.", span);
    } else if (end == CK_EXPIRED_LIFETIME) {
        span_text(d->cfg.absolute_lifetime, span, sizeof(span));
        snprintf(buf, len, "Your session reached its %s limit. Please sign in again.", span);
    } else {
        snprintf(buf, len, "no valid session");
    }
}

static const char *end_word(ck_status end)
{
    return end == CK_EXPIRED_IDLE ? "expired_idle" :
           end == CK_EXPIRED_LIFETIME ? "expired_lifetime" : NULL;
}

/* The answer of /session, given what authenticate found. */
static enum MHD_Result session_reply(struct MHD_Connection *c, const ckd *d, auth_result ar,
                                     const ck_session *sp, ck_status end)
{
    const ck_session s = *sp;
    char text[160];
    struct MHD_Response *r;

    if (ar == AUTH_STORE)
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    if (ar == AUTH_ENDED && end_word(end)) {
        /* nginx can pass the header on to the login page (auth_request_set). */
        end_text(d, end, text, sizeof(text) - 1);
        text[strlen(text) + 1] = '\0';
        text[strlen(text)] = '\n';
        r = ckd_text("text/plain; charset=utf-8", text);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "X-Checkup-Session-End", end_word(end));
        return ckd_send(c, d, MHD_HTTP_UNAUTHORIZED, r, 1);
    }
    if (ar != AUTH_OK)
        return ckd_error(c, d, MHD_HTTP_UNAUTHORIZED, "no valid session");
    r = ckd_text("text/plain; charset=utf-8", "");
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "X-Checkup-User", s.user_id);
    MHD_add_response_header(r, "X-Checkup-Email", s.email);
    MHD_add_response_header(r, "X-Checkup-Role", s.role);
    MHD_add_response_header(r, "X-Checkup-Clinic", s.clinic_id);
    MHD_add_response_header(r, "X-Checkup-Auth-Method", ck_auth_method_name(s.method));
    return ckd_send(c, d, MHD_HTTP_OK, r, 1);
}

/* The answer of /v1/users/me, given what authenticate found. */
static enum MHD_Result me_reply(struct MHD_Connection *c, const ckd *d, auth_result ar,
                                const ck_session *sp, ck_status end)
{
    const ck_session s = *sp;
    struct MHD_Response *r;
    json_t *j;
    char *body, text[160];

    if (ar == AUTH_STORE)
        return ckd_json_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "session store unavailable");
    if (ar == AUTH_ENDED && end_word(end)) {
        end_text(d, end, text, sizeof(text));
        return ckd_json_error(c, d, MHD_HTTP_UNAUTHORIZED, end == CK_EXPIRED_IDLE ?
                              "session_expired_idle" : "session_expired_lifetime", text);
    }
    if (ar != AUTH_OK)
        return ckd_json_error(c, d, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                              "no valid session");
    j = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:I}", "user", s.user_id,
                  "email", s.email, "role", s.role, "clinic",
                  s.clinic_id[0] ? s.clinic_id : NULL, "auth_method",
                  ck_auth_method_name(s.method), "created", (json_int_t)s.created,
                  "expires", (json_int_t)s.expires, "deadline", (json_int_t)s.deadline);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
        return ckd_json_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "no memory");
    r = ckd_take("application/json", body);
    if (!r)
        return MHD_NO;
    ckd_cors(c, d, r);
    return ckd_send(c, d, MHD_HTTP_OK, r, 1);
}

/* ---- keep-alives ------------------------------------------------------- */

typedef enum MHD_Result (*keepalive_reply)(struct MHD_Connection *c, const ckd *d,
                                           auth_result ar, const ck_session *s,
                                           ck_status end);

/*
 * A keep-alive handed to the touch pool: the token was checked on the
 * request thread, the store is asked by the pool's thread together with
 * the others queued at the time (one round trip or transaction for all),
 * and the answer is given when the connection is resumed.
 */
typedef struct touch_job {
    ckd_job job;                    /* first: ckd_pool_release frees it all */
    char sid[CK_SID_LEN];
    ck_token_status ts;
    ck_status cs;
    ck_session s;
    keepalive_reply reply;
} touch_job;

static void touch_clear(ckd_job *job)
{
    touch_job *tj = job->data;

    OPENSSL_cleanse(tj->sid, sizeof(tj->sid));
}

static enum MHD_Result touch_answer(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    touch_job *tj = rq->job->data;
    ck_status end = CK_NOT_FOUND;
    auth_result ar = auth_settle(c, d, tj->sid, tj->ts, tj->cs, &end);

    OPENSSL_cleanse(tj->sid, sizeof(tj->sid));
    return tj->reply(c, d, ar, &tj->s, end);
}

/* The touch pool's batch: every queued keep-alive in one store call. */
void ckd_touch_batch(const ckd *d, ckd_job **jobs, size_t n)
{
    const char *sids[CKD_BATCH_MAX];
    ck_session *outs[CKD_BATCH_MAX];
    ck_status res[CKD_BATCH_MAX];
    ck_store *st = ckd_store(d);
    size_t failed = 0;
    ck_status first = CK_OK;

    for (size_t i = 0; i < n; i++) {
        touch_job *tj = jobs[i]->data;

        sids[i] = tj->sid;
        outs[i] = &tj->s;
        res[i] = CK_ERR_UNAVAILABLE;
    }
    if (st)
        ck_store_touch_many(st, n, sids, outs, res);
    for (size_t i = 0; i < n; i++) {
        touch_job *tj = jobs[i]->data;

        tj->cs = res[i];
        if (res[i] >= CK_ERR_INVALID && res[i] != CK_ERR_INVALID && failed++ == 0)
            first = res[i];
    }
    /* One line for a batch: a store outage fails every keep-alive in it. */
    if (failed)
        ckd_log(d, LOG_ERR, "touch: %s: %s (%zu of %zu keep-alives)", ck_status_str(first),
                st ? ck_store_errstr(st) : "no store handle", failed, n);
}

/* /session and /v1/users/me: the token checked here, the touch batched. */
static enum MHD_Result keepalive(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                                 keepalive_reply reply)
{
    ck_session s;
    char sid[CK_SID_LEN];
    ck_status end = CK_NOT_FOUND;
    ck_token_status ts = CK_TOKEN_MALFORMED;
    auth_result ar;
    enum MHD_Result ret;
    ck_store *st;
    ck_status cs;
    touch_job *tj;

    memset(&s, 0, sizeof(s));
    if (d->touch_pool) {
        ar = auth_token(c, d, sid, &ts);
        if (ar != AUTH_OK)
            return reply(c, d, ar, &s, end);
        /* Touched this second already (embedded store): answered here, no write. */
        st = ckd_store(d);
        if (st && ck_store_touch_cheap(st, sid, &s, &cs)) {
            ar = auth_settle(c, d, sid, ts, cs, &end);
            OPENSSL_cleanse(sid, sizeof(sid));
            return reply(c, d, ar, &s, end);
        }
        tj = calloc(1, sizeof(*tj));
        if (!tj) {
            OPENSSL_cleanse(sid, sizeof(sid));
            return reply(c, d, AUTH_STORE, &s, end);
        }
        memcpy(tj->sid, sid, sizeof(sid));
        OPENSSL_cleanse(sid, sizeof(sid));
        tj->ts = ts;
        tj->reply = reply;
        tj->job.data = tj;
        tj->job.answer = touch_answer;
        tj->job.clear = touch_clear;
        if (ckd_job_start(c, d, d->touch_pool, rq, &tj->job, &ret))
            return ret;
        /* The queue is full: this one is done in place. */
    }
    ar = authenticate(c, d, &s, sid, &end);
    OPENSSL_cleanse(sid, sizeof(sid));
    return reply(c, d, ar, &s, end);
}

static enum MHD_Result cors_preflight(struct MHD_Connection *c, const ckd *d)
{
    struct MHD_Response *r = ckd_text(NULL, "");

    if (!r)
        return MHD_NO;
    ckd_cors(c, d, r);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST");
    MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    return ckd_send(c, d, MHD_HTTP_NO_CONTENT, r, 0);
}

/* What a logout did: who, and how it went. */
typedef struct logout_done {
    auth_result ar;
    ck_session s;
    size_t count;
    ck_status cs;               /* the store's answer to the end itself */
} logout_done;

/* Ends this session, or all of the user's, and audits it. */
static void logout_core(struct MHD_Connection *c, const ckd *d, int all, logout_done *o)
{
    char sid[CK_SID_LEN], client[CKD_ADDR_MAX];
    ck_store *st;
    ck_status end;

    o->count = 0;
    o->cs = CK_OK;
    /*
     * Read, not touched: a touch is a write, which a full store may
     * refuse, and nothing may stand in front of the delete (which frees
     * room). Read-only, an expired session is reported, not removed.
     */
    o->ar = authenticate_as(c, d, &o->s, sid, &end, 0);
    if (o->ar == AUTH_OK) {
        st = ckd_store(d);
        o->cs = all ? ck_store_revoke_user(st, o->s.user_id, &o->count) :
                      ck_store_delete(st, sid);
        if (!all && o->cs == CK_OK)
            o->count = 1;
        if (o->cs != CK_OK)
            ckd_log(d, LOG_ERR, "logout: %s: %s", ck_status_str(o->cs), ck_store_errstr(st));
    }
    OPENSSL_cleanse(sid, sizeof(sid));
    /* Not durable: gone from the primary, not confirmed by the replicas. */
    if (o->ar == AUTH_OK && (o->cs == CK_OK || o->cs == CK_ERR_NOT_DURABLE)) {
        ckd_client_addr(c, d, client);
        ckd_audit(d, all ? "logout_all" : "logout", o->s.user_id, "session", client,
                  o->s.key_hex, o->cs == CK_OK ? "success" : "failure",
                  o->cs == CK_OK ? NULL : "not_durable");
    }
}

/*
 * The session is gone from the Redis primary, but too few replicas
 * confirmed it ([store] wait_replicas): a failover could bring it back, so
 * the logout is not reported as done (503; logout_core audited the
 * reason). The cookie is cleared all the same: this browser keeps no token.
 */
#define NOT_DURABLE_TEXT "the logout may not survive a failover of the session store; " \
                         "sign out again"

static enum MHD_Result logout_not_durable(struct MHD_Connection *c, const ckd *d, int api)
{
    struct MHD_Response *r;

    r = api ? ckd_text("application/json", "{\"error\":\"not_durable\",\"message\":\""
                       NOT_DURABLE_TEXT "\"}\n")
            : ckd_text("text/plain; charset=utf-8", "503 " NOT_DURABLE_TEXT "\n");
    if (r) {
        ckd_set_cookie(r, d, "", 0);
        if (api)
            ckd_cors(c, d, r);
    }
    return ckd_send(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, r, 1);
}

/* POST /logout and /logout/all: end this session, or all of the user's. */
static enum MHD_Result logout_endpoint(struct MHD_Connection *c, const ckd *d, int all)
{
    struct MHD_Response *r;
    logout_done o;
    char *idp;

    if (!ckd_same_origin(c, d))
        return ckd_error(c, d, MHD_HTTP_FORBIDDEN, "cross-origin request refused");
    logout_core(c, d, all, &o);
    if (o.cs == CK_ERR_NOT_DURABLE)
        return logout_not_durable(c, d, 0);
    if (o.ar == AUTH_STORE || o.cs != CK_OK)
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "session store unavailable");
    /* A provider's session ends at the provider too (RP-initiated logout). */
    idp = o.ar == AUTH_OK ? ckd_oidc_logout_url(d, &o.s) : NULL;
    /* Logging out without a session still clears whatever cookie is there. */
    r = ckd_text("text/plain; charset=utf-8", "Signed out.\n");
    if (r) {
        ckd_set_cookie(r, d, "", 0);
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, idp ? idp : "/login");
    }
    free(idp);
    return ckd_send(c, d, MHD_HTTP_SEE_OTHER, r, 1);
}

/*
 * POST /v1/auth/logout and /v1/auth/logout-all, with the cookie or a
 * Bearer token: {"ended": N} and the cookie cleared. A cookie is sent by
 * the browser on its own, so it counts only from our pages or a listed
 * origin; a Bearer token is always the caller's own.
 */
static enum MHD_Result api_logout(struct MHD_Connection *c, const ckd *d, int all)
{
    struct MHD_Response *r;
    logout_done o;
    char body[64];

    /* Only a Bearer token: another scheme (Basic a browser adds by itself
     * for a proxy in front) leaves the cookie to answer for the request. */
    if (!ckd_bearer_sent(c) && !ckd_api_origin_ok(c, d))
        return ckd_json_error(c, d, MHD_HTTP_FORBIDDEN, "cross_origin",
                              "cross-origin request refused");
    logout_core(c, d, all, &o);
    if (o.cs == CK_ERR_NOT_DURABLE)
        return logout_not_durable(c, d, 1);
    if (o.ar == AUTH_STORE || o.cs != CK_OK)
        return ckd_json_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "session store unavailable");
    if (o.ar == AUTH_NONE || o.ar == AUTH_BAD)
        return ckd_json_error(c, d, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                              "no valid session");
    /* An ended session is logged out already: 0 ended, and no error. */
    snprintf(body, sizeof(body), "{\"ended\":%zu}\n", o.count);
    r = ckd_text("application/json", body);
    if (r) {
        ckd_set_cookie(r, d, "", 0);
        ckd_cors(c, d, r);
    }
    return ckd_send(c, d, MHD_HTTP_OK, r, 1);
}

static enum MHD_Result healthz_endpoint(struct MHD_Connection *c, const ckd *d)
{
    ck_store *st = ckd_store(d);
    ck_status cs = st ? ck_store_ping(st) : CK_ERR_UNAVAILABLE;

    if (cs != CK_OK) {
        ckd_log(d, LOG_WARNING, "health: store: %s", st ? ck_store_errstr(st) : "not open");
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "store unreachable");
    }
    return ckd_send(c, d, MHD_HTTP_OK, ckd_text("text/plain; charset=utf-8", "ok\n"), 0);
}

/* The daemon's own figures after the store's: the login pools. */
static char *add_pool_metrics(const ckd *d, char *body)
{
    ckd_pool *const pools[] = { d->login_pool, d->provider_pool, d->touch_pool };
    char extra[8192];
    size_t n = strlen(body), m;
    char *grown;

    if (ckd_pool_metrics(pools, 3, ckd_password_hashes(), extra, sizeof(extra)) != 0)
        return body;
    m = strlen(extra);
    grown = realloc(body, n + m + 1);
    if (!grown) {
        free(body);
        return NULL;
    }
    memcpy(grown + n, extra, m + 1);
    return grown;
}

/* The same figures and rendering as "checkup metrics" (ck_metrics.h), and the pools'. */
static enum MHD_Result metrics_endpoint(struct MHD_Connection *c, const ckd *d)
{
    ck_store *st;
    ck_figures f;
    struct MHD_Response *r;
    char *body;

    if (!ckd_metrics_allowed(c, d))
        return ckd_error(c, d, MHD_HTTP_FORBIDDEN, "not in metrics_allow");
    st = ckd_store(d);
    if (!st)
        return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "store unreachable");
    /* A store that does not answer still yields figures (store_up 0). */
    if (ck_figures_collect(st, &d->cfg, &f) != CK_OK)
        ckd_log(d, LOG_WARNING, "metrics: %s", f.error);
    body = ck_figures_prometheus(&f);
    if (!body)
        return ckd_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "no memory");
    body = add_pool_metrics(d, body);
    if (!body)
        return ckd_error(c, d, MHD_HTTP_INTERNAL_SERVER_ERROR, "no memory");
    r = ckd_take("text/plain; version=0.0.4; charset=utf-8", body);
    if (!r)
        return MHD_NO;
    return ckd_send(c, d, MHD_HTTP_OK, r, 0);
}

/* ---- work handed to a pool ---------------------------------------------- */

enum MHD_Result ckd_busy(struct MHD_Connection *c, const ckd *d)
{
    struct MHD_Response *r = ckd_text("text/plain; charset=utf-8",
                                      "503 busy: too many sign-ins at once, try again\n");

    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    return ckd_send(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, r, 1);
}

int ckd_job_start(struct MHD_Connection *c, const ckd *d, ckd_pool *pool, ckd_req *rq,
                  ckd_job *job, enum MHD_Result *ret)
{
    rq->job = job;
    if (!pool) {
        job->run(d, job);
        job->state = CKD_JOB_DONE;
        *ret = job->answer(c, d, rq);
        return 1;
    }
    if (ckd_pool_submit(pool, c, job) == 0) {
        /* Answered when the pool resumes the connection (job_answer). */
        *ret = MHD_YES;
        return 1;
    }
    rq->job = NULL;
    ckd_pool_release(job);
    return 0;
}

/* The handler's call after a pool resumed the connection. */
static enum MHD_Result job_answer(struct MHD_Connection *c, const ckd *d, ckd_req *rq)
{
    switch (rq->job->state) {
    case CKD_JOB_DONE:
        return rq->job->answer(c, d, rq);
    default:
        if (rq->job->answer == touch_answer)
            return ckd_error(c, d, MHD_HTTP_SERVICE_UNAVAILABLE, "checkupd is stopping");
        /*
         * Stopping, or the client seemed gone (its socket read EOF): a 503
         * either way. MHD_NO would log a line per hang-up (a flood of them
         * under a spray), and a client that only shut down its sending
         * side still gets an answer.
         */
        return ckd_busy(c, d);
    }
}

/* ---- dispatch ----------------------------------------------------------- */

static enum MHD_Result route_get(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                                 const char *url)
{
    const char *rd;

    if (strcmp(url, "/session") == 0)
        return keepalive(c, d, rq, session_reply);
    if (strcmp(url, "/v1/users/me") == 0)
        return keepalive(c, d, rq, me_reply);
    if (strcmp(url, "/healthz") == 0)
        return healthz_endpoint(c, d);
    if (strcmp(url, "/metrics") == 0)
        return metrics_endpoint(c, d);
    if (strcmp(url, "/login") == 0) {
        rd = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "rd");
        if (rd && (strlen(rd) >= CKD_FORM_FIELD_MAX || !ckd_redirect_ok(d, rd)))
            return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "redirect target not allowed");
        return login_page(c, d, rd);
    }
    if (strncmp(url, "/login/", 7) == 0) {
        rd = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "rd");
        if (rd && (strlen(rd) >= CKD_FORM_FIELD_MAX || !ckd_redirect_ok(d, rd)))
            return ckd_error(c, d, MHD_HTTP_BAD_REQUEST, "redirect target not allowed");
        return ckd_oidc_start(c, d, rq, url + 7, rd ? rd : "/", NULL);
    }
    if (strcmp(url, "/callback") == 0)
        return ckd_oidc_callback(c, d, rq);
    if (strcmp(url, "/.well-known/jwks.json") == 0)
        return ckd_jwks(c, d);
    if (strcmp(url, "/t/done") == 0)
        return ckd_terminal_done(c, d);
    if (strncmp(url, "/t/", 3) == 0)
        return ckd_terminal(c, d, rq, url + 3);
    if (strncmp(url, "/backchannel-logout", 19) == 0)
        return ckd_error(c, d, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    return ckd_error(c, d, MHD_HTTP_NOT_FOUND, "not found");
}

/*
 * Paths where a GET starts or consumes a pending login: a HEAD there
 * (link previewers, monitors) must not, so it is refused rather than
 * answered as a GET without the body.
 */
static int changes_state(const char *url)
{
    return strncmp(url, "/login/", 7) == 0 || strcmp(url, "/callback") == 0 ||
           (strncmp(url, "/t/", 3) == 0 && strcmp(url, "/t/done") != 0);
}

static enum MHD_Result get_only(struct MHD_Connection *c, const ckd *d)
{
    struct MHD_Response *r;

    r = ckd_text("text/plain; charset=utf-8", "405 method not allowed\n");
    if (r)
        MHD_add_response_header(r, "Allow", "GET");
    return ckd_send(c, d, MHD_HTTP_METHOD_NOT_ALLOWED, r, 1);
}

static enum MHD_Result route(struct MHD_Connection *c, const ckd *d, ckd_req *rq,
                             const char *url, const char *method)
{
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
              strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    if (strncmp(url, "/v1/", 4) == 0 && strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
        return cors_preflight(c, d);
    if (get && strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 && changes_state(url))
        return get_only(c, d);
    if (get)
        return route_get(c, d, rq, url);
    if (!post)
        return ckd_error(c, d, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (strcmp(url, "/login") == 0)
        return ckd_login_post(c, d, rq);
    if (strcmp(url, "/logout") == 0)
        return logout_endpoint(c, d, 0);
    if (strcmp(url, "/logout/all") == 0)
        return logout_endpoint(c, d, 1);
    if (strcmp(url, "/v1/auth/login") == 0)
        return ckd_api_login(c, d, rq);
    if (strcmp(url, "/v1/auth/logout") == 0)
        return api_logout(c, d, 0);
    if (strcmp(url, "/v1/auth/logout-all") == 0)
        return api_logout(c, d, 1);
    if (rq->logout_token)
        return ckd_backchannel_logout(c, d, rq);
    return ckd_error(c, d, MHD_HTTP_NOT_FOUND, "not found");
}

/* POST /backchannel-logout or /backchannel-logout/<provider>. */
static int backchannel_path(const ckd *d, const char *url, char provider[72])
{
    const char *rest;

    (void)d;
    if (strncmp(url, "/backchannel-logout", 19) != 0)
        return 0;
    rest = url + 19;
    if (rest[0] == '\0')
        return 1;
    if (rest[0] != '/' || !rest[1] || strlen(rest + 1) >= 72)
        return 0;
    snprintf(provider, 72, "%s", rest + 1);
    return 1;
}

static ckd_req *req_new(struct MHD_Connection *c, const ckd *d, const char *url,
                        const char *method)
{
    ckd_req *rq = calloc(1, sizeof(*rq));

    if (!rq)
        return NULL;
    ckd_client_addr(c, d, rq->client);
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return rq;
    if (backchannel_path(d, url, rq->bcl_provider)) {
        rq->logout_cap = d->dc.body_max + 1;
        rq->logout_token = calloc(1, rq->logout_cap);
        if (!rq->logout_token) {
            free(rq);
            return NULL;
        }
    }
    if (strcmp(url, "/v1/auth/login") == 0) {
        rq->api = 1;
        if (media_is(c, "application/json")) {
            rq->json = malloc(d->dc.body_max + 1);
            if (!rq->json) {
                free(rq);
                return NULL;
            }
            return rq;
        }
        if (!media_is(c, "application/x-www-form-urlencoded") &&
            !media_is(c, "multipart/form-data")) {
            rq->bad_type = 1;
            return rq;
        }
    }
    if (strcmp(url, "/login") == 0 || rq->api || rq->logout_token)
        rq->pp = MHD_create_post_processor(c, 1024, form_field, rq);
    return rq;
}

/* A declared body over the limit is refused before it is read. */
static int declared_too_big(struct MHD_Connection *c, const ckd *d)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long n;

    if (!cl)
        return 0;
    n = strtoull(cl, &end, 10);
    return *end != '\0' || n > d->dc.body_max;
}

enum MHD_Result ckd_dispatch(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version,
                             const char *upload_data, size_t *upload_data_size,
                             void **con_cls)
{
    const ckd *d = cls;
    ckd_req *rq = *con_cls;
    const char *unsafe;

    (void)version;
    if (!rq) {
        unsafe = ckd_request_unsafe(c, method, url);
        if (unsafe) {
            if (d->verbose)
                ckd_log(d, LOG_NOTICE, "request refused: %s", unsafe);
            return ckd_refuse_close(c, d, unsafe);
        }
        if (declared_too_big(c, d))
            return ckd_error(c, d, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
        rq = req_new(c, d, url, method);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (rq->job)
        return job_answer(c, d, rq);
    if (*upload_data_size > 0) {
        take_body(rq, d, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* Head and body are in: the deadline for the request is off. */
    ckd_guard_head_done(d, c);
    return route(c, d, rq, url, method);
}

void ckd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                   enum MHD_RequestTerminationCode toe)
{
    ckd_req *rq = *con_cls;

    (void)toe;
    ckd_guard_request_done(cls, c);
    if (!rq)
        return;
    if (rq->job)
        ckd_pool_release(rq->job);
    if (rq->pp)
        MHD_destroy_post_processor(rq->pp);
    OPENSSL_cleanse(rq->password, sizeof(rq->password));
    if (rq->json) {
        const ckd *d = cls;

        OPENSSL_cleanse(rq->json, rq->body_len < d->dc.body_max ? rq->body_len :
                        d->dc.body_max);
        free(rq->json);
    }
    if (rq->logout_token) {
        OPENSSL_cleanse(rq->logout_token, rq->logout_cap);
        free(rq->logout_token);
    }
    free(rq);
    *con_cls = NULL;
}
