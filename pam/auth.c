/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * auth.c - pam_sm_authenticate: a password checked against the users
 * file, or a checkup session token checked by signature, then in the
 * store (which keeps the session alive).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "ck_anomaly.h"
#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_login.h"
#include "module.h"

static void debug(ck_pam_call *c, const char *msg)
{
    if (c->args.debug)
        pam_syslog(c->pamh, LOG_DEBUG, "%s", msg);
}

/* The shared password login (ck_login.h), auditing through pam_syslog. */
typedef struct pam_login {
    ck_pam_call *c;
    const char *method;
} pam_login;

static void login_audit(void *ud, const char *event, const char *user, const char *result,
                        const char *reason)
{
    pam_login *pl = ud;

    ck_pam_audit(pl->c, event, user, pl->method, NULL, result, reason);
}

static void login_init(ck_pam_call *c, ck_login *lg, pam_login *pl, const ck_users *users,
                       const char *method)
{
    memset(lg, 0, sizeof(*lg));
    pl->c = c;
    pl->method = method;
    lg->store = c->ctx->store;
    lg->lockout = &c->ctx->lockout;
    lg->users = users;
    lg->rhost = c->rhost;
    lg->cfg = &c->ctx->cfg;
    lg->audit = login_audit;
    lg->ud = pl;
    lg->host_slots = 1;     /* a process per login: the host's slots bound the hashes */
    lg->hash_priority = CK_HASH_IDLE;
}

static void tell_locked(ck_pam_call *c)
{
    char span[64];

    if (c->ctx->lockout.unlock_time > 0) {
        ck_pam_duration(c->ctx->lockout.unlock_time, span, sizeof(span));
        ck_pam_tell(c, 1, "Too many failed logins: locked for up to %s.", span);
    } else {
        ck_pam_tell(c, 1, "Too many failed logins: locked until an administrator unlocks it.");
    }
}

/* Counts a failure against the account and the host; audits a new lock. */
static int count_failure(ck_pam_call *c, const char *account, const char *method)
{
    ck_login lg;
    pam_login pl;

    login_init(c, &lg, &pl, NULL, method);
    lg.account = account;
    if (ck_login_fail(&lg) == CK_LOGIN_FAILED)
        return PAM_AUTH_ERR;
    return ck_pam_store_error(c, lg.store_status, lg.store_what);
}

static int remember(ck_pam_call *c, const ck_user *u, unsigned method)
{
    c->ctx->authed = 1;
    c->ctx->method = method;
    c->ctx->user = *u;
    return PAM_SUCCESS;
}

static int password_auth(ck_pam_call *c, const char *name, const char *password)
{
    const ck_users *users = NULL;
    ck_login lg;
    pam_login pl;
    int rc;

    rc = ck_pam_users(c, name, &users);
    if (rc != PAM_SUCCESS)
        return rc;
    login_init(c, &lg, &pl, users, "password");
    switch (ck_login_password(&lg, name, password)) {
    case CK_LOGIN_OK:
        rc = remember(c, lg.user, CK_METHOD_PASSWORD);
        break;
    case CK_LOGIN_LOCKED:
        tell_locked(c);
        rc = PAM_AUTH_ERR;
        break;
    case CK_LOGIN_FAILED:
        rc = PAM_AUTH_ERR;
        break;
    case CK_LOGIN_BUSY:
        pam_syslog(c->pamh, LOG_ERR, "%s", lg.busy);
        ck_pam_tell(c, 1, "Too many logins at once on this host: please try again.");
        rc = PAM_AUTHINFO_UNAVAIL;
        break;
    default:
        rc = ck_pam_store_error(c, lg.store_status, lg.store_what);
        break;
    }
    return rc;
}

void ck_pam_session_ended(ck_pam_call *c, ck_status st, const char *user, const char *method)
{
    char span[64];
    int idle = st == CK_EXPIRED_IDLE;

    ck_pam_audit(c, idle ? "session_expired_idle" : "session_expired_lifetime", user, method,
                 c->ctx->sess.key_hex[0] ? c->ctx->sess.key_hex : NULL, "failure",
                 idle ? "expired_idle" : "expired_lifetime");
    ck_pam_duration(idle ? c->ctx->cfg.inactivity_timeout : c->ctx->cfg.absolute_lifetime,
                    span, sizeof(span));
    if (idle)
        ck_pam_tell(c, 1, "Your checkup session expired after %s of inactivity. "
                          "Please log in again.", span);
    else
        ck_pam_tell(c, 1, "Your checkup session reached its %s limit. Please log in again.",
                    span);
}

static int token_reject(ck_pam_call *c, const char *name, const char *sid_hash,
                        const char *reason, int count)
{
    ck_pam_audit(c, "token_rejected", ck_login_user_label(name), "token", sid_hash, "failure",
                 reason);
    /* Forgeries count towards lockout; a session that merely ended does not. */
    return count ? count_failure(c, name, "token") : PAM_AUTH_ERR;
}

/* The user named at the prompt, checked against the session read. */
typedef struct token_user {
    ck_pam_call *c;
    const ck_user *u;
    const char *refused;        /* user_mismatch, account_disabled */
} token_user;

static int token_user_check(void *ud, const ck_session *s)
{
    token_user *tu = ud;

    /* A valid token for someone else's session is an attack, not a login. */
    if (!tu->u || strcmp(tu->u->email, s->user_id) != 0) {
        tu->refused = "user_mismatch";
        return -1;
    }
    /*
     * A disabled account keeps no session (checkup user disable ends them),
     * but one edited in by hand may: refused here, not at acct_mgmt, which
     * a stack may not ask.
     */
    if (tu->u->disabled) {
        tu->refused = "account_disabled";
        return -1;
    }
    return 0;
}

/* Answers every outcome of ck_login_token_check but success. */
static int token_refused(ck_pam_call *c, ck_login_token *tl, ck_login_token_result r,
                         token_user *tu, const char *who)
{
    switch (r) {
    case CK_LOGIN_TOKEN_ENDED:
        ck_pam_session_ended(c, tl->ended, ck_login_user_label(who), "token");
        return PAM_AUTH_ERR;
    case CK_LOGIN_TOKEN_REJECTED:
        return token_reject(c, who, tl->sid_hash[0] ? c->ctx->sess.key_hex : NULL, tl->reason,
                            tl->forged);
    case CK_LOGIN_TOKEN_CHECK_FAILED:
        /* Not counted when disabled: a valid token is no guess. */
        if (strcmp(tu->refused, "account_disabled") == 0)
            ck_pam_tell(c, 1, "Your checkup account is disabled. Ask your administrator.");
        return token_reject(c, who, c->ctx->sess.key_hex, tu->refused,
                            strcmp(tu->refused, "user_mismatch") == 0);
    case CK_LOGIN_TOKEN_ANOMALY:
        ck_pam_tell(c, 1, "This checkup session belongs to another address.");
        return PAM_AUTH_ERR;
    default:
        return ck_pam_store_error(c, tl->store_status, tl->store_what);
    }
}

static int token_auth(ck_pam_call *c, const char *name, const char *token)
{
    const ck_users *users = NULL;
    ck_login_token tl;
    ck_login_token_result r;
    token_user tu = { c, NULL, NULL };
    const char *who;
    int rc;

    rc = ck_pam_load_ring(c);
    if (rc == PAM_SUCCESS)
        rc = ck_pam_users(c, name, &users);
    if (rc != PAM_SUCCESS)
        return rc;
    tu.u = strlen(name) < CK_EMAIL_MAX ? ck_users_find(users, name) : NULL;
    who = tu.u ? tu.u->email : name;
    /*
     * No lockout check before a token: a valid signature cannot be guessed,
     * and someone guessing alice's password must not be able to end her
     * running sessions by locking her account. Forged tokens count as
     * failures (token_refused).
     */
    memset(&tl, 0, sizeof(tl));
    tl.store = c->ctx->store;
    tl.cfg = &c->ctx->cfg;
    tl.ring = c->ctx->ring;
    tl.rhost = c->rhost;
    tl.service = c->service;
    tl.check = token_user_check;
    tl.ud = &tu;
    r = ck_login_token_check(&tl, token, strlen(token));
    /* The session as last seen; one that ended is named by its id's hash. */
    c->ctx->sess = tl.sess;
    if (r == CK_LOGIN_TOKEN_ENDED || (r == CK_LOGIN_TOKEN_REJECTED && !tl.forged))
        snprintf(c->ctx->sess.key_hex, sizeof(c->ctx->sess.key_hex), "%s", tl.sid_hash);
    if (r != CK_LOGIN_TOKEN_OK) {
        rc = token_refused(c, &tl, r, &tu, who);
        goto out;
    }
    /* A token proves a session, not the password: the failure count stays. */
    ck_pam_audit(c, "login_success", tu.u->email, "token", c->ctx->sess.key_hex, "success",
                 "keepalive");
    free(c->ctx->token);
    c->ctx->token = strdup(token);
    if (!c->ctx->token) {
        rc = PAM_BUF_ERR;
        goto out;
    }
    memcpy(c->ctx->sid, tl.sid, sizeof(tl.sid));
    c->ctx->attached = 1;
    c->ctx->created = 0;
    rc = remember(c, tu.u, CK_METHOD_TOKEN);
out:
    ck_login_token_done(&tl);
    return rc;
}

/* Reads the secret, honouring use_first_pass and try_first_pass. */
static int get_secret(ck_pam_call *c, const char **secret)
{
    const void *item = NULL;
    const char *prompt = c->args.methods == CK_METHOD_TOKEN ? "checkup token: "
                         : c->args.methods == CK_METHOD_PASSWORD ? "Password: "
                         : "Password or checkup token: ";

    if (c->args.use_first_pass || c->args.try_first_pass) {
        if (pam_get_item(c->pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item) {
            *secret = item;
            return PAM_SUCCESS;
        }
        if (c->args.use_first_pass) {
            debug(c, "use_first_pass: no password from an earlier module");
            return PAM_AUTH_ERR;
        }
    }
    return pam_get_authtok(c->pamh, PAM_AUTHTOK, secret, prompt);
}

/* [audit] on_failure = deny and no audit file: no login goes unwritten. */
static int refuse_unaudited(ck_pam_call *c)
{
    const void *item = NULL;

    /* The name if the application set one: a refused login prompts for nothing. */
    (void)pam_get_item(c->pamh, PAM_USER, &item);
    ck_pam_audit(c, "login_failure", item, NULL, NULL, "failure", "audit_unavailable");
    ck_pam_tell(c, 1, "Login refused: the audit trail is unavailable.");
    return PAM_AUTHINFO_UNAVAIL;
}

int ck_pam_authenticate(ck_pam_call *c)
{
    const char *name = NULL, *secret = NULL;
    int rc;

    /* A second authenticate in one handle starts from nothing. */
    c->ctx->authed = 0;
    c->ctx->attached = 0;
    /* Refused before any prompt when a file the login needs is unusable. */
    rc = ck_pam_require_files(c);
    if (rc == PAM_SUCCESS)
        rc = ck_pam_need_store(c);
    if (rc != PAM_SUCCESS)
        return rc;
    if (ck_pam_audit_gate(c) != 0)
        return refuse_unaudited(c);
    /* The browser login names the account: PAM_USER is checked or set there. */
    if (c->args.methods & CK_METHOD_TERMINAL)
        return ck_pam_terminal_auth(c);
    rc = pam_get_user(c->pamh, &name, NULL);
    if (rc != PAM_SUCCESS || !name || !*name) {
        pam_syslog(c->pamh, LOG_NOTICE, "no user name");
        return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
    }
    rc = get_secret(c, &secret);
    if (rc != PAM_SUCCESS || !secret)
        return rc == PAM_SUCCESS ? PAM_AUTH_ERR : rc;
    if ((c->args.methods & CK_METHOD_TOKEN) && ck_token_looks_like(secret))
        return token_auth(c, name, secret);
    if (c->args.methods & CK_METHOD_PASSWORD)
        return password_auth(c, name, secret);
    return token_auth(c, name, secret);
}
