/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_sessions.c - "checkup sessions ...". Sessions are found through the
 * per-user index of the store, for one user or for every user of the
 * users file: never a scan of every key of the store.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "ck_clock.h"
#include "ck_encode.h"
#include "ck_users.h"
#include "cli.h"

#define PREFIX_MIN 6
/* checkupd names the service of an OIDC or CorpPass session "checkupd:<provider>". */
#define DAEMON_SERVICE_PREFIX "checkupd:"
#define IDP_SID_HASH_HEX 16

/* Every live session of one user, or of every user of the users file. */
typedef struct found {
    ck_session_list all;
} found;

static int append_list(found *f, ck_session_list *l)
{
    ck_session *items;

    if (l->count == 0)
        return 0;
    items = realloc(f->all.items, (f->all.count + l->count) * sizeof(*items));
    if (!items)
        return -1;
    memcpy(items + f->all.count, l->items, l->count * sizeof(*items));
    f->all.items = items;
    f->all.count += l->count;
    return 0;
}

static int gather_user(ck_store *st, const char *user, found *f)
{
    ck_session_list l = { 0, NULL };
    ck_status rc = ck_store_list_user(st, user, &l);
    int r = 0;

    if (rc != CK_OK) {
        fprintf(stderr, "checkup: sessions of %s: %s: %s\n", user, ck_status_str(rc),
                ck_store_errstr(st));
        return -1;
    }
    if (append_list(f, &l) != 0) {
        fprintf(stderr, "checkup: out of memory\n");
        r = -1;
    }
    ck_session_list_free(&l);
    return r;
}

static int gather(const ck_config *cfg, ck_store *st, const char *user, found *f)
{
    ck_users users = { 0 };
    char err[768];
    int rc = 0;

    if (user)
        return gather_user(st, user, f);
    if (ck_users_load(cli_users_path(cfg), 1, &users, err, sizeof(err)) != 0) {
        fprintf(stderr, "checkup: %s\n", err);
        return -1;
    }
    for (size_t i = 0; rc == 0 && i < users.count; i++)
        rc = gather_user(st, users.items[i].email, f);
    ck_users_free(&users);
    return rc;
}

/*
 * The identity provider of an OIDC or CorpPass session: the provider
 * named in checkupd's service, else "-" (a password login, or a terminal
 * login whose service is the PAM service).
 */
static const char *session_idp(const ck_session *s)
{
    size_t n = strlen(DAEMON_SERVICE_PREFIX);

    if (s->method == CK_AUTH_EMAIL || strncmp(s->service, DAEMON_SERVICE_PREFIX, n) != 0 ||
        !s->service[n])
        return "-";
    return s->service + n;
}

/*
 * The provider's session id is not shown, only the first hex digits of
 * its SHA-256: enough to match a back-channel logout, useless to replay.
 */
static void idp_sid_hash(const char *idp_sid, char out[IDP_SID_HASH_HEX + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)idp_sid, strlen(idp_sid), md);
    ck_hex_encode(md, IDP_SID_HASH_HEX / 2, out);
}

static void print_header(void)
{
    printf("%-16s %-28s %-8s %-12s %-20s %7s %7s %-15s %-10s %s\n", "SESSION", "USER",
           "METHOD", "IDP", "CREATED", "IDLE", "EXPIRES", "FROM", "SERVICE", "TTY");
}

static void print_row(const ck_session *s, int64_t now)
{
    char created[32];

    cli_fmt_time(s->created, created, sizeof(created));
    printf("%-16.14s %-28s %-8s %-12s %-20s %6llds %6llds %-15s %-10s %s\n", s->key_hex,
           s->user_id, ck_auth_method_name(s->method), session_idp(s), created,
           (long long)(now - s->last_activity), (long long)(s->expires - now),
           s->remote_host[0] ? s->remote_host : "-", s->service[0] ? s->service : "-",
           s->tty[0] ? s->tty : "-");
}

static int parse_user_opt(int argc, char **argv, const char **user, int nargs)
{
    static const struct option opts[] = {
        { "user", required_argument, NULL, 'u' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'u')
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        *user = optarg;
    }
    if (argc - optind != nargs)
        return nargs ? cli_usage("exactly one argument is needed")
                     : cli_usage("takes no arguments besides --user");
    return CLI_OK;
}

int cli_sessions_list(const ck_config *cfg, int argc, char **argv)
{
    const char *user = NULL;
    found f = { { 0, NULL } };
    ck_store *st;
    int64_t now = ck_now();
    int rc = parse_user_opt(argc, argv, &user, 0);

    if (rc != CLI_OK)
        return rc;
    st = cli_store_open(cfg);
    if (!st)
        return CLI_FAIL;
    rc = CLI_FAIL;
    if (gather(cfg, st, user, &f) != 0)
        goto out;
    print_header();
    for (size_t i = 0; i < f.all.count; i++)
        print_row(&f.all.items[i], now);
    printf("%zu session%s\n", f.all.count, f.all.count == 1 ? "" : "s");
    rc = CLI_OK;
out:
    ck_session_list_free(&f.all);
    ck_store_close(st);
    return rc;
}

/*
 * A key or key prefix: 6 to 66 characters, the session's 2-character tag
 * (base64url: "3f" in older ids, "gQ" in newer ones) then lowercase hex.
 */
static int key_arg_ok(const char *key)
{
    size_t n = strlen(key);

    if (n < PREFIX_MIN || n >= CK_KEY_HEX_LEN || !ck_b64url_char((unsigned char)key[0]) ||
        !ck_b64url_char((unsigned char)key[1]) ||
        strspn(key + 2, "0123456789abcdef") != n - 2)
        return cli_usage("'%.80s' is not a session key or key prefix (%d to %d characters:"
                         " a 2-character tag, then 0-9 a-f)",
                         key, PREFIX_MIN, CK_KEY_HEX_LEN - 1);
    return CLI_OK;
}

/* The one session whose key starts with prefix; prints why when none or several. */
static int resolve(const ck_config *cfg, ck_store *st, const char *user, const char *prefix,
                   ck_session *out)
{
    found f = { { 0, NULL } };
    size_t n = strlen(prefix), hits = 0;

    if (gather(cfg, st, user, &f) != 0) {
        /* The users before the failing one are in f already. */
        ck_session_list_free(&f.all);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < f.all.count; i++) {
        if (strncmp(f.all.items[i].key_hex, prefix, n) != 0)
            continue;
        if (hits++ == 0)
            *out = f.all.items[i];
    }
    ck_session_list_free(&f.all);
    if (hits == 0)
        return cli_fail("no live session with key %s%s%s", prefix, user ? " of " : "",
                        user ? user : "");
    if (hits > 1)
        return cli_fail("%zu sessions have keys starting with %s: give more characters",
                        hits, prefix);
    return CLI_OK;
}

int cli_sessions_show(const ck_config *cfg, int argc, char **argv)
{
    const char *user = NULL;
    char t1[32], t2[32], t3[32], t4[32], sidh[IDP_SID_HASH_HEX + 1];
    ck_session s;
    ck_store *st;
    int64_t now = ck_now();
    int rc = parse_user_opt(argc, argv, &user, 1);

    if (rc == CLI_OK)
        rc = key_arg_ok(argv[optind]);
    if (rc != CLI_OK)
        return rc;
    st = cli_store_open(cfg);
    if (!st)
        return CLI_FAIL;
    rc = resolve(cfg, st, user, argv[optind], &s);
    ck_store_close(st);
    if (rc != CLI_OK)
        return rc;
    cli_fmt_time(s.created, t1, sizeof(t1));
    cli_fmt_time(s.last_activity, t2, sizeof(t2));
    cli_fmt_time(s.expires, t3, sizeof(t3));
    cli_fmt_time(s.deadline, t4, sizeof(t4));
    printf("key:           %s\n", s.key_hex);
    printf("user:          %s\n", s.user_id);
    printf("email:         %s\n", s.email[0] ? s.email : "-");
    printf("role:          %s\n", s.role[0] ? s.role : "-");
    printf("clinic:        %s\n", s.clinic_id[0] ? s.clinic_id : "-");
    printf("method:        %s\n", ck_auth_method_name(s.method));
    printf("created:       %s\n", t1);
    printf("last activity: %s (%lld s ago)\n", t2, (long long)(now - s.last_activity));
    printf("expires:       %s (in %lld s)\n", t3, (long long)(s.expires - now));
    printf("deadline:      %s\n", t4);
    printf("from:          %s\n", s.remote_host[0] ? s.remote_host : "-");
    printf("service:       %s\n", s.service[0] ? s.service : "-");
    printf("tty:           %s\n", s.tty[0] ? s.tty : "-");
    printf("user agent:    %s\n", s.user_agent[0] ? s.user_agent : "-");
    printf("idp:           %s\n", session_idp(&s));
    if (s.idp_sid[0]) {
        idp_sid_hash(s.idp_sid, sidh);
        printf("idp session:   sha256:%s\n", sidh);
    } else {
        printf("idp session:   -\n");
    }
    return CLI_OK;
}

int cli_sessions_revoke(const ck_config *cfg, int argc, char **argv)
{
    const char *user = NULL, *key;
    ck_session s;
    ck_store *st;
    ck_status sr;
    int rc = parse_user_opt(argc, argv, &user, 1);

    if (rc == CLI_OK)
        rc = key_arg_ok(argv[optind]);
    if (rc != CLI_OK)
        return rc;
    key = argv[optind];
    st = cli_store_open(cfg);
    if (!st)
        return CLI_FAIL;
    memset(&s, 0, sizeof(s));
    if (strlen(key) == CK_KEY_HEX_LEN - 1) {
        snprintf(s.key_hex, sizeof(s.key_hex), "%s", key);
    } else {
        rc = resolve(cfg, st, user, key, &s);
        if (rc != CLI_OK)
            goto out;
    }
    sr = ck_store_delete_key(st, s.key_hex);
    if (sr == CK_ERR_INVALID) {     /* the tag is out of range */
        rc = cli_usage("'%.80s' is not a session key: %s", key, ck_store_errstr(st));
        goto out;
    }
    if (sr != CK_OK) {
        rc = cli_store_error(st, sr, "revoke");
        if (sr == CK_ERR_NOT_DURABLE)
            cli_audit(cfg, "session_revoked", s.user_id, s.key_hex, "failure", "not_durable");
        goto out;
    }
    printf("revoked session %.14s%s%s\n", s.key_hex, s.user_id[0] ? " of " : "", s.user_id);
    cli_audit(cfg, "session_revoked", s.user_id, s.key_hex, "success", "admin");
    rc = CLI_OK;
out:
    ck_store_close(st);
    return rc;
}

int cli_sessions_revoke_user(const ck_config *cfg, int argc, char **argv)
{
    ck_store *st;
    ck_status sr;
    size_t n = 0;

    if (argc != 2 || argv[1][0] == '-')
        return cli_usage("exactly one EMAIL is needed");
    st = cli_store_open(cfg);
    if (!st)
        return CLI_FAIL;
    sr = ck_store_revoke_user(st, argv[1], &n);
    if (sr != CK_OK) {
        int rc = cli_store_error(st, sr, "revoke-user");

        if (sr == CK_ERR_NOT_DURABLE)
            cli_audit(cfg, "sessions_revoked", argv[1], NULL, "failure", "not_durable");

        ck_store_close(st);
        return rc;
    }
    ck_store_close(st);
    printf("revoked %zu session%s of %s\n", n, n == 1 ? "" : "s", argv[1]);
    cli_audit(cfg, "sessions_revoked", argv[1], NULL, "success", "admin_all_devices");
    return CLI_OK;
}
