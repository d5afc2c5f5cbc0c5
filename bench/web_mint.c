/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * web_mint - sessions for bench/web.sh, made the way checkupd's password
 * login makes them, without the password hash.
 *
 *   bench/web_mint CONF N USERS OUT
 *
 * Creates N sessions in CONF's store, round robin over the users-file
 * users load1..loadUSERS@example.org (ck_login_session_init, method
 * email, service "checkupd", remote host 127.0.0.1: the record
 * start_session in web/login.c writes), signs each token with CONF's key
 * ring and writes the tokens to OUT (mode 0600), one a line. 10,000 real
 * logins would cost 10,000 yescrypt hashes (minutes on 2 cores) and
 * measure nothing the bench is after. Tokens are never printed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ck_config.h"
#include "ck_login.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

static void die(const char *what, const char *why)
{
    fprintf(stderr, "web_mint: %s: %s\n", what, why);
    exit(1);
}

/* checkupd's [daemon] section is not ours to read. */
static int skip_section(void *ud, const char *section, const char *name, const char *value,
                        int lineno, char *err, size_t errlen)
{
    (void)ud, (void)section, (void)name, (void)value, (void)lineno, (void)err, (void)errlen;
    return 1;
}

int main(int argc, char **argv)
{
    ck_config cfg;
    ck_users users;
    ck_keyring *ring = NULL;
    ck_store *st;
    char err[512], name[64], sid[CK_SID_LEN];
    long n, nusers;
    FILE *out;
    int fd;

    if (argc != 5 || (n = atol(argv[2])) <= 0 || (nusers = atol(argv[3])) <= 0)
        die("usage", "web_mint CONF N USERS OUT");
    memset(&users, 0, sizeof(users));
    ck_config_defaults(&cfg);
    if (ck_config_load(&cfg, argv[1], skip_section, NULL, err, sizeof(err)) != 0)
        die("config", err);
    if (ck_users_load(cfg.users_file, 1, &users, err, sizeof(err)) != 0)
        die("users", err);
    if (ck_keyring_load(cfg.token_key_file, 1, &ring, err, sizeof(err)) != 0)
        die("keys", err);
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st)
        die("store", err);
    fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out)
        die(argv[4], strerror(errno));
    for (long i = 0; i < n; i++) {
        const ck_user *u;
        ck_session s;
        char *tok = NULL;

        snprintf(name, sizeof(name), "load%ld@example.org", i % nusers + 1);
        u = ck_users_find(&users, name);
        if (!u)
            die(name, "not in the users file");
        ck_login_session_init(&s, u);
        s.method = CK_AUTH_EMAIL;
        snprintf(s.remote_host, sizeof(s.remote_host), "127.0.0.1");
        snprintf(s.service, sizeof(s.service), "checkupd");
        if (ck_store_create(st, &s, sid) != CK_OK)
            die("create", ck_store_errstr(st));
        if (ck_token_sign(ring, sid, s.created, s.deadline, &tok) != CK_TOKEN_OK)
            die("sign", "failed");
        OPENSSL_cleanse(sid, sizeof(sid));
        if (fprintf(out, "%s\n", tok) < 0)
            die(argv[4], strerror(errno));
        OPENSSL_cleanse(tok, strlen(tok));
        free(tok);
    }
    if (fclose(out) != 0)
        die(argv[4], strerror(errno));
    ck_store_close(st);
    ck_keyring_free(ring);
    ck_users_free(&users);
    ck_config_free(&cfg);
    return 0;
}
