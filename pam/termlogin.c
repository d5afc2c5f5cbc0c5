/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * termlogin.c - method=corppass / method=oidc: a login at a terminal that
 * the user finishes in a browser.
 *
 * The module never talks to the identity provider and never reads a
 * client key: it starts a pending terminal login in the store
 * (ck_terminal.h), shows the short link "<public_url>/t/<code>" and a QR
 * code of it, and waits for checkupd to record the verified identity.
 * That identity is then mapped to a users file record, which must be the
 * account being logged in to.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_login.h"
#include "ck_terminal.h"
#include "module.h"

#define POLL_MS         1000   /* one store read a second while waiting */
#define ENTER_WAIT      10     /* seconds of polling after an early Enter */
#define TERM_COLS       80
#define QR_MSG_MAX      500    /* under PAM_MAX_MSG_SIZE (512) per message */

static const char *method_label(const ck_pam_call *c)
{
    return c->args.methods == CK_METHOD_CORPPASS ? "corppass" : "oidc";
}

/* "CorpPass" or the provider's name, for the user. */
static const char *provider_label(const ck_pam_call *c)
{
    return c->args.methods == CK_METHOD_CORPPASS ? "CorpPass" : c->args.provider;
}

static void fail_audit(ck_pam_call *c, const char *user, const char *reason)
{
    ck_pam_audit(c, "login_failure", user, method_label(c), NULL,
                 "failure", reason);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A public_url the link can be built on, from [daemon] in checkup.conf. */
static int public_url_ok(ck_pam_call *c)
{
    const char *u = c->ctx->public_url;
    const char *host = u ? strstr(u, "://") : NULL;

    if (host && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) &&
        strlen(u) < 512 && host[3] != '\0' && host[3] != '/') {
        for (const char *p = u; *p; p++) {
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                return 0;
        }
        return 1;
    }
    return 0;
}

/* ---- showing the link ------------------------------------------------------ */

/* Sends the QR code a few rows per message, each under PAM_MAX_MSG_SIZE. */
static void show_qr(ck_pam_call *c, const char *link)
{
    char msg[QR_MSG_MAX + 1];
    int rows = 0;
    char *qr = ck_pam_qr_draw(link, TERM_COLS, &rows);
    const char *p = qr;

    if (!qr)
        return;
    while (*p) {
        size_t used = 0;

        for (;;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

            if (used && used + n > QR_MSG_MAX)
                break;
            if (n > QR_MSG_MAX)
                goto out;
            memcpy(msg + used, p, n);
            used += n;
            p += n;
            if (!*p)
                break;
        }
        /* The conversation ends every message with its own newline. */
        if (used && msg[used - 1] == '\n')
            used--;
        msg[used] = '\0';
        pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "%s", msg);
    }
out:
    free(qr);
}

static void show_link(ck_pam_call *c, const char *code, int ttl)
{
    char link[600], span[64];

    snprintf(link, sizeof(link), "%s/t/%s", c->ctx->public_url, code);
    ck_pam_duration(ttl, span, sizeof(span));
    pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "Log in with %s in a browser: open %s",
               provider_label(c), link);
    if (!c->args.noqr) {
        pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "or scan this code with your phone:");
        show_qr(c, link);
    }
    pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "The link works once, for %s.", span);
    OPENSSL_cleanse(link, sizeof(link));
}

/* ---- waiting for checkupd ------------------------------------------------------ */

/*
 * Polls once a second until the login completes or until the time
 * "until". PAM_SUCCESS: completed (*t holds the identity); PAM_INCOMPLETE:
 * still pending at "until"; PAM_AUTH_ERR: gone (expired or cancelled);
 * PAM_ABORT: the browser half failed (t->reason says why).
 */
static int poll_until(ck_pam_call *c, const char *code, int64_t until, ck_terminal *t)
{
    ck_status st;

    for (;;) {
        st = ck_terminal_poll(c->ctx->store, code, t);
        if (st == CK_OK && t->state == CK_TERMINAL_COMPLETED)
            return PAM_SUCCESS;
        if (st == CK_OK && t->state == CK_TERMINAL_FAILED)
            return PAM_ABORT;
        if (st == CK_NOT_FOUND)
            return PAM_AUTH_ERR;
        if (st != CK_OK)
            return ck_pam_store_error(c, st, "terminal login poll");
        if (ck_now() >= until)
            return PAM_INCOMPLETE;
        sleep_ms(POLL_MS);
    }
}

/* "Press Enter": the reply itself means nothing, only that it came. */
static int ask_enter(ck_pam_call *c)
{
    char *resp = NULL;
    int rc;

    rc = pam_prompt(c->pamh, PAM_PROMPT_ECHO_ON, &resp, "Press Enter once you have logged in");
    if (resp) {
        OPENSSL_cleanse(resp, strlen(resp));
        free(resp);
    }
    if (rc != PAM_SUCCESS)
        pam_syslog(c->pamh, LOG_NOTICE, "terminal login: conversation ended: %s",
                   pam_strerror(c->pamh, rc));
    return rc;
}

static int expired(ck_pam_call *c, int ttl)
{
    char span[64];

    ck_pam_duration(ttl, span, sizeof(span));
    fail_audit(c, NULL, "terminal_login_expired");
    ck_pam_tell(c, 1, "The %s login was not completed within %s. Please try again.",
                provider_label(c), span);
    return PAM_AUTH_ERR;
}

/* checkupd recorded why the browser half failed: the login ends now, audited once here. */
static int browser_failed(ck_pam_call *c, const ck_terminal *t)
{
    fail_audit(c, NULL, t->reason);
    ck_pam_tell(c, 1, "The %s login failed (%s). Please try again.", provider_label(c),
                t->reason);
    return PAM_AUTH_ERR;
}

static int wait_result(ck_pam_call *c, const char *code, const ck_terminal *started,
                       ck_terminal *t)
{
    int ttl = (int)(started->expires - started->created);
    int64_t until;
    int rc;

    for (;;) {
        if (!c->args.noprompt) {
            rc = ask_enter(c);
            if (rc != PAM_SUCCESS)
                return rc;
            until = ck_now() + ENTER_WAIT;
            if (until > started->expires)
                until = started->expires;
        } else {
            until = started->expires;
        }
        rc = poll_until(c, code, until, t);
        if (rc == PAM_ABORT)
            return browser_failed(c, t);
        if (rc == PAM_AUTH_ERR || (rc == PAM_INCOMPLETE && ck_now() >= started->expires))
            return expired(c, ttl);
        if (rc != PAM_INCOMPLETE)
            return rc;
        ck_pam_tell(c, 0, "Not finished yet: complete the login in the browser, then press "
                          "Enter.");
    }
}

/* ---- the identity, mapped to a users file record ---------------------------- */

/*
 * The mapped record must be the account PAM_USER names. When the
 * application left PAM_USER empty, the login names the account.
 */
static int check_pam_user(ck_pam_call *c, const ck_user *u)
{
    const ck_users *users = NULL;
    const ck_user *named;
    const void *item = NULL;
    const char *name;
    int rc;

    if (pam_get_item(c->pamh, PAM_USER, &item) != PAM_SUCCESS)
        item = NULL;
    name = item;
    if (!name || !*name)
        return pam_set_item(c->pamh, PAM_USER, u->local_user[0] ? u->local_user : u->email);
    rc = ck_pam_users(c, name, &users);
    if (rc != PAM_SUCCESS)
        return rc;
    /* Emails are unique in the file: the same email is the same record. */
    named = strlen(name) < CK_EMAIL_MAX ? ck_users_find(users, name) : NULL;
    if (named && strcmp(named->email, u->email) == 0)
        return PAM_SUCCESS;
    fail_audit(c, u->email, "user_mismatch");
    ck_pam_tell(c, 1, "This %s login belongs to another account.", provider_label(c));
    return PAM_AUTH_ERR;
}

static int check_locks(ck_pam_call *c, const ck_user *u)
{
    int locked_user = 0, locked_host = 0;
    ck_status st;

    st = ck_lockout_check(c->ctx->store, &c->ctx->lockout, CK_LOCK_ACCOUNT, u->email,
                          &locked_user);
    if (st == CK_OK && c->rhost && *c->rhost)
        st = ck_lockout_check(c->ctx->store, &c->ctx->lockout, CK_LOCK_HOST, c->rhost,
                              &locked_host);
    if (st != CK_OK)
        return ck_pam_store_error(c, st, "lockout check");
    if (!locked_user && !locked_host)
        return PAM_SUCCESS;
    ck_pam_audit(c, "locked", u->email, method_label(c), NULL, "failure",
                 locked_user ? "account_locked" : "host_locked");
    ck_pam_tell(c, 1, "Too many failed logins: locked for now. Try again later.");
    return PAM_AUTH_ERR;
}

static int finish(ck_pam_call *c, const ck_terminal_identity *id)
{
    const ck_users *users = NULL;
    const ck_user_identity uid = { c->args.methods == CK_METHOD_CORPPASS, id->email,
                                   id->cp_uuid, id->cp_entity_id, id->cp_user_id };
    const ck_user *mapped;
    ck_user mine, *u = &mine;
    ck_users_map m;
    int rc;

    rc = ck_pam_users_identity(c, &uid, &users);
    if (rc != PAM_SUCCESS)
        return rc;
    m = ck_users_map_identity(users, &uid, &mapped);
    if (m != CK_USERS_MAPPED) {
        fail_audit(c, NULL, m == CK_USERS_AMBIGUOUS ? "identity_ambiguous"
                                                    : "identity_not_mapped");
        ck_pam_tell(c, 1, "This %s login is not linked to a checkup account.",
                    provider_label(c));
        rc = PAM_AUTH_ERR;
        goto out;
    }
    /* A copy: the lookup by PAM_USER below replaces what users holds. */
    mine = *mapped;
    rc = check_pam_user(c, u);
    if (rc != PAM_SUCCESS)
        goto out;
    if (u->disabled) {
        fail_audit(c, u->email, "account_disabled");
        ck_pam_tell(c, 1, "Your checkup account is disabled. Ask your administrator.");
        rc = PAM_AUTH_ERR;
        goto out;
    }
    rc = check_locks(c, u);
    if (rc != PAM_SUCCESS)
        goto out;
    ck_pam_audit(c, "login_success", u->email, method_label(c), NULL, "success",
                 c->args.provider);
    c->ctx->authed = 1;
    c->ctx->method = c->args.methods;
    c->ctx->user = *u;
    snprintf(c->ctx->idp_sid, sizeof(c->ctx->idp_sid), "%s", id->idp_sid);
out:
    OPENSSL_cleanse(&mine, sizeof(mine));
    return rc;
}

/* ---- the whole login -------------------------------------------------------- */

/* A locked remote host may not even start one: each start costs a record. */
static int host_locked(ck_pam_call *c)
{
    int locked = 0;
    ck_status st;

    if (!c->rhost || !*c->rhost)
        return PAM_SUCCESS;
    st = ck_lockout_check(c->ctx->store, &c->ctx->lockout, CK_LOCK_HOST, c->rhost, &locked);
    if (st != CK_OK)
        return ck_pam_store_error(c, st, "lockout check");
    if (!locked)
        return PAM_SUCCESS;
    ck_pam_audit(c, "locked", NULL, method_label(c), NULL, "failure", "host_locked");
    ck_pam_tell(c, 1, "Too many failed logins: locked for now. Try again later.");
    return PAM_AUTH_ERR;
}

int ck_pam_terminal_auth(ck_pam_call *c)
{
    char code[CK_TERMINAL_CODE_LEN] = "", service[CK_SERVICE_MAX], rhost[CK_RHOST_MAX];
    ck_terminal started, t;
    ck_status st;
    int rc;

    c->ctx->authed = 0;
    c->ctx->attached = 0;
    c->ctx->idp_sid[0] = '\0';
    memset(&t, 0, sizeof(t));
    if (!public_url_ok(c)) {
        pam_syslog(c->pamh, LOG_ERR, "method=%s needs [daemon] public_url (http:// or "
                   "https://) in %s", method_label(c), c->ctx->config_path);
        return PAM_AUTHINFO_UNAVAIL;
    }
    rc = host_locked(c);
    if (rc != PAM_SUCCESS)
        return rc;
    ck_pam_text(service, sizeof(service), c->service);
    ck_pam_text(rhost, sizeof(rhost), c->rhost);
    st = ck_terminal_begin(c->ctx->store, c->args.provider, service, rhost,
                           c->ctx->cfg.pending_ttl, code);
    if (st != CK_OK)
        return ck_pam_store_error(c, st, "terminal login start");
    memset(&started, 0, sizeof(started));
    started.created = ck_now();
    started.expires = started.created + c->ctx->cfg.pending_ttl;
    show_link(c, code, c->ctx->cfg.pending_ttl);
    rc = wait_result(c, code, &started, &t);
    if (rc == PAM_SUCCESS)
        rc = finish(c, &t.id);
    /* Nothing of an unfinished login stays behind (a taken result is gone). */
    if (rc != PAM_SUCCESS)
        ck_terminal_cancel(c->ctx->store, code);
    OPENSSL_cleanse(code, sizeof(code));
    OPENSSL_cleanse(&t, sizeof(t));
    return rc;
}
