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

#include "ck_lockout.h"
#include "ck_store.h"
#include "ck_users.h"

#define CK_LOGIN_PASSWORD_MAX 4096   /* longer passwords are wrong unread */

typedef enum ck_login_result {
    CK_LOGIN_OK = 0,
    CK_LOGIN_LOCKED,        /* account or remote host locked: not checked */
    CK_LOGIN_FAILED,        /* unknown user, no password, wrong password, or a
                               disabled account (right password or not): counted */
    CK_LOGIN_STORE_ERROR    /* see store_status, store_what, ck_store_errstr */
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
    /* out */
    const ck_user *user;            /* the user found (set even on failure) */
    const char *account;            /* the counter name: the user's email, or the name */
    int locked_account;             /* CK_LOGIN_LOCKED: 1 account, 0 host */
    ck_status store_status;
    const char *store_what;         /* which step failed, for the log */
} ck_login;

/* The name for an audit event, never NULL; the audit writer hashes a name of no known shape. */
const char *ck_login_user_label(const char *name);

/*
 * Checks name and password; on CK_LOGIN_OK lg->user is the user, enabled.
 * Exactly one login_success or login_failure event per call (reason
 * unknown_user, no_password, bad_password or account_disabled), or one
 * locked event.
 */
ck_login_result ck_login_password(ck_login *lg, const char *name, const char *password);

/*
 * Counts one failure against lg->account and lg->rhost and audits a lock
 * that it starts (with method "password" or "token" chosen by the caller's
 * audit callback). Returns CK_LOGIN_FAILED or CK_LOGIN_STORE_ERROR.
 */
ck_login_result ck_login_fail(ck_login *lg);

/* A new session for users-file user u: every field zero but the user id,
 * email, role and clinic, which come from u. The caller sets the rest. */
void ck_login_session_init(ck_session *s, const ck_user *u);

#endif
