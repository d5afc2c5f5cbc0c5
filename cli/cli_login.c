/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_login.c - "checkup login": a terminal login for trying a setup.
 *
 * It goes through the users file directly rather than through libpam, so
 * that it needs no pam.d service file and tests the checkup pieces alone.
 * The password check is ck_login_password, the one PAM and checkupd use
 * (lockout, failure bursts, audit events); the session is created as a
 * PAM login creates it (with the per-user cap).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_login.h"
#include "ck_users.h"
#include "cli.h"

typedef struct login_req {
    const char *name;
    const char *service;
    char rhost[CK_RHOST_MAX];
    int from_stdin;
} login_req;

static void audit(const ck_config *cfg, ck_store *st, const login_req *r, const char *event,
                  const char *user, const char *key_hex, const char *result,
                  const char *reason)
{
    ck_audit_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.event = event;
    ev.user = user;
    ev.method = "password";
    ev.service = r->service;
    ev.rhost = r->rhost;
    ev.result = result;
    ev.reason = reason;
    cli_audit_write(cfg, st, &ev, key_hex);
}

/* The client address of an SSH login, "" at a local terminal. */
static void rhost_from_env(char out[CK_RHOST_MAX])
{
    const char *c = getenv("SSH_CONNECTION");
    size_t n;

    out[0] = '\0';
    if (!c || !*c)
        return;
    n = strcspn(c, " ");
    if (n < CK_RHOST_MAX) {
        memcpy(out, c, n);
        out[n] = '\0';
    }
}

static int parse(int argc, char **argv, login_req *r)
{
    static const struct option opts[] = {
        { "password-stdin", no_argument, NULL, 'p' },
        { "service", required_argument, NULL, 's' },
        { "rhost", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    memset(r, 0, sizeof(*r));
    r->service = "checkup";
    rhost_from_env(r->rhost);
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            r->from_stdin = 1;
            break;
        case 's':
            if (!*optarg || strlen(optarg) >= CK_SERVICE_MAX)
                return cli_usage("--service must have 1 to %d bytes", CK_SERVICE_MAX - 1);
            r->service = optarg;
            break;
        case 'r':
            if (cli_set_field(r->rhost, sizeof(r->rhost), optarg, "--rhost") != 0)
                return CLI_USAGE;
            break;
        default:
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage("at most one EMAIL");
    r->name = argc - optind == 1 ? argv[optind] : NULL;
    return CLI_OK;
}

static int ask_name(char *buf, size_t len)
{
    if (isatty(STDIN_FILENO)) {
        fputs("Email: ", stderr);
        fflush(stderr);
    }
    if (!fgets(buf, (int)len, stdin))
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? 0 : -1;
}

/* What the audit callback of the shared login needs. */
typedef struct login_ctx {
    const ck_config *cfg;
    ck_store *st;
    const login_req *r;
} login_ctx;

/* Audit events of the shared login (ck_login.h), with method "password". */
static void login_audit(void *ud, const char *event, const char *user, const char *result,
                        const char *reason)
{
    const login_ctx *lc = ud;

    audit(lc->cfg, lc->st, lc->r, event, user, NULL, result, reason);
}

static int open_session(const ck_config *cfg, ck_store *st, const login_req *r,
                        const ck_user *u)
{
    ck_session s;
    char sid[CK_SID_LEN], until[32], why[64];
    const char *tty = ttyname(STDIN_FILENO);
    ck_status sr;
    size_t evicted;

    ck_login_session_init(&s, u);
    snprintf(s.remote_host, sizeof(s.remote_host), "%s", r->rhost);
    snprintf(s.service, sizeof(s.service), "%s", r->service);
    snprintf(s.tty, sizeof(s.tty), "%s", tty && strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : "");
    s.method = CK_AUTH_EMAIL;
    sr = ck_store_create(st, &s, sid);
    OPENSSL_cleanse(sid, sizeof(sid));      /* a terminal login hands out no token */
    if (sr == CK_ERR_NOT_DURABLE)
        audit(cfg, st, r, "session_open", u->email, NULL, "failure", "not_durable");
    if (sr != CK_OK)
        return cli_store_error(st, sr, "session");
    evicted = ck_store_last_evicted(st);
    if (evicted) {
        snprintf(why, sizeof(why), "cap_%d_evicted_%zu", cfg->max_per_user, evicted);
        audit(cfg, st, r, "session_evicted", u->email, NULL, "success", why);
    }
    audit(cfg, st, r, "session_open", u->email, s.key_hex, "success", NULL);
    cli_fmt_time(s.deadline, until, sizeof(until));
    printf("logged in as %s: session %.14s, idle timeout %d s, ends by %s%s\n", u->email,
           s.key_hex, cfg->inactivity_timeout, until,
           evicted ? " (oldest session ended: per-user cap)" : "");
    return CLI_OK;
}

/*
 * The password check, lockout and failure bursts of ck_login_password, as
 * PAM and checkupd do them. A disabled account is refused there, with the
 * answer a wrong password gets.
 */
static int check_password(const ck_config *cfg, ck_store *st, const login_req *r,
                          const ck_users *users, const char *pw, const ck_user **user)
{
    login_ctx lc = { cfg, st, r };
    ck_lockout lo;
    ck_login lg;
    ck_login_result lr;

    ck_lockout_from_config(&lo, cfg);
    memset(&lg, 0, sizeof(lg));
    lg.store = st;
    lg.lockout = &lo;
    lg.users = users;
    lg.rhost = r->rhost;
    lg.cfg = cfg;
    lg.audit = login_audit;
    lg.ud = &lc;
    lg.host_slots = 1;
    lg.hash_priority = CK_HASH_IDLE;
    lr = ck_login_password(&lg, r->name, pw);
    switch (lr) {
    case CK_LOGIN_OK:
        *user = lg.user;
        return CLI_OK;
    case CK_LOGIN_LOCKED:
        /* With unlock_time = 0 nothing ends the lock but an administrator. */
        if (lo.unlock_time <= 0)
            return cli_fail("too many failed logins: %s is locked until an administrator "
                            "clears it ('checkup lockout clear')",
                            lg.locked_account ? ck_login_user_label(lg.account)
                                              : "this address");
        return cli_fail("too many failed logins: %s is locked for up to %d s",
                        lg.locked_account ? ck_login_user_label(lg.account) : "this address",
                        lo.unlock_time);
    case CK_LOGIN_FAILED:
        return cli_fail("login refused");
    case CK_LOGIN_BUSY:
        return cli_fail("%s", lg.busy);
    case CK_LOGIN_STORE_ERROR:
    default:
        return cli_store_error(st, lg.store_status, lg.store_what ? lg.store_what : "login");
    }
}

int cli_login(const ck_config *cfg, int argc, char **argv)
{
    ck_users users = { 0 };
    const ck_user *u = NULL;
    login_req r;
    ck_store *st = NULL;
    char name[CK_EMAIL_MAX], pw[CK_LOGIN_PASSWORD_MAX + 2], err[768];
    int rc = parse(argc, argv, &r);

    if (rc != CLI_OK)
        return rc;
    OPENSSL_cleanse(pw, sizeof(pw));
    if (!r.name) {
        if (ask_name(name, sizeof(name)) != 0)
            return cli_fail("no email given");
        r.name = name;
    }
    if (ck_users_lookup(cli_users_path(cfg), r.name, &users, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    if (users.warning[0])
        fprintf(stderr, "checkup: warning: users index: %s\n", users.warning);
    rc = CLI_FAIL;
    st = cli_store_open(cfg);
    if (!st)
        goto out;
    if (ck_audit_gate(cfg, ck_audit_syslog, NULL) != 0) {
        /* Before the password is asked for: nothing is checked unaudited. */
        audit(cfg, st, &r, "login_failure", r.name, NULL, "failure", "audit_unavailable");
        cli_fail("login refused: the audit file cannot be written ([audit] on_failure = deny)");
        goto out;
    }
    if (cli_read_password(r.from_stdin, 0, "Password: ", pw, sizeof(pw)) != 0)
        goto out;
    rc = check_password(cfg, st, &r, &users, pw, &u);
    if (rc == CLI_OK)
        rc = open_session(cfg, st, &r, u);
out:
    OPENSSL_cleanse(pw, sizeof(pw));
    ck_store_close(st);
    ck_users_free(&users);
    return rc;
}
