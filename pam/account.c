/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * account.c - pam_sm_acct_mgmt: the user is known and enabled, not locked
 * out, and a session that authentication attached is still alive.
 */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "ck_clock.h"
#include "module.h"

/*
 * The store may already have swept a session that ended; what we saw at
 * authentication tells which limit it reached.
 */
static ck_status ended_how(const ck_session *s, int64_t now)
{
    if (s->deadline && now >= s->deadline)
        return CK_EXPIRED_LIFETIME;
    if (s->expires && now >= s->expires)
        return CK_EXPIRED_IDLE;
    return CK_NOT_FOUND;
}

static int check_session(ck_pam_call *c)
{
    ck_pam_ctx *ctx = c->ctx;
    ck_session now_seen;
    ck_status st;

    /*
     * authenticate refreshed the session in the store moments ago; within
     * the same second that answer stands (a logout racing it is no
     * different from one just after us). Later, ask the store again.
     */
    if (ck_now() == ctx->sess.last_activity && ck_now() < ctx->sess.expires)
        return PAM_SUCCESS;
    memset(&now_seen, 0, sizeof(now_seen));
    st = ck_store_get(ctx->store, ctx->sid, &now_seen);
    if (st == CK_OK) {
        ctx->sess = now_seen;
        return PAM_SUCCESS;
    }
    if (st == CK_NOT_FOUND)
        st = ended_how(&ctx->sess, ck_now());
    if (st == CK_EXPIRED_IDLE || st == CK_EXPIRED_LIFETIME) {
        ck_pam_session_ended(c, st, ctx->user.email, "token");
        return PAM_PERM_DENIED;
    }
    if (st == CK_NOT_FOUND) {
        ck_pam_audit(c, "token_rejected", ctx->user.email, "token", ctx->sess.key_hex,
                     "failure", "session_ended");
        ck_pam_tell(c, 1, "Your checkup session has ended. Please log in again.");
        return PAM_PERM_DENIED;
    }
    return ck_pam_store_error(c, st, "get");
}

static int check_locked(ck_pam_call *c, const char *email)
{
    int locked = 0;
    ck_status st;

    st = ck_lockout_check(c->ctx->store, &c->ctx->lockout, CK_LOCK_ACCOUNT, email, &locked);
    if (st != CK_OK)
        return ck_pam_store_error(c, st, "lockout check");
    if (!locked)
        return PAM_SUCCESS;
    ck_pam_audit(c, "locked", email, NULL, NULL, "failure", "account_locked");
    ck_pam_tell(c, 1, "Your checkup account is locked after too many failed logins.");
    return PAM_PERM_DENIED;
}

int ck_pam_account(ck_pam_call *c)
{
    const ck_users *users = NULL;
    const ck_user *u;
    const char *name = NULL;
    int rc;

    rc = pam_get_user(c->pamh, &name, NULL);
    if (rc != PAM_SUCCESS || !name || !*name)
        return PAM_USER_UNKNOWN;
    rc = ck_pam_users(c, name, &users);
    if (rc != PAM_SUCCESS)
        return rc;
    u = strlen(name) < CK_EMAIL_MAX ? ck_users_find(users, name) : NULL;
    if (!u) {
        /* Not ours: let the stack decide ([user_unknown=ignore]). */
        return PAM_USER_UNKNOWN;
    }
    /* Ours: the key ring its session needs and the store must be usable too. */
    rc = ck_pam_load_ring(c);
    if (rc == PAM_SUCCESS)
        rc = ck_pam_need_store(c);
    if (rc != PAM_SUCCESS)
        return rc;
    if (u->disabled) {
        ck_pam_audit(c, "login_failure", u->email, NULL, NULL, "failure", "account_disabled");
        ck_pam_tell(c, 1, "Your checkup account is disabled. Ask your administrator.");
        return PAM_PERM_DENIED;
    }
    /* A session attached by its token is judged by the session (see auth.c). */
    if (c->ctx->authed && c->ctx->attached && strcmp(c->ctx->user.email, u->email) == 0)
        return check_session(c);
    return check_locked(c, u->email);
}
