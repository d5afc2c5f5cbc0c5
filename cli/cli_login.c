/*
 * cli_login.c - "checkup login": a terminal login for trying a setup.
 *
 * It goes through the users file directly rather than through libpam, so
 * that it needs no pam.d service file and tests the checkup pieces alone:
 * the same lockout, failure-burst detection, audit events and session
 * creation (with the per-user cap) as pam_checkup.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_anomaly.h"
#include "ck_audit.h"
#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_users.h"
#include "cli.h"

typedef struct login_req {
    const char *name;
    const char *service;
    char rhost[CK_RHOST_MAX];
    int from_stdin;
} login_req;

static void audit(const ck_config *cfg, const login_req *r, const char *event,
                  const char *user, const char *key_hex, const char *result,
                  const char *reason)
{
    ck_audit_event ev;
    char sid[CK_SID_HASH_LEN], line[1024], err[256];

    memset(&ev, 0, sizeof(ev));
    ev.event = event;
    ev.user = user;
    ev.method = "password";
    ev.service = r->service;
    ev.rhost = r->rhost;
    if (key_hex) {
        ck_audit_sid_hash(key_hex, sid);
        ev.sid_hash = sid;
    }
    ev.result = result;
    ev.reason = reason;
    ck_audit_format(&ev, line, sizeof(line));
    syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line);
    if (cfg->audit_file &&
        ck_audit_write_json(cfg->audit_file, &ev, ck_now(), err, sizeof(err)) != 0)
        cli_fail("audit file: %s", err);
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

/* Counts a failure: lockout of the account and the address, failure bursts. */
static int failed(const ck_config *cfg, ck_store *st, const login_req *r, const char *account,
                  const char *reason)
{
    ck_lockout lo;
    int64_t count;
    int locked = 0;
    ck_status sr;

    audit(cfg, r, "login_failure", account, NULL, "failure", reason);
    ck_lockout_from_config(&lo, cfg);
    sr = ck_lockout_fail(st, &lo, CK_LOCK_ACCOUNT, account, &count, &locked);
    if (sr == CK_OK && locked)
        audit(cfg, r, "locked", account, NULL, "failure", "account_locked");
    if (sr == CK_OK)
        sr = ck_lockout_fail(st, &lo, CK_LOCK_HOST, r->rhost, &count, &locked);
    if (sr == CK_OK && locked)
        audit(cfg, r, "locked", account, NULL, "failure", "host_locked");
    if (sr == CK_OK)
        sr = ck_anomaly_failure(st, cfg, r->rhost, account, &locked);
    if (sr != CK_OK)
        return cli_store_error(st, sr, "failure count");
    return cli_fail("login refused");
}

static int locked_out(const ck_config *cfg, ck_store *st, const login_req *r,
                      const char *account, int *locked)
{
    ck_lockout lo;
    int user_locked = 0, host_locked = 0;
    ck_status sr;

    ck_lockout_from_config(&lo, cfg);
    sr = ck_lockout_check(st, &lo, CK_LOCK_ACCOUNT, account, &user_locked);
    if (sr == CK_OK)
        sr = ck_lockout_check(st, &lo, CK_LOCK_HOST, r->rhost, &host_locked);
    if (sr != CK_OK)
        return cli_store_error(st, sr, "lockout check");
    *locked = user_locked || host_locked;
    if (*locked)
        audit(cfg, r, "locked", account, NULL, "failure",
              user_locked ? "account_locked" : "host_locked");
    return CLI_OK;
}

static int open_session(const ck_config *cfg, ck_store *st, const login_req *r,
                        const ck_user *u)
{
    ck_session s;
    char sid[CK_SID_LEN], until[32], why[64];
    const char *tty = ttyname(STDIN_FILENO);
    ck_status sr;
    size_t evicted;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), "%s", u->email);
    snprintf(s.email, sizeof(s.email), "%s", u->email);
    snprintf(s.role, sizeof(s.role), "%s", u->role);
    snprintf(s.clinic_id, sizeof(s.clinic_id), "%s", u->clinic_id);
    snprintf(s.remote_host, sizeof(s.remote_host), "%s", r->rhost);
    snprintf(s.service, sizeof(s.service), "%s", r->service);
    snprintf(s.tty, sizeof(s.tty), "%s", tty && strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : "");
    s.method = CK_AUTH_EMAIL;
    sr = ck_store_create(st, &s, sid);
    OPENSSL_cleanse(sid, sizeof(sid));      /* a terminal login hands out no token */
    if (sr != CK_OK)
        return cli_store_error(st, sr, "session");
    evicted = ck_store_last_evicted(st);
    if (evicted) {
        snprintf(why, sizeof(why), "cap_%d_evicted_%zu", cfg->max_per_user, evicted);
        audit(cfg, r, "session_evicted", u->email, NULL, "success", why);
    }
    audit(cfg, r, "login_success", u->email, NULL, "success", NULL);
    audit(cfg, r, "session_open", u->email, s.key_hex, "success", NULL);
    cli_fmt_time(s.deadline, until, sizeof(until));
    printf("logged in as %s: session %.14s, idle timeout %d s, ends by %s%s\n", u->email,
           s.key_hex, cfg->inactivity_timeout, until,
           evicted ? " (oldest session ended: per-user cap)" : "");
    return CLI_OK;
}

int cli_login(const ck_config *cfg, int argc, char **argv)
{
    ck_users users = { 0, NULL };
    const ck_user *u;
    login_req r;
    ck_lockout lo;
    ck_status sr;
    ck_store *st = NULL;
    char name[CK_EMAIL_MAX], pw[1024], err[768];
    const char *account;
    int rc = parse(argc, argv, &r), locked = 0;

    if (rc != CLI_OK)
        return rc;
    memset(pw, 0, sizeof(pw));
    if (!r.name) {
        if (ask_name(name, sizeof(name)) != 0)
            return cli_fail("no email given");
        r.name = name;
    }
    if (ck_users_load(cli_users_path(cfg), 1, &users, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    rc = CLI_FAIL;
    st = cli_store_open(cfg);
    if (!st)
        goto out;
    u = strlen(r.name) < CK_EMAIL_MAX ? ck_users_find(&users, r.name) : NULL;
    account = u ? u->email : r.name;
    if (locked_out(cfg, st, &r, account, &locked) != CLI_OK)
        goto out;
    if (locked) {
        rc = cli_fail("too many failed logins: %s is locked for now", account);
        goto out;
    }
    if (cli_read_password(r.from_stdin, 0, "Password: ", pw, sizeof(pw)) != 0)
        goto out;
    if (!ck_password_verify(&users, u, pw)) {
        rc = failed(cfg, st, &r, account, !u ? "unknown_user" : u->hash[0] != '$'
                                                                ? "no_password"
                                                                : "bad_password");
        goto out;
    }
    if (u->disabled) {
        rc = failed(cfg, st, &r, account, "account_disabled");
        goto out;
    }
    ck_lockout_from_config(&lo, cfg);
    sr = ck_lockout_success(st, &lo, u->email);
    if (sr != CK_OK) {
        rc = cli_store_error(st, sr, "lockout reset");
        goto out;
    }
    rc = open_session(cfg, st, &r, u);
out:
    OPENSSL_cleanse(pw, sizeof(pw));
    ck_store_close(st);
    ck_users_free(&users);
    return rc;
}
