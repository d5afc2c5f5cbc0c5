/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_users.c - "checkup user ...": every edit is one read-modify-write of
 * the users file under its lock (ck_users_edit), so two administrators
 * editing at once never lose a record.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_secfile.h"
#include "ck_users.h"
#include "cli.h"

/* What an edit does to the one user it names. */
typedef struct user_edit {
    const char *email;
    ck_user fields;         /* the values to set */
    int set_role, set_clinic, set_local, set_corppass, set_hash, set_disabled;
    int keep_sessions;      /* user set --keep-sessions */
    int done;               /* 1 when the record changed */
    int remove;
    char matched[CK_EMAIL_MAX]; /* the email as the file spells it */
} user_edit;

static const struct option field_opts[] = {
    { "role", required_argument, NULL, 'r' },
    { "clinic", required_argument, NULL, 'C' },
    { "local-user", required_argument, NULL, 'l' },
    { "corppass", required_argument, NULL, 'P' },
    { "password-stdin", no_argument, NULL, 'p' },
    { "no-password", no_argument, NULL, 'n' },
    { "keep-sessions", no_argument, NULL, 'k' },
    { NULL, 0, NULL, 0 },
};

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

static int is_uuid(const char *s)
{
    static const size_t groups[] = { 8, 4, 4, 4, 12 };

    for (size_t g = 0; g < 5; g++) {
        if (!is_hex(s, groups[g]))
            return 0;
        s += groups[g];
        if (g < 4 && *s++ != '-')
            return 0;
    }
    return *s == '\0';
}

static int id_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return 0;
    return 1;
}

/*
 * A CorpPass identity: the user's UUID (stored lower case), or
 * ENTITY/USER (the entity id and the CorpPass user id); "" clears it.
 */
static int corppass_parse(const char *value, char out[CK_IDP_SID_MAX])
{
    const char *slash = strchr(value, '/');

    if (!*value) {
        out[0] = '\0';
        return 0;
    }
    if (is_uuid(value)) {
        for (size_t i = 0; i <= strlen(value); i++)
            out[i] = (char)(value[i] >= 'A' && value[i] <= 'F' ? value[i] - 'A' + 'a' : value[i]);
        return 0;
    }
    if (slash && id_part_ok(value, (size_t)(slash - value)) &&
        id_part_ok(slash + 1, strlen(slash + 1))) {
        snprintf(out, CK_IDP_SID_MAX, "%s", value);
        return 0;
    }
    cli_usage("--corppass '%.80s' is neither a UUID nor ENTITY/USER", value);
    return -1;
}

/* Parses the field options shared by add and set; -1 on a usage error. */
static int parse_fields(int argc, char **argv, user_edit *e, int *from_stdin, int *no_pw)
{
    int opt;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", field_opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (cli_set_field(e->fields.role, sizeof(e->fields.role), optarg, "role") != 0)
                return -1;
            e->set_role = 1;
            break;
        case 'C':
            if (cli_set_field(e->fields.clinic_id, sizeof(e->fields.clinic_id), optarg,
                              "clinic") != 0)
                return -1;
            e->set_clinic = 1;
            break;
        case 'l':
            if (cli_set_field(e->fields.local_user, sizeof(e->fields.local_user), optarg,
                              "local user") != 0)
                return -1;
            e->set_local = 1;
            break;
        case 'P':
            if (corppass_parse(optarg, e->fields.corppass) != 0)
                return -1;
            e->set_corppass = 1;
            break;
        case 'k':
            if (from_stdin) {       /* user add: there is nothing to keep */
                cli_usage("unknown option '%s'", argv[optind - 1]);
                return -1;
            }
            e->keep_sessions = 1;
            break;
        case 'p':
        case 'n':
            if (!from_stdin) {
                cli_usage("unknown option '%s'", argv[optind - 1]);
                return -1;
            }
            *(opt == 'p' ? from_stdin : no_pw) = 1;
            break;
        default:
            cli_usage("unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (optind + 1 != argc) {
        cli_usage("exactly one EMAIL is needed");
        return -1;
    }
    e->email = argv[optind];
    return 0;
}

/* ---- the edit callback --------------------------------------------------- */

static ck_user *find_email(ck_users *users, const char *email)
{
    for (size_t i = 0; i < users->count; i++)
        if (strcasecmp(users->items[i].email, email) == 0)
            return &users->items[i];
    return NULL;
}

/* Field by field: bytes after a field's NUL and padding say nothing. */
static int user_same(const ck_user *a, const ck_user *b)
{
    return strcmp(a->email, b->email) == 0 && strcmp(a->hash, b->hash) == 0 &&
           strcmp(a->role, b->role) == 0 && strcmp(a->clinic_id, b->clinic_id) == 0 &&
           strcmp(a->local_user, b->local_user) == 0 && a->disabled == b->disabled &&
           strcmp(a->corppass, b->corppass) == 0;
}

static int apply_edit(ck_users *users, void *ud, char *err, size_t errlen)
{
    user_edit *e = ud;
    ck_user *u = find_email(users, e->email);
    ck_user before;
    ck_users others = { 0 };
    int rc = -1;

    if (!u) {
        snprintf(err, errlen, "no user %.200s", e->email);
        return -1;
    }
    memcpy(e->matched, u->email, sizeof(e->matched));
    if (e->remove) {
        size_t i = (size_t)(u - users->items);

        memmove(u, u + 1, (users->count - i - 1) * sizeof(*u));
        users->count--;
        e->done = 1;
        return 0;
    }
    before = *u;
    if (e->set_role)
        memcpy(u->role, e->fields.role, sizeof(u->role));
    if (e->set_clinic)
        memcpy(u->clinic_id, e->fields.clinic_id, sizeof(u->clinic_id));
    if (e->set_local)
        memcpy(u->local_user, e->fields.local_user, sizeof(u->local_user));
    if (e->set_corppass)
        memcpy(u->corppass, e->fields.corppass, sizeof(u->corppass));
    if (e->set_hash)
        memcpy(u->hash, e->fields.hash, sizeof(u->hash));
    if (e->set_disabled)
        u->disabled = e->fields.disabled;
    e->done = !user_same(&before, u);
    /* The changed record must still be valid and unique: re-add it to the others. */
    for (size_t i = 0; i < users->count; i++) {
        if (&users->items[i] == u)
            continue;
        if (ck_users_append(&others, &users->items[i], err, errlen) != 0)
            goto out;
    }
    if (ck_users_append(&others, u, err, errlen) != 0)
        goto out;
    rc = e->done ? 0 : 1;
out:
    OPENSSL_cleanse(&before, sizeof(before));
    ck_users_free(&others);
    return rc;
}

/* what: for the message ("disabled"); reason: one word for the audit. */
static int run_edit(const ck_config *cfg, user_edit *e, const char *what, const char *reason)
{
    char err[768];
    int rc = ck_users_edit(cli_users_path(cfg), 0, apply_edit, e, err, sizeof(err));

    if (rc < 0)
        return cli_fail("%s", err);
    if (!e->done) {
        printf("%s: %s unchanged\n", cli_users_path(cfg), e->email);
        return CLI_OK;
    }
    printf("%s %s in %s\n", what, e->email, cli_users_path(cfg));
    cli_audit(cfg, "user_changed", e->email, NULL, "success", reason);
    return CLI_OK;
}

/* ---- commands ------------------------------------------------------------ */

int cli_user_add(const ck_config *cfg, int argc, char **argv)
{
    user_edit e;
    char pw[CK_PASSWORD_HASH_MAX + 2], err[768];     /* + newline + NUL */
    int from_stdin = 0, no_pw = 0, rc = CLI_FAIL;

    memset(&e, 0, sizeof(e));
    if (parse_fields(argc, argv, &e, &from_stdin, &no_pw) != 0)
        return CLI_USAGE;
    if (!e.set_role)
        return cli_usage("--role is needed");
    if (from_stdin && no_pw)
        return cli_usage("--password-stdin and --no-password exclude each other");
    if (cli_set_field(e.fields.email, sizeof(e.fields.email), e.email, "email") != 0)
        return CLI_USAGE;
    snprintf(e.fields.hash, sizeof(e.fields.hash), "!");
    if (ck_user_check(&e.fields, err, sizeof(err)) != 0)
        return cli_usage("%s", err);
    OPENSSL_cleanse(pw, sizeof(pw));
    if (!no_pw && cli_read_password(from_stdin, 1, "New password: ", pw, sizeof(pw)) != 0)
        goto out;
    if (!no_pw && ck_password_hash(pw, e.fields.hash, sizeof(e.fields.hash), err,
                                   sizeof(err)) != 0) {
        cli_fail("%s", err);
        goto out;
    }
    if (ck_users_add(cli_users_path(cfg), &e.fields, err, sizeof(err)) != 0) {
        cli_fail("%s", err);
        goto out;
    }
    printf("added %s (role %s) to %s\n", e.fields.email, e.fields.role, cli_users_path(cfg));
    cli_audit(cfg, "user_changed", e.fields.email, NULL, "success", "added");
    rc = CLI_OK;
out:
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(&e, sizeof(e));
    return rc;
}

static int end_sessions(const ck_config *cfg, const char *email, const char *reason);

int cli_user_set(const ck_config *cfg, int argc, char **argv)
{
    user_edit e;
    int rc;

    memset(&e, 0, sizeof(e));
    if (parse_fields(argc, argv, &e, NULL, NULL) != 0)
        return CLI_USAGE;
    if (!e.set_role && !e.set_clinic && !e.set_local && !e.set_corppass)
        return cli_usage("nothing to set (--role, --clinic, --local-user, --corppass)");
    if (e.set_role && !e.fields.role[0])
        return cli_usage("the role cannot be empty");
    rc = run_edit(cfg, &e, "updated", "updated");
    /*
     * A session carries the role and clinic it was opened with, and was
     * opened by the identity mapped then: after a change those would live
     * on for up to a session's lifetime.
     */
    if (rc != CLI_OK || !e.done || e.keep_sessions)
        return rc;
    return end_sessions(cfg, e.matched, "user_changed");
}

static int one_email(int argc, char **argv, const struct option *opts, int *from_stdin,
                     const char **email)
{
    int opt;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'p' || !from_stdin)
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        *from_stdin = 1;
    }
    if (optind + 1 != argc)
        return cli_usage("exactly one EMAIL is needed");
    *email = argv[optind];
    return CLI_OK;
}

/* disable, enable, del: the message word is one word, so it is the audit reason too. */
static int simple_edit(const ck_config *cfg, int argc, char **argv, user_edit *e,
                       const char *what)
{
    static const struct option none[] = { { NULL, 0, NULL, 0 } };
    int rc = one_email(argc, argv, none, NULL, &e->email);

    if (rc != CLI_OK)
        return rc;
    return run_edit(cfg, e, what, what);
}

/*
 * A user who is disabled or removed keeps no session: account checks
 * refuse new uses, but a session already open in a browser would live on
 * until it timed out. The edit stands even when the store cannot be
 * reached; the message says what to run then.
 */
static int end_sessions(const ck_config *cfg, const char *email, const char *reason)
{
    ck_store *st = cli_store_open(cfg);
    ck_status sr;
    size_t n = 0;

    if (!st)
        return cli_fail("the sessions of %s were not ended: run "
                        "'checkup sessions revoke-user %s'", email, email);
    sr = ck_store_revoke_user(st, email, &n);
    if (sr != CK_OK) {
        cli_store_error(st, sr, "ending the user's sessions");
        if (sr == CK_ERR_NOT_DURABLE)
            cli_audit(cfg, "sessions_revoked", email, NULL, "failure", "not_durable");
        ck_store_close(st);
        return cli_fail("the sessions of %s were not ended: run "
                        "'checkup sessions revoke-user %s'", email, email);
    }
    ck_store_close(st);
    printf("ended %zu session%s of %s\n", n, n == 1 ? "" : "s", email);
    if (n > 0)
        cli_audit(cfg, "sessions_revoked", email, NULL, "success", reason);
    return CLI_OK;
}

/*
 * A new password is the answer to a suspected compromise: the sessions
 * opened with the old one end (unless --keep-sessions), and a lockout the
 * guessing caused is cleared so that the user can log in with it.
 */
int cli_user_passwd(const ck_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "password-stdin", no_argument, NULL, 'p' },
        { "keep-sessions", no_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 },
    };
    user_edit e;
    char pw[CK_PASSWORD_HASH_MAX + 2], err[256];     /* + newline + NUL */
    int from_stdin = 0, keep = 0, opt, rc;

    memset(&e, 0, sizeof(e));
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'p')
            from_stdin = 1;
        else if (opt == 'k')
            keep = 1;
        else
            return cli_usage("unknown option '%s'", argv[optind - 1]);
    }
    if (optind + 1 != argc)
        return cli_usage("exactly one EMAIL is needed");
    e.email = argv[optind];
    rc = CLI_FAIL;
    if (cli_read_password(from_stdin, 1, "New password: ", pw, sizeof(pw)) != 0)
        goto out;
    if (ck_password_hash(pw, e.fields.hash, sizeof(e.fields.hash), err, sizeof(err)) != 0) {
        cli_fail("%s", err);
        goto out;
    }
    e.set_hash = 1;
    rc = run_edit(cfg, &e, "new password for", "password_set");
    if (rc != CLI_OK || !e.done)
        goto out;
    rc = cli_lockout_clear_one(cfg, NULL, CK_LOCK_ACCOUNT, e.matched, "password_set");
    if (!keep && end_sessions(cfg, e.matched, "password_changed") != CLI_OK)
        rc = CLI_FAIL;
out:
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(&e, sizeof(e));
    return rc;
}

int cli_user_disable(const ck_config *cfg, int argc, char **argv)
{
    user_edit e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.set_disabled = 1;
    e.fields.disabled = 1;
    rc = simple_edit(cfg, argc, argv, &e, "disabled");
    return rc == CLI_OK && e.done ? end_sessions(cfg, e.matched, "user_disabled") : rc;
}

int cli_user_enable(const ck_config *cfg, int argc, char **argv)
{
    user_edit e;

    int rc;

    memset(&e, 0, sizeof(e));
    e.set_disabled = 1;
    rc = simple_edit(cfg, argc, argv, &e, "enabled");
    /* Enabling lets the user in: a lock left from before would not. */
    if (rc != CLI_OK)
        return rc;
    return cli_lockout_clear_one(cfg, NULL, CK_LOCK_ACCOUNT, e.matched, "user_enabled");
}

int cli_user_del(const ck_config *cfg, int argc, char **argv)
{
    user_edit e;

    int rc;

    memset(&e, 0, sizeof(e));
    e.remove = 1;
    rc = simple_edit(cfg, argc, argv, &e, "removed");
    if (rc != CLI_OK || !e.done)
        return rc;
    rc = end_sessions(cfg, e.matched, "user_removed");
    /* A lock would wait for a user of the same email added later. */
    if (cli_lockout_clear_one(cfg, NULL, CK_LOCK_ACCOUNT, e.matched, "user_removed") != CLI_OK)
        rc = CLI_FAIL;
    return rc;
}

int cli_user_list(const ck_config *cfg, int argc, char **argv)
{
    ck_users users = { 0 };
    char err[768];

    if (argc != 1)
        return cli_usage("takes no arguments");
    if (ck_users_load(cli_users_path(cfg), 1, &users, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    printf("%-32s %-12s %-12s %-12s %-9s %-8s %s\n", "EMAIL", "ROLE", "CLINIC", "LOCAL",
           "PASSWORD", "STATE", "CORPPASS");
    for (size_t i = 0; i < users.count; i++) {
        const ck_user *u = &users.items[i];

        printf("%-32s %-12s %-12s %-12s %-9s %-8s %s\n", u->email, u->role,
               u->clinic_id[0] ? u->clinic_id : "-", u->local_user[0] ? u->local_user : "-",
               u->hash[0] == '$' ? "set" : "none", u->disabled ? "disabled" : "enabled",
               u->corppass[0] ? u->corppass : "-");
    }
    printf("%zu user%s\n", users.count, users.count == 1 ? "" : "s");
    ck_users_free(&users);
    return CLI_OK;
}

int cli_user_reindex(const ck_config *cfg, int argc, char **argv)
{
    char err[768];
    int lockfd;

    (void)argv;
    if (argc != 1)
        return cli_usage("takes no arguments");
    /* Under the file's lock: no edit by checkup replaces it meanwhile. */
    lockfd = ck_secfile_lock(cli_users_path(cfg), err, sizeof(err));
    if (lockfd < 0)
        return cli_fail("%s", err);
    if (ck_users_reindex(cli_users_path(cfg), err, sizeof(err)) != 0) {
        close(lockfd);
        return cli_fail("%s", err);
    }
    close(lockfd);
    printf("%s%s rebuilt\n", cli_users_path(cfg), CK_USERS_INDEX_SUFFIX);
    return CLI_OK;
}
