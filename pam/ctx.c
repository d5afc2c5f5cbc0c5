/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctx.c - the per-handle state of pam_checkup: configuration, store,
 * key ring; logging, audit and messages to the user.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "ck_audit.h"
#include "ck_clock.h"
#include "module.h"
#include "ck_secfile.h"

static void warn_arg(void *ud, const char *what, const char *arg)
{
    /* Arguments come from the service file, not from users: safe to log. */
    pam_syslog((pam_handle_t *)ud, LOG_ERR, "%s: %s", what, arg);
}

/*
 * Other components keep their own sections in checkup.conf: not ours,
 * except [daemon] public_url, the base of the link a terminal login shows.
 * checkupd checks the rest of [daemon]; a bad public_url is refused here
 * only when a terminal login needs it (see termlogin.c).
 */
static int other_section(void *ud, const char *section, const char *name, const char *value,
                         int lineno, char *err, size_t errlen)
{
    ck_pam_ctx *ctx = ud;
    size_t n;

    (void)lineno;
    if (strcmp(section, "daemon") != 0 || strcmp(name, "public_url") != 0)
        return 1;
    free(ctx->public_url);
    ctx->public_url = strdup(value);
    if (!ctx->public_url) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    n = strlen(ctx->public_url);
    while (n > 0 && ctx->public_url[n - 1] == '/')
        ctx->public_url[--n] = '\0';
    return 1;
}

static void ctx_free_auth(ck_pam_ctx *ctx)
{
    if (ctx->token) {
        OPENSSL_cleanse(ctx->token, strlen(ctx->token));
        free(ctx->token);
        ctx->token = NULL;
    }
    OPENSSL_cleanse(ctx->sid, sizeof(ctx->sid));
    OPENSSL_cleanse(ctx->idp_sid, sizeof(ctx->idp_sid));
    OPENSSL_cleanse(&ctx->user, sizeof(ctx->user));
    ctx->authed = ctx->attached = ctx->created = 0;
}

void ck_pam_ctx_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
    ck_pam_ctx *ctx = data;

    if (!ctx)
        return;
    /*
     * Also right in a forked child: both backends notice the fork and let
     * go of what the parent owns (LMDB environment, Redis connection)
     * without touching it.
     */
    ck_store_close(ctx->store);
    ck_keyring_free(ctx->ring);
    ck_users_free(&ctx->users);
    ctx_free_auth(ctx);
    ck_config_free(&ctx->cfg);
    free(ctx->public_url);
    free(ctx->config_path);
    free(ctx);
}

static int ctx_load_config(ck_pam_call *c, ck_pam_ctx *ctx)
{
    char err[512];

    ck_config_defaults(&ctx->cfg);
    if (ck_config_load(&ctx->cfg, c->args.config, other_section, ctx, err, sizeof(err)) != 0) {
        pam_syslog(c->pamh, LOG_ERR, "configuration: %s", err);
        return PAM_SERVICE_ERR;
    }
    ck_lockout_from_config(&ctx->lockout, &ctx->cfg);
    ctx->config_path = strdup(c->args.config);
    return ctx->config_path ? PAM_SUCCESS : PAM_BUF_ERR;
}

static int ctx_open_store(ck_pam_call *c, ck_pam_ctx *ctx)
{
    char err[512], shown[1024];

    ctx->store = ck_store_open(&ctx->cfg, err, sizeof(err));
    if (!ctx->store) {
        ck_store_url_shown(ctx->cfg.store_url ? ctx->cfg.store_url : CK_DEFAULT_STORE_URL,
                           shown, sizeof(shown));
        pam_syslog(c->pamh, LOG_ERR, "store %s: %s", shown, err);
        return PAM_AUTHINFO_UNAVAIL;
    }
    return PAM_SUCCESS;
}

static int ctx_get(ck_pam_call *c)
{
    const void *data = NULL;
    ck_pam_ctx *ctx;
    int rc;

    if (pam_get_data(c->pamh, CK_PAM_DATA, &data) == PAM_SUCCESS && data) {
        c->ctx = (ck_pam_ctx *)data;
        /* A line without config= goes on with the handle's configuration. */
        if (c->args.config_given && strcmp(c->ctx->config_path, c->args.config) != 0) {
            pam_syslog(c->pamh, LOG_ERR,
                       "config=%s differs from config=%s given earlier for this handle",
                       c->args.config, c->ctx->config_path);
            return PAM_SERVICE_ERR;
        }
        return PAM_SUCCESS;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return PAM_BUF_ERR;
    rc = ctx_load_config(c, ctx);
    if (rc == PAM_SUCCESS)
        rc = pam_set_data(c->pamh, CK_PAM_DATA, ctx, ck_pam_ctx_cleanup);
    if (rc != PAM_SUCCESS) {
        ck_pam_ctx_cleanup(c->pamh, ctx, rc);
        return rc;
    }
    c->ctx = ctx;
    return PAM_SUCCESS;
}

int ck_pam_begin(ck_pam_call *c, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const void *item;
    int rc;

    memset(c, 0, sizeof(*c));
    c->pamh = pamh;
    c->flags = flags;
    if (ck_pam_args_parse(argc, argv, &c->args, warn_arg, pamh) != 0)
        return PAM_SERVICE_ERR;
    rc = ctx_get(c);
    if (rc != PAM_SUCCESS)
        return rc;
    if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
        c->service = item;
    if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
        c->rhost = item;
    if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS)
        c->tty = item;
    return PAM_SUCCESS;
}

/*
 * Opened on first need, not in ck_pam_begin: account and session answer
 * a user the users file does not know (root, local accounts) without it,
 * so that a store that cannot be opened (a damaged file, a directory
 * others may write, a file a member of the store's group planted) refuses
 * checkup's users only, never every login on the host. The handle lives
 * as long as the PAM handle. A host that forks between calls (sshd,
 * login) may use it in the child: the backends detect the fork and open
 * their own environment or connection.
 */
int ck_pam_need_store(ck_pam_call *c)
{
    if (!c->ctx->store)
        return ctx_open_store(c, c->ctx);
    return PAM_SUCCESS;
}

/*
 * File times come from a coarse kernel clock: two same-size edits in
 * place within one tick can leave identical stats. A file changed in the
 * last 2 seconds is therefore asked again on every call until it has
 * settled (what git does for its racily clean index entries).
 */
static int changed_recently(const struct stat *sb)
{
    struct timespec now;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 1;
    return now.tv_sec - sb->st_mtim.tv_sec < 2 || now.tv_sec - sb->st_ctim.tv_sec < 2;
}

static const char *users_path(const ck_pam_ctx *ctx)
{
    return ctx->cfg.users_file ? ctx->cfg.users_file : CK_DEFAULT_USERS_FILE;
}

/* 1 when the handle's last lookup was made in the file as sb shows it now. */
static int cache_current(const ck_pam_ctx *ctx, const struct stat *sb)
{
    return ctx->users_cached && !ctx->users_racy && ck_secfile_same(sb, &ctx->users_sb);
}

static int users_lookup(ck_pam_call *c, const char *name, const ck_user_identity *id,
                        const ck_users **users)
{
    ck_pam_ctx *ctx = c->ctx;
    struct stat sb;
    char err[768];
    int rc;

    *users = NULL;
    /*
     * The stat comes before the lookup: if the file changes in between,
     * what we keep is newer than the identity we note, and the next call
     * asks again; the reverse cannot happen.
     */
    if (ck_secfile_stat(users_path(ctx), 1, &sb, err, sizeof(err)) != 0)
        goto fail;
    if (name && strlen(name) < sizeof(ctx->users_name) && cache_current(ctx, &sb) &&
        strcmp(ctx->users_name, name) == 0) {
        *users = &ctx->users;
        return PAM_SUCCESS;
    }
    ck_users_free(&ctx->users);
    ctx->users_cached = 0;
    rc = name ? ck_users_lookup(users_path(ctx), name, &ctx->users, err, sizeof(err))
              : ck_users_lookup_identity(users_path(ctx), id, &ctx->users, err, sizeof(err));
    if (rc != 0)
        goto fail;
    if (ctx->users.warning[0])
        pam_syslog(c->pamh, LOG_WARNING, "users index: %s", ctx->users.warning);
    if (name && strlen(name) < sizeof(ctx->users_name)) {
        memcpy(ctx->users_name, name, strlen(name) + 1);
        ctx->users_sb = sb;
        ctx->users_racy = changed_recently(&sb);
        ctx->users_cached = 1;
    }
    *users = &ctx->users;
    return PAM_SUCCESS;
fail:
    /* Nothing stale outlives a file that went missing or unsafe. */
    ck_users_free(&ctx->users);
    ctx->users_cached = 0;
    pam_syslog(c->pamh, LOG_ERR, "users file: %s", err);
    return PAM_AUTHINFO_UNAVAIL;
}

int ck_pam_users(ck_pam_call *c, const char *name, const ck_users **users)
{
    return users_lookup(c, name ? name : "", NULL, users);
}

int ck_pam_users_identity(ck_pam_call *c, const ck_user_identity *id, const ck_users **users)
{
    return users_lookup(c, NULL, id, users);
}

/*
 * The users file is usable: it was just looked in, unchanged since, or a
 * lookup (of no one) opens it and its index under their policy now.
 */
static int users_usable(ck_pam_call *c)
{
    const ck_users *users = NULL;
    struct stat sb;
    char err[768];

    if (ck_secfile_stat(users_path(c->ctx), 1, &sb, err, sizeof(err)) == 0 &&
        cache_current(c->ctx, &sb))
        return PAM_SUCCESS;
    return ck_pam_users(c, "", &users);
}

int ck_pam_load_ring(ck_pam_call *c)
{
    const char *path = c->ctx->cfg.token_key_file ? c->ctx->cfg.token_key_file
                                                  : CK_DEFAULT_KEY_FILE;
    char err[512];

    if (c->ctx->ring)
        return PAM_SUCCESS;
    if (ck_keyring_load(path, 1, &c->ctx->ring, err, sizeof(err)) != 0) {
        pam_syslog(c->pamh, LOG_ERR, "token keys: %s", err);
        return PAM_AUTHINFO_UNAVAIL;
    }
    return PAM_SUCCESS;
}

int ck_pam_require_files(ck_pam_call *c)
{
    int rc;

    rc = ck_pam_load_ring(c);
    if (rc == PAM_SUCCESS)
        rc = users_usable(c);
    return rc;
}

int ck_pam_store_error(ck_pam_call *c, ck_status st, const char *what)
{
    pam_syslog(c->pamh, LOG_ERR, "store (%s) %s: %s: %s", ck_store_backend(c->ctx->store),
               what, ck_status_str(st), ck_store_errstr(c->ctx->store));
    return st == CK_ERR_NOMEM ? PAM_BUF_ERR : PAM_AUTHINFO_UNAVAIL;
}

/* ck_audit_emit's log: pam_syslog. */
static void pam_audit_log(void *ud, int prio, const char *msg)
{
    pam_syslog((pam_handle_t *)ud, prio, "%s", msg);
}

int ck_pam_audit_gate(ck_pam_call *c)
{
    return c->ctx ? ck_audit_gate(&c->ctx->cfg, pam_audit_log, c->pamh) : 0;
}

void ck_pam_audit(ck_pam_call *c, const char *event, const char *user, const char *method,
                  const char *sid_key_hex, const char *result, const char *reason)
{
    char sid[CK_SID_HASH_LEN] = "";
    ck_audit_event ev;

    if (sid_key_hex)
        ck_audit_sid_hash(sid_key_hex, sid);
    ev.event = event;
    ev.user = user;
    ev.method = method;
    ev.service = c->service;
    ev.rhost = c->rhost;
    ev.sid_hash = sid;
    ev.result = result;
    ev.reason = reason;
    (void)ck_audit_emit(c->ctx ? &c->ctx->cfg : NULL, c->ctx ? c->ctx->store : NULL, &ev,
                        LOG_NOTICE, pam_audit_log, c->pamh);
}

void ck_pam_tell(ck_pam_call *c, int error, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (c->flags & PAM_SILENT)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pam_prompt(c->pamh, error ? PAM_ERROR_MSG : PAM_TEXT_INFO, NULL, "%s", msg);
}

void ck_pam_duration(int s, char *buf, size_t len)
{
    if (s == 3600)
        snprintf(buf, len, "1 hour");
    else if (s == 60)
        snprintf(buf, len, "1 minute");
    else if (s % 3600 == 0 && s >= 7200)
        snprintf(buf, len, "%d hours", s / 3600);
    else if (s % 60 == 0 && s >= 120)
        snprintf(buf, len, "%d minutes", s / 60);
    else
        snprintf(buf, len, "%d second%s", s, s == 1 ? "" : "s");
}

void ck_pam_text(char *dst, size_t max, const char *src)
{
    size_t i = 0;

    for (; src && src[i] && i + 1 < max; i++) {
        unsigned char ch = (unsigned char)src[i];

        dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[i] = '\0';
}

const char *ck_pam_method_name(unsigned method)
{
    switch (method) {
    case CK_METHOD_TOKEN: return "token";
    case CK_METHOD_CORPPASS: return "corppass";
    case CK_METHOD_OIDC: return "oidc";
    default: return "password";
    }
}
