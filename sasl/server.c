/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.c - the OAUTHBEARER server mechanism: a checkup session token
 * checked by signature, then in the store (the exchange is a use of the
 * session: its idle clock moves), and its user handed to Cyrus's
 * canonicalisation, so the service's own authorization rules apply.
 *
 * A refused token is answered as RFC 7628 3.2.2 says: an error challenge
 * in JSON, the client's lone %x01, then the failure. A message that is
 * not OAUTHBEARER fails at once (SASL_BADPROT), and so does an unusable
 * configuration, key ring, users file or store (SASL_UNAVAIL).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "ck_audit.h"
#include "ck_login.h"
#include "cks.h"
#include "oauthbearer.h"

#define METHOD "sasl"

typedef struct srv_conn {
    int step;                   /* 0: first message; 1: waiting for the %x01 */
    int fail_code;              /* what the failure after the %x01 returns */
    char rhost[CK_RHOST_MAX];
    char service[CK_SERVICE_MAX];
    char out[1200];             /* the error challenge */
} srv_conn;

/* One exchange's view while its first message is checked. */
typedef struct srv_call {
    srv_conn *c;
    sasl_server_params_t *sp;
    cks_use use;
    ck_ob_msg msg;
    ck_user user;               /* the session's, once found */
    const char *name;           /* the identity handed to Cyrus */
    const char *refused;        /* session_user_check's reason */
} srv_call;

/* One audit event; sid is the short session name (ck_audit.h) or "". */
static void audit_sid(srv_call *x, const char *event, const char *user, const char *sid,
                      const char *result, const char *reason)
{
    ck_audit_event ev;

    ev.event = event;
    ev.user = user ? user : "";
    ev.method = METHOD;
    ev.service = x->c->service;
    ev.rhost = x->c->rhost;
    ev.sid_hash = sid;
    ev.result = result;
    ev.reason = reason;
    (void)ck_audit_emit(x->use.cfg, x->use.store, &ev, LOG_NOTICE, ck_audit_syslog, NULL);
}

/* The account a forged token counts against: the session's user, else the authzid. */
static const char *account_of(srv_call *x)
{
    if (x->user.email[0])
        return x->user.email;
    return x->msg.has_authzid ? x->msg.authzid : "";
}

/* Counts a failed login against account and the client's address (lockout, metrics). */
static void count_failure(srv_call *x, const char *account)
{
    ck_login lg;

    memset(&lg, 0, sizeof(lg));
    lg.store = x->use.store;
    lg.lockout = x->use.lockout;
    lg.rhost = x->c->rhost;
    lg.cfg = x->use.cfg;
    lg.account = account;
    (void)ck_login_fail(&lg);   /* a store error here changes no answer: refused anyway */
}

/* Sends the error challenge; the failure comes after the client's %x01. */
static int challenge(srv_call *x, int code, const char **out, unsigned *outlen)
{
    size_t n = ck_ob_error_json(x->c->out, sizeof(x->c->out), CKS_SCOPE, x->use.public_url);

    if (n == 0)
        n = ck_ob_error_json(x->c->out, sizeof(x->c->out), CKS_SCOPE, NULL);
    x->c->fail_code = code;
    x->c->step = 1;
    *out = x->c->out;
    *outlen = (unsigned)n;
    return SASL_CONTINUE;
}

static int store_error(srv_call *x, ck_status st, const char *op)
{
    x->sp->utils->log(x->sp->utils->conn, SASL_LOG_ERR,
                      "checkup OAUTHBEARER: store (%s) %s: %s: %s",
                      ck_store_backend(x->use.store), op, ck_status_str(st),
                      ck_store_errstr(x->use.store));
    return st == CK_ERR_NOMEM ? SASL_NOMEM : SASL_UNAVAIL;
}

/* The name the service sees: the session's user, as the authzid asks, or NULL. */
static const char *identity(srv_call *x)
{
    if (!x->msg.has_authzid)
        return x->user.email;
    if (strcasecmp(x->msg.authzid, x->user.email) == 0)
        return x->user.email;
    if (x->user.local_user[0] && strcmp(x->msg.authzid, x->user.local_user) == 0)
        return x->user.local_user;
    return NULL;
}

/*
 * ck_login_token_check's test of the session read, before it is touched
 * under bind = enforce: its user is in the users file, enabled, and is
 * the one the authzid names.
 */
static int session_user_check(void *ud, const ck_session *s)
{
    srv_call *x = ud;

    if (cks_find_user(s->user_id, &x->user) != 0 || strcasecmp(x->user.email, s->user_id) != 0) {
        OPENSSL_cleanse(&x->user, sizeof(x->user));    /* no one's record stays */
        x->refused = "unknown_user";
        return -1;
    }
    if (x->user.disabled) {
        x->refused = "account_disabled";
        return -1;
    }
    x->name = identity(x);
    if (!x->name) {
        x->refused = "authzid_mismatch";
        return -1;
    }
    return 0;
}

/* Audits a refused token once and sends the error challenge. */
static int token_refused(srv_call *x, ck_login_token *tl, ck_login_token_result r,
                         const char **out, unsigned *outlen)
{
    switch (r) {
    case CK_LOGIN_TOKEN_ENDED: {
        int idle = tl->ended == CK_EXPIRED_IDLE;

        audit_sid(x, idle ? "session_expired_idle" : "session_expired_lifetime",
                  account_of(x), tl->sid_hash, "failure",
                  idle ? "expired_idle" : "expired_lifetime");
        return challenge(x, SASL_BADAUTH, out, outlen);
    }
    case CK_LOGIN_TOKEN_REJECTED:
        audit_sid(x, "token_rejected", account_of(x), tl->sid_hash, "failure", tl->reason);
        /* Forgeries count towards lockout; a session that merely ended does not. */
        if (tl->forged)
            count_failure(x, account_of(x));
        return challenge(x, SASL_BADAUTH, out, outlen);
    case CK_LOGIN_TOKEN_CHECK_FAILED:
        if (strcmp(x->refused, "authzid_mismatch") == 0) {
            /* Someone else's token offered for this authzid is an attack: counted. */
            ck_user target;

            audit_sid(x, "token_rejected", x->msg.authzid, tl->sid_hash, "failure", x->refused);
            /* Counted against the account named, by its email as every counter is. */
            if (cks_find_user(x->msg.authzid, &target) == 0) {
                count_failure(x, target.email);
                OPENSSL_cleanse(&target, sizeof(target));
            } else {
                count_failure(x, x->msg.authzid);
            }
            return challenge(x, SASL_NOAUTHZ, out, outlen);
        }
        audit_sid(x, "token_rejected", tl->sess.user_id, tl->sid_hash, "failure", x->refused);
        return challenge(x, SASL_BADAUTH, out, outlen);
    case CK_LOGIN_TOKEN_ANOMALY:        /* audited as an anomaly already */
        return challenge(x, SASL_BADAUTH, out, outlen);
    default:
        return store_error(x, tl->store_status, tl->store_what);
    }
}

/* The token: signature, session, user; then the name to Cyrus. */
static int check_token(srv_call *x, const char **out, unsigned *outlen,
                       sasl_out_params_t *oparams)
{
    ck_login_token tl;
    ck_login_token_result r;
    int rc;

    memset(&tl, 0, sizeof(tl));
    tl.store = x->use.store;
    tl.cfg = x->use.cfg;
    tl.ring = x->use.ring;
    tl.rhost = x->c->rhost;
    tl.service = x->c->service;
    tl.check = session_user_check;
    tl.ud = x;
    r = ck_login_token_check(&tl, x->msg.token, x->msg.token_len);
    if (r != CK_LOGIN_TOKEN_OK) {
        rc = token_refused(x, &tl, r, out, outlen);
        goto out;
    }
    /* Cyrus canonicalises the name; the service's authz rules see the result. */
    rc = x->sp->canon_user(x->sp->utils->conn, x->name, 0,
                           SASL_CU_AUTHID | SASL_CU_AUTHZID | SASL_CU_EXTERNALLY_VERIFIED,
                           oparams);
    if (rc != SASL_OK) {
        audit_sid(x, "login_failure", x->user.email, tl.sid_hash, "failure", "canon_user");
        goto out;
    }
    audit_sid(x, "login_success", x->user.email, tl.sid_hash, "success", "keepalive");
    oparams->doneflag = 1;
    oparams->mech_ssf = 0;
    oparams->maxoutbuf = 0;
    oparams->encode_context = NULL;
    oparams->encode = NULL;
    oparams->decode_context = NULL;
    oparams->decode = NULL;
    oparams->param_version = 0;
    *out = NULL;
    *outlen = 0;
out:
    ck_login_token_done(&tl);
    return rc;
}

/* "[192.0.2.1]:389", "192.0.2.1;389" (Cyrus): the address alone. */
static void remote_host(const sasl_server_params_t *sp, char *buf, size_t len)
{
    const char *s = sp->ipremoteport;
    size_t n;

    buf[0] = '\0';
    if (!s)
        return;
    n = strcspn(s, ";");
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

static int first_message(srv_conn *c, sasl_server_params_t *sp, const char *in, unsigned inlen,
                         const char **out, unsigned *outlen, sasl_out_params_t *oparams)
{
    srv_call *x;
    ck_ob_status ps;
    int rc;

    x = calloc(1, sizeof(*x));
    if (!x)
        return SASL_NOMEM;
    x->c = c;
    x->sp = sp;
    ps = ck_ob_parse(in, inlen, &x->msg);
    rc = cks_begin(sp, &x->use);
    if (rc != SASL_OK)
        goto out;
    if (ck_audit_gate(x->use.cfg, ck_audit_syslog, NULL) != 0) {
        audit_sid(x, "login_failure", "", "", "failure", "audit_unavailable");
        rc = SASL_UNAVAIL;
        goto out;
    }
    if (ps != CK_OB_OK) {
        /* Not OAUTHBEARER as RFC 7628 writes it: no error challenge. */
        audit_sid(x, "login_failure", x->msg.has_authzid ? x->msg.authzid : "", "", "failure",
                  ck_ob_status_word(ps));
        sp->utils->seterror(sp->utils->conn, 0, "OAUTHBEARER: malformed message (%s)",
                            ck_ob_status_word(ps));
        rc = SASL_BADPROT;
        goto out;
    }
    rc = check_token(x, out, outlen, oparams);
out:
    cks_end(&x->use);
    OPENSSL_cleanse(x, sizeof(*x));
    free(x);
    return rc;
}

static int srv_new(void *glob, sasl_server_params_t *sp, const char *challenge_in,
                   unsigned challen, void **conn_context)
{
    srv_conn *c = sp->utils->malloc(sizeof(*c));

    (void)glob;
    (void)challenge_in;
    (void)challen;
    if (!c)
        return SASL_NOMEM;
    memset(c, 0, sizeof(*c));
    remote_host(sp, c->rhost, sizeof(c->rhost));
    if (sp->service)
        snprintf(c->service, sizeof(c->service), "%s", sp->service);
    *conn_context = c;
    return SASL_OK;
}

static int srv_step(void *conn_context, sasl_server_params_t *sp, const char *in,
                    unsigned inlen, const char **out, unsigned *outlen,
                    sasl_out_params_t *oparams)
{
    srv_conn *c = conn_context;

    *out = NULL;
    *outlen = 0;
    if (c->step == 0)
        return first_message(c, sp, in, inlen, out, outlen, oparams);
    /* After the error challenge only the lone %x01 is a proper answer. */
    c->step = 2;
    sp->utils->seterror(sp->utils->conn, 0, "OAUTHBEARER: invalid token");
    if (inlen != 1 || in[0] != '\x01')
        return SASL_BADPROT;
    return c->fail_code ? c->fail_code : SASL_BADAUTH;
}

static void srv_dispose(void *conn_context, const sasl_utils_t *utils)
{
    if (conn_context)
        utils->free(conn_context);
}

static void srv_free(void *glob, const sasl_utils_t *utils)
{
    (void)glob;
    (void)utils;
    cks_state_free();
}

static sasl_server_plug_t server_plug = {
    .mech_name = CKS_MECH,
    .max_ssf = 0,
    /* A bearer token travels as it is: plaintext (TLS is the service's job). */
    .security_flags = SASL_SEC_NOANONYMOUS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .glob_context = NULL,
    .mech_new = srv_new,
    .mech_step = srv_step,
    .mech_dispose = srv_dispose,
    .mech_free = srv_free,
};

int cks_server_plug(sasl_server_plug_t **plug)
{
    *plug = &server_plug;
    return 1;
}
