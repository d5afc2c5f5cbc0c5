/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_login.h - a password login as every front end does it (the PAM
 * module and checkupd): lockout checks for the account and the remote
 * host, the users file's hash, failure counting, and the audit events,
 * in one order everywhere.
 *
 * Counters are kept per email, so a login by local name and one by email
 * share one. Audit events go to a callback (the PAM module writes them
 * with pam_syslog, the daemon to its log); they never carry the password.
 */
#ifndef CK_LOGIN_H
#define CK_LOGIN_H

#include "ck_audit.h"
#include "ck_lockout.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define CK_LOGIN_PASSWORD_MAX 4096   /* longer passwords are wrong unread */

typedef enum ck_login_result {
    CK_LOGIN_OK = 0,
    CK_LOGIN_LOCKED,        /* account or remote host locked: not checked */
    CK_LOGIN_FAILED,        /* unknown user, no password, wrong password, or a
                               disabled account (right password or not): counted */
    CK_LOGIN_STORE_ERROR,   /* see store_status, store_what, ck_store_errstr */
    CK_LOGIN_BUSY           /* no password-check slot (ck_hashslot.h): see busy; not counted */
} ck_login_result;

/* One audit event: event, user, result ("success"/"failure"), reason or NULL. */
typedef void (*ck_login_audit_fn)(void *ud, const char *event, const char *user,
                                  const char *result, const char *reason);

typedef struct ck_login {
    /* in */
    ck_store *store;
    const ck_lockout *lockout;
    const ck_users *users;
    const char *rhost;              /* remote host or address; "" when none */
    const ck_config *cfg;           /* [anomaly] failure bursts; NULL: not watched */
    ck_login_audit_fn audit;
    void *ud;
    int host_slots;                 /* 1: hash in one of the host's [passwords] slots (cfg
                                       set); a daemon with a login pool of its own leaves 0 */
    ck_hash_priority hash_priority; /* CK_HASH_LOW (0) unless the caller says otherwise */
    /* out */
    const ck_user *user;            /* the user found (set even on failure) */
    const char *account;            /* the counter name: the user's email, or the name */
    int locked_account;             /* CK_LOGIN_LOCKED: 1 account, 0 host */
    ck_status store_status;
    const char *store_what;         /* which step failed, for the log */
    int hashed;                     /* 1 once the password's hash was computed */
    char busy[256];                 /* CK_LOGIN_BUSY: why, for the log */
} ck_login;

/* The name for an audit event, never NULL; the audit writer hashes a name of no known shape. */
const char *ck_login_user_label(const char *name);

/*
 * Checks name and password; on CK_LOGIN_OK lg->user is the user, enabled.
 * Exactly one login_success or login_failure event per call (reason
 * unknown_user, no_password, bad_password or account_disabled; queue_full
 * or hash_slots_unusable for CK_LOGIN_BUSY, which counts no failure), or
 * one locked event.
 */
ck_login_result ck_login_password(ck_login *lg, const char *name, const char *password);

/*
 * The refusals that need no hash, for a caller that hands the hash to
 * another thread (checkupd's login pool) and should not queue a login it
 * can refuse now: the lock of the remote host, and the lock of the
 * account counted under name exactly as given. No users file is read, so
 * a known and an unknown name are answered alike (one locked event, the
 * same time): this tells no one whether an account exists. A known user's
 * counter is kept under the users file's email, so a lock is seen here
 * only when name is that email as written; ck_login_password checks again
 * with the file's spelling, before its hash, and refuses the rest.
 * CK_LOGIN_LOCKED (audited, lg->locked_account set), CK_LOGIN_OK or
 * CK_LOGIN_STORE_ERROR.
 */
ck_login_result ck_login_check_locks(ck_login *lg, const char *name);

/*
 * Counts one failure against lg->account and lg->rhost and audits a lock
 * that it starts (with method "password" or "token" chosen by the caller's
 * audit callback). Returns CK_LOGIN_FAILED or CK_LOGIN_STORE_ERROR.
 */
ck_login_result ck_login_fail(ck_login *lg);

/* A new session for users-file user u: every field zero but the user id,
 * email, role and clinic, which come from u. The caller sets the rest. */
void ck_login_session_init(ck_session *s, const ck_user *u);

/*
 * A token login as every front end does it (the PAM module's token
 * method, the SASL plugin's OAUTHBEARER): the signature first, so a forged
 * token costs no store round trip; then the session touched in the store
 * (a use moves its idle clock). Under [anomaly] bind = enforce the session
 * is only read until the caller's check and the binding allow this use, so
 * that a refused use leaves its idle clock where it was (one more round
 * trip, in that mode only).
 *
 * Nothing is audited here but an anomaly (ck_anomaly_audit): the caller
 * writes the one event of the outcome with its own method and service, as
 * ck_login_token_result says.
 */
typedef enum ck_login_token_result {
    CK_LOGIN_TOKEN_OK = 0,          /* tl->sess is the session, touched */
    CK_LOGIN_TOKEN_REJECTED,        /* event token_rejected, reason tl->reason; tl->forged:
                                       a forged or broken token, count it as a failure */
    CK_LOGIN_TOKEN_ENDED,           /* the session ended: tl->ended is CK_EXPIRED_IDLE or
                                       CK_EXPIRED_LIFETIME (event session_expired_*) */
    CK_LOGIN_TOKEN_CHECK_FAILED,    /* the caller's check refused the session */
    CK_LOGIN_TOKEN_ANOMALY,         /* a use from elsewhere under bind = enforce (audited) */
    CK_LOGIN_TOKEN_STORE_ERROR      /* see tl->store_status, tl->store_what */
} ck_login_token_result;

/* The caller's own test of the session read (user, account), 0 to go on. */
typedef int (*ck_login_token_check_fn)(void *ud, const ck_session *s);

typedef struct ck_login_token {
    /* in */
    ck_store *store;
    const ck_config *cfg;
    const ck_keyring *ring;
    const char *rhost;              /* for the binding check; NULL or "" unknown */
    const char *user_agent;         /* likewise; NULL for none */
    const char *service;            /* for an anomaly's audit line */
    ck_login_token_check_fn check;  /* NULL: none */
    void *ud;
    /* out */
    char sid[CK_SID_LEN];           /* the session id (a secret): wiped by ck_login_token_done */
    char sid_hash[CK_SID_HASH_LEN]; /* its short name for the audit, once the token verified */
    ck_session sess;                /* as read or touched */
    const char *reason;             /* REJECTED: bad_signature, unknown_kid, bad_alg,
                                       malformed, internal_error, session_not_found */
    int forged;
    ck_status ended;
    ck_status store_status;
    const char *store_what;         /* get, touch */
} ck_login_token;

/* Checks token (len bytes) at ck_now(); fills tl's outputs. */
ck_login_token_result ck_login_token_check(ck_login_token *tl, const char *token, size_t len);
/* Wipes the session id and the session copy. */
void ck_login_token_done(ck_login_token *tl);

#endif
