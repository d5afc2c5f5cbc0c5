/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * session.c - pam_sm_open_session / pam_sm_close_session: a login becomes
 * a checkup session (unless a token attached an existing one), handed to
 * the session as CHECKUP_SESSION=<token>; logout deletes what open made.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "ck_login.h"
#include "module.h"

static int put_env(ck_pam_call *c, const char *token)
{
    size_t len = strlen(CK_PAM_ENV) + 1 + strlen(token) + 1;
    char *kv = malloc(len);
    int rc;

    if (!kv)
        return PAM_BUF_ERR;
    snprintf(kv, len, "%s=%s", CK_PAM_ENV, token);
    rc = pam_putenv(c->pamh, kv);
    OPENSSL_cleanse(kv, len);
    free(kv);
    return rc;
}

/* The user for a session that checkup did not authenticate (e.g. ssh keys). */
static int find_user(ck_pam_call *c, ck_user *out)
{
    const ck_users *users = NULL;
    const ck_user *u;
    const char *name = NULL;
    int rc;

    if (pam_get_user(c->pamh, &name, NULL) != PAM_SUCCESS || !name || !*name)
        return PAM_IGNORE;
    rc = ck_pam_users(c, name, &users);
    if (rc != PAM_SUCCESS)
        return rc;
    u = strlen(name) < CK_EMAIL_MAX ? ck_users_find(users, name) : NULL;
    rc = !u ? PAM_IGNORE : u->disabled ? PAM_PERM_DENIED : PAM_SUCCESS;
    if (u)
        *out = *u;
    return rc;
}

static int create(ck_pam_call *c)
{
    ck_pam_ctx *ctx = c->ctx;
    ck_session *s = &ctx->sess;
    char *token = NULL;
    ck_status st;
    int rc;

    rc = ck_pam_load_ring(c);
    if (rc != PAM_SUCCESS)
        return PAM_SESSION_ERR;
    ck_login_session_init(s, &ctx->user);
    s->method = ctx->method == CK_METHOD_CORPPASS ? CK_AUTH_CORPPASS
                : ctx->method == CK_METHOD_OIDC ? CK_AUTH_OIDC : CK_AUTH_EMAIL;
    /* The provider's session, so that its logout can end this one. */
    if (ctx->method & CK_METHOD_TERMINAL)
        snprintf(s->idp_sid, sizeof(s->idp_sid), "%s", ctx->idp_sid);
    ck_pam_text(s->remote_host, sizeof(s->remote_host), c->rhost);
    ck_pam_text(s->service, sizeof(s->service), c->service);
    ck_pam_text(s->tty, sizeof(s->tty), c->tty);
    st = ck_store_create(ctx->store, s, ctx->sid);
    if (st != CK_OK) {
        if (st == CK_ERR_NOT_DURABLE)
            ck_pam_audit(c, "session_open", ctx->user.email, NULL, NULL, "failure",
                         "not_durable");
        ck_pam_store_error(c, st, "create");
        return PAM_SESSION_ERR;
    }
    /* [session] max_per_user ended the user's oldest session to make room. */
    if (ck_store_last_evicted(ctx->store) > 0)
        ck_pam_audit(c, "session_evicted", ctx->user.email, NULL, NULL, "success",
                     "per_user_cap");
    if (ck_token_sign(ctx->ring, ctx->sid, s->created, s->deadline, &token) != CK_TOKEN_OK) {
        pam_syslog(c->pamh, LOG_ERR, "cannot sign the session token");
        ck_store_delete(ctx->store, ctx->sid);
        return PAM_SESSION_ERR;
    }
    free(ctx->token);
    ctx->token = token;
    ctx->created = 1;
    ctx->attached = 0;
    return PAM_SUCCESS;
}

int ck_pam_open_session(ck_pam_call *c)
{
    ck_pam_ctx *ctx = c->ctx;
    ck_user now_user;
    int rc;

    rc = find_user(c, &now_user);
    if (rc == PAM_SUCCESS)
        rc = ck_pam_need_store(c);
    if (rc != PAM_SUCCESS) {
        OPENSSL_cleanse(&now_user, sizeof(now_user));
        return rc;
    }
    /* PAM_USER may have changed since authentication (another module). */
    if (ctx->authed && strcmp(now_user.email, ctx->user.email) != 0) {
        pam_syslog(c->pamh, LOG_NOTICE, "user changed since authentication: new session");
        ctx->authed = ctx->attached = 0;
    }
    if (!ctx->authed) {
        ctx->user = now_user;
        ctx->authed = 1;
        ctx->method = 0;
    }
    OPENSSL_cleanse(&now_user, sizeof(now_user));
    if (!ctx->attached && !ctx->created) {
        rc = create(c);
        if (rc != PAM_SUCCESS)
            return rc;
    }
    rc = put_env(c, ctx->token);
    if (rc != PAM_SUCCESS) {
        pam_syslog(c->pamh, LOG_ERR, "pam_putenv %s: %s", CK_PAM_ENV, pam_strerror(c->pamh, rc));
        return PAM_SESSION_ERR;
    }
    ck_pam_audit(c, "session_open", ctx->user.email,
                 ctx->method ? ck_pam_method_name(ctx->method) : NULL, ctx->sess.key_hex,
                 "success", ctx->attached ? "attached" : "created");
    return PAM_SUCCESS;
}

int ck_pam_close_session(ck_pam_call *c)
{
    ck_pam_ctx *ctx = c->ctx;
    ck_status st;

    /* A session this handle only attached to belongs to someone else. */
    if (!ctx->created) {
        if (c->args.debug)
            pam_syslog(c->pamh, LOG_DEBUG, "close_session: no session created here");
        return PAM_SUCCESS;
    }
    st = ck_store_delete(ctx->store, ctx->sid);
    if (st != CK_OK) {
        if (st == CK_ERR_NOT_DURABLE)
            ck_pam_audit(c, "session_close", ctx->user.email,
                         ctx->method ? ck_pam_method_name(ctx->method) : NULL,
                         ctx->sess.key_hex, "failure", "not_durable");
        ck_pam_store_error(c, st, "delete");
        return PAM_SESSION_ERR;
    }
    ck_pam_audit(c, "session_close", ctx->user.email,
                 ctx->method ? ck_pam_method_name(ctx->method) : NULL, ctx->sess.key_hex,
                 "success", "logout");
    ctx->created = 0;
    OPENSSL_cleanse(ctx->sid, sizeof(ctx->sid));
    pam_putenv(c->pamh, CK_PAM_ENV);
    return PAM_SUCCESS;
}
