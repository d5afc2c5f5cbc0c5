/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * login.c - one password login for the PAM module and checkupd: the
 * lockout checks, the hash, failure counting and the audit events; and
 * one token login for the PAM module and the SASL plugin.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ck_anomaly.h"
#include "ck_clock.h"
#include "ck_hashslot.h"
#include "ck_login.h"

const char *ck_login_user_label(const char *name)
{
    /* The audit writer hashes any name not of a known shape (ck_audit.h). */
    return name ? name : "";
}

static void audit(ck_login *lg, const char *event, const char *result, const char *reason)
{
    if (lg->audit)
        lg->audit(lg->ud, event, ck_login_user_label(lg->account), result, reason);
}

static ck_login_result store_error(ck_login *lg, ck_status st, const char *what)
{
    lg->store_status = st;
    lg->store_what = what;
    return CK_LOGIN_STORE_ERROR;
}

ck_login_result ck_login_fail(ck_login *lg)
{
    int64_t count;
    int locked = 0;
    ck_status st;

    st = ck_lockout_fail(lg->store, lg->lockout, CK_LOCK_ACCOUNT, lg->account, &count,
                         &locked);
    if (st != CK_OK)
        return store_error(lg, st, "failure count");
    if (locked)
        audit(lg, "locked", "failure", "account_locked");
    st = ck_lockout_fail(lg->store, lg->lockout, CK_LOCK_HOST, lg->rhost, &count, &locked);
    if (st != CK_OK)
        return store_error(lg, st, "failure count");
    if (locked)
        audit(lg, "locked", "failure", "host_locked");
    /* Failures across many accounts from one address lock it (audited there). */
    if (lg->cfg) {
        st = ck_anomaly_failure(lg->store, lg->cfg, lg->rhost, lg->account, &locked);
        if (st != CK_OK)
            return store_error(lg, st, "failure burst count");
    }
    return CK_LOGIN_FAILED;
}

/* Refuses while the account or the remote host is locked out. */
static ck_login_result check_locks(ck_login *lg)
{
    int locked_user = 0, locked_host = 0;
    ck_status st;

    st = ck_lockout_check(lg->store, lg->lockout, CK_LOCK_ACCOUNT, lg->account, &locked_user);
    if (st == CK_OK)
        st = ck_lockout_check(lg->store, lg->lockout, CK_LOCK_HOST, lg->rhost, &locked_host);
    if (st != CK_OK)
        return store_error(lg, st, "lockout check");
    if (!locked_user && !locked_host)
        return CK_LOGIN_OK;
    lg->locked_account = locked_user;
    audit(lg, "locked", "failure", locked_user ? "account_locked" : "host_locked");
    return CK_LOGIN_LOCKED;
}

ck_login_result ck_login_check_locks(ck_login *lg, const char *name)
{
    lg->store_status = CK_OK;
    lg->store_what = NULL;
    lg->locked_account = 0;
    lg->hashed = 0;
    lg->user = NULL;
    lg->account = name;
    return check_locks(lg);
}

/* The hash, also for an unknown user (the same time); 1 when it matches. */
static int password_ok(ck_login *lg, const ck_user *u, const char *password)
{
    if (strlen(password) > CK_LOGIN_PASSWORD_MAX)
        return 0;
    lg->hashed = 1;
    return ck_password_verify(lg->users, u, password, lg->hash_priority);
}

/* One of the host's slots for the hash, or CK_HASH_SLOT_NONE when none is needed. */
static int take_slot(ck_login *lg)
{
    const ck_config *cfg = lg->cfg;

    if (!lg->host_slots || !cfg)
        return CK_HASH_SLOT_NONE;
    return ck_hash_slot_take(ck_hash_slot_file(cfg), ck_hash_slot_count(cfg),
                             cfg->hash_wait * 1000, lg->busy, sizeof(lg->busy));
}

ck_login_result ck_login_password(ck_login *lg, const char *name, const char *password)
{
    const ck_user *u;
    ck_login_result rc;
    ck_status st;
    int slot, ok;

    lg->store_status = CK_OK;
    lg->store_what = NULL;
    lg->locked_account = 0;
    lg->hashed = 0;
    lg->busy[0] = '\0';
    u = strlen(name) < CK_EMAIL_MAX ? ck_users_find(lg->users, name) : NULL;
    lg->user = u;
    lg->account = u ? u->email : name;
    rc = check_locks(lg);
    if (rc != CK_LOGIN_OK)
        return rc;
    slot = take_slot(lg);
    if (slot == CK_HASH_SLOT_BUSY || slot == CK_HASH_SLOT_UNUSABLE) {
        audit(lg, "login_failure", "failure",
              slot == CK_HASH_SLOT_BUSY ? "queue_full" : "hash_slots_unusable");
        return CK_LOGIN_BUSY;
    }
    /* The hash is computed even for an unknown user: timing tells nothing. */
    ok = password_ok(lg, u, password);
    ck_hash_slot_give(slot);
    if (!ok || !u) {
        audit(lg, "login_failure", "failure",
              !u ? "unknown_user" : u->hash[0] != '$' ? "no_password" : "bad_password");
        return ck_login_fail(lg);
    }
    /*
     * A disabled account fails here, after the same hash and the same
     * failure count as a wrong password, so that its answer tells no one
     * whether the password was right. Only the audit says why.
     */
    if (u->disabled) {
        audit(lg, "login_failure", "failure", "account_disabled");
        return ck_login_fail(lg);
    }
    st = ck_lockout_success(lg->store, lg->lockout, u->email);
    if (st != CK_OK)
        return store_error(lg, st, "lockout reset");
    audit(lg, "login_success", "success", NULL);
    return CK_LOGIN_OK;
}

void ck_login_session_init(ck_session *s, const ck_user *u)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "%s", u->email);
    snprintf(s->email, sizeof(s->email), "%s", u->email);
    snprintf(s->role, sizeof(s->role), "%s", u->role);
    snprintf(s->clinic_id, sizeof(s->clinic_id), "%s", u->clinic_id);
}

/* One word per refused token, for the audit trail. */
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

/* A token whose session the store did not give back (st != CK_OK). */
static ck_login_token_result token_store_failed(ck_login_token *tl, ck_status st,
                                                const char *op)
{
    if (st == CK_EXPIRED_IDLE || st == CK_EXPIRED_LIFETIME) {
        tl->ended = st;
        return CK_LOGIN_TOKEN_ENDED;
    }
    /* A good signature and no session: ended by logout or revocation. */
    if (st == CK_NOT_FOUND || st == CK_ERR_INVALID) {
        tl->reason = "session_not_found";
        return CK_LOGIN_TOKEN_REJECTED;
    }
    tl->store_status = st;
    tl->store_what = op;
    return CK_LOGIN_TOKEN_STORE_ERROR;
}

ck_login_token_result ck_login_token_check(ck_login_token *tl, const char *token, size_t len)
{
    int enforce = tl->cfg && tl->cfg->bind_mode == CK_BIND_ENFORCE;
    ck_anomaly_result ar;
    ck_token_status ts;
    char why[32];
    ck_status st;

    tl->sid_hash[0] = '\0';
    memset(&tl->sess, 0, sizeof(tl->sess));
    tl->reason = NULL;
    tl->forged = 0;
    tl->ended = CK_OK;
    tl->store_status = CK_OK;
    tl->store_what = NULL;
    ts = ck_token_verify(tl->ring, token, len, ck_now(), tl->sid, NULL, NULL);
    /* Its exp is the session's deadline: the session reached its lifetime. */
    if (ts == CK_TOKEN_EXPIRED) {
        ck_audit_sid_hash_of(tl->sid, tl->sid_hash);
        tl->ended = CK_EXPIRED_LIFETIME;
        return CK_LOGIN_TOKEN_ENDED;
    }
    if (ts != CK_TOKEN_OK) {
        tl->reason = token_reason(ts);
        tl->forged = 1;
        return CK_LOGIN_TOKEN_REJECTED;
    }
    ck_audit_sid_hash_of(tl->sid, tl->sid_hash);
    st = enforce ? ck_store_get(tl->store, tl->sid, &tl->sess)
                 : ck_store_touch(tl->store, tl->sid, &tl->sess);
    if (st != CK_OK)
        return token_store_failed(tl, st, enforce ? "get" : "touch");
    if (tl->check && tl->check(tl->ud, &tl->sess) != 0)
        return CK_LOGIN_TOKEN_CHECK_FAILED;
    /* A session bound to its client ([anomaly] bind): a use from elsewhere. */
    ar = ck_anomaly_check(tl->cfg, &tl->sess, tl->rhost, tl->user_agent, why, sizeof(why));
    if (ar != CK_ANOMALY_OK)
        ck_anomaly_audit(tl->store, tl->cfg, tl->sess.user_id, tl->service, tl->rhost,
                         tl->sess.key_hex, why, ar == CK_ANOMALY_REFUSE);
    if (ar == CK_ANOMALY_REFUSE)
        return CK_LOGIN_TOKEN_ANOMALY;
    if (enforce) {
        st = ck_store_touch(tl->store, tl->sid, &tl->sess);
        if (st != CK_OK)
            return token_store_failed(tl, st, "touch");
    }
    return CK_LOGIN_TOKEN_OK;
}

void ck_login_token_done(ck_login_token *tl)
{
    OPENSSL_cleanse(tl->sid, sizeof(tl->sid));
    OPENSSL_cleanse(&tl->sess, sizeof(tl->sess));
}
