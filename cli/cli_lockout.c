/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_lockout.c - "checkup lockout list|clear": the locks in force, and
 * clearing one, so that a lock made with unlock_time = 0 (until an
 * administrator clears it) has a command that clears it.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ck_clock.h"
#include "ck_lockout.h"
#include "ck_users.h"
#include "cli.h"

/* The email of the user whose account id is id, or NULL. */
static const char *account_of(const ck_users *users, const char *id)
{
    char uid[CK_LOCK_ID_LEN];

    for (size_t i = 0; i < users->count; i++) {
        ck_lockout_id(users->items[i].email, uid);
        if (strcmp(uid, id) == 0)
            return users->items[i].email;
    }
    return NULL;
}

static void print_lock(const ck_users *users, const ck_lock_info *li)
{
    char until[32];
    const char *who;

    if (li->forever)
        snprintf(until, sizeof(until), "until cleared");
    else
        cli_fmt_time(li->until, until, sizeof(until));
    if (li->kind == CK_LOCK_HOST) {
        printf("%-8s %-40s %s\n", "address", li->address, until);
        return;
    }
    /* The store keeps an account's hash only: the users file names it. */
    who = account_of(users, li->id);
    if (who)
        printf("%-8s %-40s %s\n", "account", who, until);
    else
        printf("%-8s %-40s %s\n", "account", "(not in the users file)", until);
}

int cli_lockout_list(const ck_config *cfg, int argc, char **argv)
{
    ck_users users = { 0 };
    ck_lock_info *locks = NULL;
    ck_store *st;
    ck_status sr;
    size_t n = 0;
    char err[768];
    int rc = CLI_FAIL;

    (void)argv;
    if (argc != 1)
        return cli_usage("takes no arguments");
    /* Without the users file the accounts are shown as unknown, not refused. */
    if (ck_users_load(cli_users_path(cfg), 1, &users, err, sizeof(err)) != 0)
        fprintf(stderr, "checkup: %s (accounts are shown unnamed)\n", err);
    st = cli_store_open(cfg);
    if (!st)
        goto out;
    sr = ck_lockout_list(st, &locks, &n);
    if (sr != CK_OK) {
        cli_store_error(st, sr, "listing the locks");
        goto out;
    }
    if (cfg->fail_deny <= 0)
        printf("lockout is off ([lockout] deny = 0): nothing new is locked\n");
    printf("%-8s %-40s %s\n", "KIND", "NAME", "UNTIL");
    for (size_t i = 0; i < n; i++)
        print_lock(&users, &locks[i]);
    printf("%zu lock%s\n", n, n == 1 ? "" : "s");
    rc = CLI_OK;
out:
    free(locks);
    if (st)
        ck_store_close(st);
    ck_users_free(&users);
    return rc;
}

/*
 * lockout clear USER | --address ADDR: the lock and failures of an account
 * (named by the email the users file spells, so that case does not matter;
 * a name not in the file is cleared as given) or of an address.
 */
int cli_lockout_clear(const ck_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "address", required_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    ck_users users = { 0 };
    const char *name = NULL;
    char err[768];
    int opt, rc;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'a' || name)
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        name = optarg;
    }
    if (name && optind != argc)
        return cli_usage("either USER or --address ADDRESS, not both");
    if (name) {
        if (!*name)
            return cli_usage("the address is empty");
        return cli_lockout_clear_one(cfg, NULL, CK_LOCK_HOST, name, NULL);
    }
    if (optind + 1 != argc)
        return cli_usage("exactly one USER (or --address ADDRESS) is needed");
    name = argv[optind];
    if (!*name)
        return cli_usage("the user is empty");
    if (ck_users_lookup(cli_users_path(cfg), name, &users, err, sizeof(err)) == 0) {
        const ck_user *u = strlen(name) < CK_EMAIL_MAX ? ck_users_find(&users, name) : NULL;

        if (u)
            name = u->email;
    }
    rc = cli_lockout_clear_one(cfg, NULL, CK_LOCK_ACCOUNT, name, NULL);
    ck_users_free(&users);
    return rc;
}

int cli_lockout_clear_one(const ck_config *cfg, ck_store *st, ck_lock_kind kind,
                          const char *name, const char *reason)
{
    const ck_lockout any = { 1, 1, 0 };     /* a lock counts whatever deny is now */
    const char *what = kind == CK_LOCK_HOST ? "address" : "account";
    ck_store *own = st ? NULL : cli_store_open(cfg);
    ck_audit_event ev;
    ck_status sr;
    int locked = 0, rc = CLI_FAIL;

    if (!st)
        st = own;
    if (!st)
        goto out;
    sr = ck_lockout_check(st, &any, kind, name, &locked);
    if (sr == CK_OK)
        sr = ck_lockout_reset(st, kind, name);
    if (sr != CK_OK) {
        cli_store_error(st, sr, "clearing the lockout");
        if (sr == CK_ERR_NOT_DURABLE) {
            memset(&ev, 0, sizeof(ev));
            ev.event = "lockout_cleared";
            ev.service = "checkup";
            ev.result = "failure";
            ev.reason = "not_durable";
            if (kind == CK_LOCK_HOST)
                ev.rhost = name;
            else
                ev.user = name;
            cli_audit_write(cfg, st, &ev, NULL);
        }
        goto out;
    }
    rc = CLI_OK;
    /* Called by another command: only a lock that was there is news. */
    if (reason && !locked)
        goto out;
    printf("%s %s %s\n", locked ? "cleared the lockout of" : "no lockout on", what, name);
    memset(&ev, 0, sizeof(ev));
    ev.event = "lockout_cleared";
    ev.service = "checkup";
    ev.result = "success";
    ev.reason = reason ? reason : locked ? "was_locked" : "not_locked";
    if (kind == CK_LOCK_HOST)
        ev.rhost = name;
    else
        ev.user = name;
    cli_audit_write(cfg, st, &ev, NULL);
out:
    if (own)
        ck_store_close(own);
    if (rc != CLI_OK)
        cli_fail("the lockout of %s was not cleared: run 'checkup lockout clear %s%s'", name,
                 kind == CK_LOCK_HOST ? "--address " : "", name);
    return rc;
}
