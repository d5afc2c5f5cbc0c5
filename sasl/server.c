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

#include "ck_anomaly.h"
#include "ck_audit.h"
#include "ck_clock.h"
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
    char sid[CK_SID_LEN];
    ck_session sess;
    ck_user user;
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

/* The same, naming the session by its store key (or none). */
static void audit(srv_call *x, const char *event, const char *user, const char *key_hex,
                  const char *result, const char *reason)
{
    char sid[CK_SID_HASH_LEN] = "";

    if (key_hex && *key_hex)
        ck_audit_sid_hash(key_hex, sid);
    audit_sid(x, event, user, sid, result, reason);
}

/* The account a failure counts against: the session's user, else the authzid. */
static const char *account_of(srv_call *x)
{
    if (x->user.email[0])
        return x->user.email;
    return x->msg.has_authzid ? x->msg.authzid : "";
}

static void count_failure(srv_call *x)
{
    ck_login lg;

    memset(&lg, 0, sizeof(lg));
    lg.store = x->use.store;
    lg.lockout = x->use.lockout;
    lg.rhost = x->c->rhost;
    lg.cfg = x->use.cfg;
    lg.account = account_of(x);
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

static const char *token_reason(ck_token_status ts)
{
    switch (ts) {
    case CK_TOKEN_BAD_ALG: return "bad_alg";
    case CK_TOKEN_UNKNOWN_KID: return "unknown_kid";
    case CK_TOKEN_BAD_SIGNATURE: return "bad_signature";
    case CK_TOKEN_ERR_INTERNAL: return "internal_error";
    default: return "malformed";
    }
}

/* An ended session is gone from the store: named from its id. */
static void session_ended(srv_call *x, ck_status st)
{
    char sid[CK_SID_HASH_LEN];
    int idle = st == CK_EXPIRED_IDLE;

    ck_audit_sid_hash_of(x->sid, sid);
    audit_sid(x, idle ? "session_expired_idle" : "session_expired_lifetime", account_of(x),
              sid, "failure", idle ? "expired_idle" : "expired_lifetime");
}

static void rejected_by_sid(srv_call *x, const char *reason)
{
    char sid[CK_SID_HASH_LEN];

    ck_audit_sid_hash_of(x->sid, sid);
    audit_sid(x, "token_rejected", account_of(x), sid, "failure", reason);
}

static int store_error(srv_call *x, ck_status st, const char *op)
{
    x->sp->utils->log(x->sp->utils->conn, SASL_LOG_ERR,
                      "checkup OAUTHBEARER: store (%s) %s: %s: %s",
                      ck_store_backend(x->use.store), op, ck_status_str(st),
                      ck_store_errstr(x->use.store));
    return st == CK_ERR_NOMEM ? SASL_NOMEM : SASL_UNAVAIL;
}

/* The session the token names, touched (read first under bind = enforce). */
static int load_session(srv_call *x, int *refused)
{
    int enforce = x->use.cfg->bind_mode == CK_BIND_ENFORCE;
    ck_status st;

    *refused = 1;
    st = enforce ? ck_store_get(x->use.store, x->sid, &x->sess)
                 : ck_store_touch(x->use.store, x->sid, &x->sess);
    if (st == CK_EXPIRED_IDLE || st == CK_EXPIRED_LIFETIME) {
        session_ended(x, st);
        return SASL_BADAUTH;
    }
    /* A good signature and no session: ended by logout or revocation. */
    if (st == CK_NOT_FOUND || st == CK_ERR_INVALID) {
        rejected_by_sid(x, "session_not_found");
        return SASL_BADAUTH;
    }
    if (st != CK_OK) {
        *refused = 0;
        return store_error(x, st, enforce ? "get" : "touch");
    }
    *refused = 0;
    return SASL_OK;
}

/* The authzid, if any, must name the session's user: its email or local name. */
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

/* After the signature: store, user, binding; SASL_OK or the failure code. */
static int check_session(srv_call *x, const char **out, unsigned *outlen,
                         sasl_out_params_t *oparams)
{
    const char *name;
    char why[32];
    ck_anomaly_result ar;
    ck_status st;
    int rc, refused;

    rc = load_session(x, &refused);
    if (rc != SASL_OK)
        return refused ? challenge(x, rc, out, outlen) : rc;
    if (cks_find_user(x->sess.user_id, &x->user) != 0 ||
        strcasecmp(x->user.email, x->sess.user_id) != 0) {
        OPENSSL_cleanse(&x->user, sizeof(x->user));    /* no one's record stays */
        audit(x, "token_rejected", x->sess.user_id, x->sess.key_hex, "failure", "unknown_user");
        return challenge(x, SASL_BADAUTH, out, outlen);
    }
    if (x->user.disabled) {
        audit(x, "token_rejected", x->user.email, x->sess.key_hex, "failure",
              "account_disabled");
        return challenge(x, SASL_BADAUTH, out, outlen);
    }
    name = identity(x);
    if (!name) {
        /* Someone else's token offered for this authzid is an attack: counted. */
        audit(x, "token_rejected", x->msg.authzid, x->sess.key_hex, "failure",
              "authzid_mismatch");
        count_failure(x);
        return challenge(x, SASL_NOAUTHZ, out, outlen);
    }
    ar = ck_anomaly_check(x->use.cfg, &x->sess, x->c->rhost, NULL, why, sizeof(why));
    if (ar != CK_ANOMALY_OK)
        ck_anomaly_audit(x->use.store, x->use.cfg, x->user.email, x->c->service, x->c->rhost,
                         x->sess.key_hex, why, ar == CK_ANOMALY_REFUSE);
    if (ar == CK_ANOMALY_REFUSE)
        return challenge(x, SASL_BADAUTH, out, outlen);
    if (x->use.cfg->bind_mode == CK_BIND_ENFORCE) {
        st = ck_store_touch(x->use.store, x->sid, &x->sess);
        if (st != CK_OK) {
            rc = load_session(x, &refused);     /* audits why it ended */
            return refused ? challenge(x, rc == SASL_OK ? SASL_BADAUTH : rc, out, outlen)
                           : store_error(x, st, "touch");
        }
    }
    /* Cyrus canonicalises the name; the service's authz rules see the result. */
    rc = x->sp->canon_user(x->sp->utils->conn, name, 0,
                           SASL_CU_AUTHID | SASL_CU_AUTHZID | SASL_CU_EXTERNALLY_VERIFIED,
                           oparams);
    if (rc != SASL_OK) {
        audit(x, "login_failure", x->user.email, x->sess.key_hex, "failure", "canon_user");
        return rc;
    }
    audit(x, "login_success", x->user.email, x->sess.key_hex, "success", "keepalive");
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
    return SASL_OK;
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
    ck_token_status ts;
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
        audit(x, "login_failure", "", NULL, "failure", "audit_unavailable");
        rc = SASL_UNAVAIL;
        goto out;
    }
    if (ps != CK_OB_OK) {
        /* Not OAUTHBEARER as RFC 7628 writes it: no error challenge. */
        audit(x, "login_failure", x->msg.has_authzid ? x->msg.authzid : "", NULL, "failure",
              ck_ob_status_word(ps));
        sp->utils->seterror(sp->utils->conn, 0, "OAUTHBEARER: malformed message (%s)",
                            ck_ob_status_word(ps));
        rc = SASL_BADPROT;
        goto out;
    }
    /* The signature first: a forged token costs no store round trip. */
    ts = cks_verify(x->msg.token, x->msg.token_len, ck_now(), x->sid);
    if (ts == CK_TOKEN_EXPIRED) {
        /* Its exp is the session's deadline: the session reached its lifetime. */
        session_ended(x, CK_EXPIRED_LIFETIME);
        rc = challenge(x, SASL_BADAUTH, out, outlen);
        goto out;
    }
    if (ts != CK_TOKEN_OK) {
        audit(x, "token_rejected", account_of(x), NULL, "failure", token_reason(ts));
        count_failure(x);
        rc = challenge(x, SASL_BADAUTH, out, outlen);
        goto out;
    }
    rc = check_session(x, out, outlen, oparams);
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
