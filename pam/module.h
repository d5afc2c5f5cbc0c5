/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * module.h - pam_checkup internals, shared by the entry points
 * (pam_checkup.c) and the unit tests, which link them as a convenience
 * library. Nothing here is exported from the module.
 */
#ifndef CK_PAM_MODULE_H
#define CK_PAM_MODULE_H

#include <sys/stat.h>
#include <sys/types.h>

#include <security/pam_modules.h>

#include "cfg.h"
#include "ck_config.h"
#include "ck_lockout.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define CK_PAM_DATA         "pam_checkup_ctx"
#define CK_PAM_ENV          "CHECKUP_SESSION"
#define CK_PASSWORD_MAX     4096

/*
 * Per PAM handle state, kept with pam_set_data across the auth, account
 * and session calls of one handle. The store is closed by the data's
 * cleanup, at pam_end.
 */
typedef struct ck_pam_ctx {
    char *config_path;
    ck_config cfg;
    ck_lockout lockout;
    ck_store *store;
    ck_keyring *ring;           /* loaded when first needed */
    char *public_url;           /* [daemon] public_url, without a trailing '/' */

    /*
     * The last lookup in the users file (through its index), for the
     * name in users_name, and the file it came from: asked again when a
     * stat shows another file or a change (inode, size, mtime, ctime), so
     * an edit counts from the next call. A handle that checks one session
     * over and over (a screen locker, a web tool's keep-alive) pays one
     * stat a call, as it did when it kept the whole file.
     */
    ck_users users;
    int users_cached;           /* users answers users_name for users_sb */
    int users_racy;             /* changed too recently for its stat to be trusted */
    struct stat users_sb;
    char users_name[CK_EMAIL_MAX];

    /* What authentication established in this handle. */
    int authed;
    unsigned method;            /* CK_METHOD_PASSWORD, _TOKEN, _CORPPASS or _OIDC */
    char idp_sid[CK_IDP_SID_MAX];   /* terminal logins: the provider's session */
    ck_user user;
    int attached;               /* a token named an existing session */
    int created;                /* open_session created the session */
    char sid[CK_SID_LEN];
    char *token;                /* for CHECKUP_SESSION */
    ck_session sess;            /* as last seen */
} ck_pam_ctx;

/* One call's view: the handle, its arguments and the shared state. */
typedef struct ck_pam_call {
    pam_handle_t *pamh;
    int flags;
    ck_pam_args args;
    ck_pam_ctx *ctx;
    const char *service;
    const char *rhost;
    const char *tty;
} ck_pam_call;

/*
 * Parses the arguments, finds or creates the handle's state, loads the
 * configuration. Returns a PAM code; on failure one clear line has gone
 * to syslog.
 */
int ck_pam_begin(ck_pam_call *c, pam_handle_t *pamh, int flags, int argc, const char **argv);

/*
 * Opens the store if this handle has not yet (again after a fork): only
 * for a user of ours, so that a broken store never refuses root or a
 * local account. PAM_AUTHINFO_UNAVAIL, with one syslog line, when it
 * cannot be opened.
 */
int ck_pam_need_store(ck_pam_call *c);

/*
 * The users file's records for name (ck_users_find's match: email or
 * local name), looked up through its index (ck_users_lookup), or the
 * handle's last answer for the same name while a stat shows the same
 * file (its mode and owner checked on every call). PAM_AUTHINFO_UNAVAIL
 * when missing, unsafe or broken. *users stays valid until the next
 * lookup; do not free it.
 */
int ck_pam_users(ck_pam_call *c, const char *name, const ck_users **users);
/* The same for the records a provider's identity maps to. */
int ck_pam_users_identity(ck_pam_call *c, const ck_user_identity *id,
                          const ck_users **users);
/* Loads the key ring once. */
int ck_pam_load_ring(ck_pam_call *c);
/*
 * Every file a login depends on, whatever the method: the key ring (the
 * session that open_session signs) and the users file; the configuration
 * is already loaded. authenticate calls it first (and
 * acct_mgmt checks the same for a user of ours), so that a stack whose
 * session line is missing or optional lets no one in past an unusable
 * file. PAM_AUTHINFO_UNAVAIL, with
 * one syslog line, when one is missing or unsafe.
 */
int ck_pam_require_files(ck_pam_call *c);

/* Maps a store status to a PAM code and logs errors (not NOT_FOUND/EXPIRED). */
int ck_pam_store_error(ck_pam_call *c, ck_status st, const char *what);

/* Audit: one key=value line to syslog and, if configured, a JSON line. */
void ck_pam_audit(ck_pam_call *c, const char *event, const char *user, const char *method,
                  const char *sid_key_hex, const char *result, const char *reason);
/* -1 while [audit] on_failure = deny and the audit file cannot be written. */
int ck_pam_audit_gate(ck_pam_call *c);

/* Tells the user something through the conversation (unless PAM_SILENT). */
void ck_pam_tell(ck_pam_call *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "20 minutes", "8 seconds", "24 hours". */
void ck_pam_duration(int seconds, char *buf, size_t len);

/* Copies printable ASCII, '?' for anything else, cut to max - 1. */
void ck_pam_text(char *dst, size_t max, const char *src);

const char *ck_pam_method_name(unsigned method);

/* Audits a session that ended by itself and tells the user why. */
void ck_pam_session_ended(ck_pam_call *c, ck_status st, const char *user, const char *method);

/*
 * Draws text as a QR code (level L) in half-block characters, rows ending
 * in '\n'. NULL when it would be wider than max_cols or on an error.
 * Free the result.
 */
char *ck_pam_qr_draw(const char *text, int max_cols, int *rows);

/* A CorpPass / OIDC login finished in a browser (termlogin.c). */
int ck_pam_terminal_auth(ck_pam_call *c);

/* The three phases, for the entry points. */
int ck_pam_authenticate(ck_pam_call *c);
int ck_pam_account(ck_pam_call *c);
int ck_pam_open_session(ck_pam_call *c);
int ck_pam_close_session(ck_pam_call *c);

/* The pam_set_data cleanup (exposed for tests). */
void ck_pam_ctx_cleanup(pam_handle_t *pamh, void *data, int error_status);

#endif
