/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sasl_drive - a helper for tests/sasl_sample.sh and tests/sasl_valgrind.sh.
 *
 *   sasl_drive mint CONFIG EMAIL
 *       creates a session for EMAIL (a users-file user) through the store
 *       API, as a login would, and prints its token on stdout.
 *   sasl_drive server PLUGIN_DIR CONFIG MESSAGE_FILE [SERVICE]
 *       one OAUTHBEARER server exchange through the real libsasl2, in this
 *       process, with the plugin loaded from PLUGIN_DIR and checkup_config
 *       = CONFIG: the client's first message is the file's bytes (any size,
 *       any byte); after an error challenge the client's %x01 is sent.
 *       Prints "start=<code>", "challenge=<text>" when there is one,
 *       "step=<code>" after the %x01, and "user=<name>" on success.
 *       Exit 0 on success, 1 on a refusal, 2 on a usage or setup error.
 *   sasl_drive pair PLUGIN_DIR CONFIG TOKEN_FILE [AUTHZID]
 *       client and server mechanisms of the plugin against each other in
 *       this process: the client takes the token from SASL_CB_PASS.
 *       Prints and exits as "server" does.
 *   sasl_drive lines PLUGIN_DIR CONFIG < COMMANDS
 *       many such exchanges in one process (the plugin keeps its state):
 *       "pair TOKEN_FILE [AUTHZID]", "ipair ..." (the client answers
 *       prompts, as OpenLDAP's tools do) or "fork TOKEN_FILE" (the exchange
 *       in a child forked now) per line; prints "ok USER" or "refused WHY".
 *   sasl_drive threads PLUGIN_DIR CONFIG N ROUNDS TOKEN_FILE...
 *       N threads at once, each running ROUNDS server exchanges.
 *
 * The sample programs of sasl2-bin (sasl-sample-server/-client) read at
 * most 2 KiB a line, so oversized messages, and valgrind runs that should
 * see only libsasl2 and the plugin, go through here.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sasl/sasl.h>

typedef int (*cb_fn)(void);
/* libsasl2 keeps every callback as int (*)(void): cast through void (*)(void). */
#define CB(f) ((cb_fn)(void (*)(void))(f))

#include "ck_config.h"
#include "ck_login.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define MSG_MAX (1024 * 1024)

static const char *plugin_dir;
static const char *config_path;
static char token_buf[2048];
static const char *authzid;

/* Other components' sections ([daemon], providers) are not ours to check. */
static int any_section(void *ud, const char *section, const char *name, const char *value,
                       int lineno, char *err, size_t errlen)
{
    (void)ud, (void)section, (void)name, (void)value, (void)lineno, (void)err, (void)errlen;
    return 1;
}

static int mint(const char *conf, const char *email)
{
    ck_config cfg;
    ck_users users = { 0 };
    ck_keyring *ring = NULL;
    ck_store *st = NULL;
    const ck_user *u;
    ck_session s;
    char sid[CK_SID_LEN], err[512], *tok = NULL;
    int rc = 2;

    ck_config_defaults(&cfg);
    if (ck_config_load(&cfg, conf, any_section, NULL, err, sizeof(err)) != 0 ||
        ck_users_load(cfg.users_file, 1, &users, err, sizeof(err)) != 0 ||
        ck_keyring_load(cfg.token_key_file, 1, &ring, err, sizeof(err)) != 0) {
        fprintf(stderr, "sasl_drive: %s\n", err);
        goto out;
    }
    u = ck_users_find(&users, email);
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!u || !st) {
        fprintf(stderr, "sasl_drive: %s\n", u ? err : "no such user");
        goto out;
    }
    ck_login_session_init(&s, u);
    s.method = CK_AUTH_EMAIL;
    snprintf(s.service, sizeof(s.service), "sasl-test");
    if (ck_store_create(st, &s, sid) != CK_OK ||
        ck_token_sign(ring, sid, s.created, s.deadline, &tok) != CK_TOKEN_OK) {
        fprintf(stderr, "sasl_drive: cannot create the session\n");
        goto out;
    }
    printf("%s\n", tok);
    rc = 0;
out:
    if (tok) {
        OPENSSL_cleanse(tok, strlen(tok));
        free(tok);
    }
    OPENSSL_cleanse(sid, sizeof(sid));
    ck_store_close(st);
    ck_keyring_free(ring);
    ck_users_free(&users);
    ck_config_free(&cfg);
    return rc;
}

static int getpath(void *ctx, const char **path)
{
    (void)ctx;
    *path = plugin_dir;
    return SASL_OK;
}

static int getopt_cb(void *ctx, const char *plugin, const char *option, const char **result,
                     unsigned *len)
{
    (void)ctx;
    (void)plugin;
    if (strcmp(option, "checkup_config") == 0) {
        *result = config_path;
        if (len)
            *len = (unsigned)strlen(config_path);
        return SASL_OK;
    }
    if (strcmp(option, "mech_list") == 0) {
        *result = "OAUTHBEARER";
        if (len)
            *len = 11;
        return SASL_OK;
    }
    return SASL_FAIL;
}

static int log_cb(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level <= SASL_LOG_WARN)
        fprintf(stderr, "sasl: %s\n", msg);
    return SASL_OK;
}

static sasl_secret_t *secret;

static int pass_cb(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
    size_t n = strlen(token_buf);

    (void)conn;
    (void)ctx;
    (void)id;
    if (!secret)
        secret = calloc(1, sizeof(*secret) + sizeof(token_buf));
    if (!secret)
        return SASL_NOMEM;
    secret->len = (unsigned long)n;
    memcpy(secret->data, token_buf, n + 1);
    *out = secret;
    return SASL_OK;
}

static int user_cb(void *ctx, int id, const char **result, unsigned *len)
{
    (void)ctx;
    (void)id;
    *result = authzid ? authzid : "";
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static const sasl_callback_t callbacks[] = {
    { SASL_CB_GETPATH, CB(getpath), NULL },
    { SASL_CB_GETOPT, CB(getopt_cb), NULL },
    { SASL_CB_LOG, CB(log_cb), NULL },
    { SASL_CB_PASS, CB(pass_cb), NULL },
    { SASL_CB_USER, CB(user_cb), NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

static void print_challenge(const char *out, unsigned outlen)
{
    if (out && outlen)
        printf("challenge=%.*s\n", (int)outlen, out);
}

/* The server's side after the first message; returns the exit status. */
static int finish(sasl_conn_t *srv, int rc, const char *out, unsigned outlen)
{
    const void *user = NULL;

    printf("start=%s\n", sasl_errstring(rc, NULL, NULL));
    print_challenge(out, outlen);
    if (rc == SASL_CONTINUE && outlen > 0) {
        rc = sasl_server_step(srv, "\x01", 1, &out, &outlen);
        printf("step=%s\n", sasl_errstring(rc, NULL, NULL));
    }
    if (rc != SASL_OK)
        return 1;
    if (sasl_getprop(srv, SASL_USERNAME, &user) == SASL_OK && user)
        printf("user=%s\n", (const char *)user);
    return 0;
}

static int init(sasl_conn_t **srv)
{
    int rc = sasl_server_init(callbacks, "checkup-test");

    if (rc == SASL_OK)
        rc = sasl_server_new("ldap", "localhost", NULL, "127.0.0.1;389", "127.0.0.1;40000",
                             NULL, 0, srv);
    if (rc != SASL_OK) {
        fprintf(stderr, "sasl_drive: %s\n", sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    return 0;
}

static int server(const char *file)
{
    sasl_conn_t *srv = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    char *msg = malloc(MSG_MAX);
    size_t n;
    FILE *f = fopen(file, "rb");
    int rc = 2;

    if (!msg || !f) {
        fprintf(stderr, "sasl_drive: cannot read %s\n", file);
        goto out;
    }
    n = fread(msg, 1, MSG_MAX, f);
    if (init(&srv) != 0)
        goto out;
    rc = sasl_server_start(srv, "OAUTHBEARER", msg, (unsigned)n, &out, &outlen);
    rc = finish(srv, rc, out, outlen);
out:
    if (f)
        fclose(f);
    if (msg) {
        OPENSSL_cleanse(msg, MSG_MAX);
        free(msg);
    }
    if (srv)
        sasl_dispose(&srv);
    sasl_done();
    return rc;
}

static int pair(const char *file)
{
    sasl_conn_t *srv = NULL, *cli = NULL;
    const char *cout = NULL, *sout = NULL, *mech = NULL;
    unsigned coutlen = 0, soutlen = 0;
    FILE *f = fopen(file, "r");
    int rc = 2, crc;

    if (!f || !fgets(token_buf, sizeof(token_buf), f)) {
        fprintf(stderr, "sasl_drive: cannot read %s\n", file);
        goto out;
    }
    token_buf[strcspn(token_buf, "\n")] = '\0';
    if (init(&srv) != 0 || sasl_client_init(callbacks) != SASL_OK ||
        sasl_client_new("ldap", "localhost", "127.0.0.1;40000", "127.0.0.1;389", NULL, 0,
                        &cli) != SASL_OK)
        goto out;
    crc = sasl_client_start(cli, "OAUTHBEARER", NULL, &cout, &coutlen, &mech);
    if (crc != SASL_CONTINUE && crc != SASL_OK) {
        fprintf(stderr, "sasl_drive: client: %s\n", sasl_errdetail(cli));
        goto out;
    }
    rc = sasl_server_start(srv, "OAUTHBEARER", cout, coutlen, &sout, &soutlen);
    if (rc == SASL_CONTINUE && soutlen > 0) {
        printf("start=%s\n", sasl_errstring(rc, NULL, NULL));
        print_challenge(sout, soutlen);
        crc = sasl_client_step(cli, sout, soutlen, NULL, &cout, &coutlen);
        printf("client=%s reply=%s\n", sasl_errstring(crc, NULL, NULL),
               coutlen == 1 && cout[0] == '\x01' ? "kvsep" : "other");
        rc = sasl_server_step(srv, cout, coutlen, &sout, &soutlen);
        printf("step=%s\n", sasl_errstring(rc, NULL, NULL));
        rc = 1;
        goto out;
    }
    if (rc == SASL_OK) {
        /* The client learns of the success with no further data. */
        crc = sasl_client_step(cli, NULL, 0, NULL, &cout, &coutlen);
        printf("client=%s\n", sasl_errstring(crc, NULL, NULL));
    }
    rc = finish(srv, rc, NULL, 0);
out:
    if (f)
        fclose(f);
    OPENSSL_cleanse(token_buf, sizeof(token_buf));
    if (secret) {
        OPENSSL_cleanse(secret, sizeof(*secret) + sizeof(token_buf));
        free(secret);
    }
    if (cli)
        sasl_dispose(&cli);
    if (srv)
        sasl_dispose(&srv);
    sasl_done();
    return rc;
}

/* ---- one process, many exchanges: "lines" and "threads" ---------------- */

/* What a client connection sends: its own callbacks carry it. */
typedef struct cred {
    char token[2048];
    const char *authzid;
    sasl_secret_t *secret;
} cred;

static int conn_pass_cb(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
    cred *cr = ctx;
    size_t n = strlen(cr->token);

    (void)conn;
    (void)id;
    if (!cr->secret)
        cr->secret = calloc(1, sizeof(*cr->secret) + n + 1);
    if (!cr->secret)
        return SASL_NOMEM;
    cr->secret->len = (unsigned long)n;
    memcpy(cr->secret->data, cr->token, n + 1);
    *out = cr->secret;
    return SASL_OK;
}

static int conn_user_cb(void *ctx, int id, const char **result, unsigned *len)
{
    cred *cr = ctx;

    (void)id;
    *result = cr->authzid ? cr->authzid : "";
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int read_token(const char *file, char *buf, size_t len)
{
    FILE *f = fopen(file, "r");
    int ok = f && fgets(buf, (int)len, f);

    if (f)
        fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/*
 * The application's side of SASL_INTERACT, as OpenLDAP's tools do it: the
 * prompts the mechanism asked for, answered from cr.
 */
static void answer_prompts(sasl_interact_t *p, cred *cr)
{
    for (; p && p->id != SASL_CB_LIST_END; p++) {
        const char *v = p->id == SASL_CB_PASS ? cr->token
                        : p->id == SASL_CB_USER && cr->authzid ? cr->authzid : "";

        p->result = v;
        p->len = (unsigned)strlen(v);
    }
}

/*
 * One exchange, client and server mechanisms; prints "ok USER" or
 * "refused CODE". interact: the client has no callbacks and answers the
 * mechanism's prompts instead.
 */
static int pair_once(const char *file, const char *az, int interact)
{
    cred cr = { .authzid = az && *az ? az : NULL };
    sasl_interact_t *prompts = NULL;
    sasl_callback_t cbs[] = {
        { SASL_CB_PASS, CB(conn_pass_cb), &cr },
        { SASL_CB_USER, CB(conn_user_cb), &cr },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    /* Listed without a function: "ask me" (Cyrus's convention, OpenLDAP's way). */
    sasl_callback_t none[] = {
        { SASL_CB_USER, NULL, NULL },
        { SASL_CB_PASS, NULL, NULL },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    sasl_conn_t *srv = NULL, *cli = NULL;
    const char *cout = NULL, *sout = NULL, *mech = NULL;
    unsigned coutlen = 0, soutlen = 0;
    const void *user = NULL;
    int rc = SASL_FAIL;

    if (read_token(file, cr.token, sizeof(cr.token)) != 0) {
        printf("refused cannot-read\n");
        return 1;
    }
    if (sasl_server_new("ldap", "localhost", NULL, "127.0.0.1;389", "127.0.0.1;40000", NULL, 0,
                        &srv) != SASL_OK ||
        sasl_client_new("ldap", "localhost", "127.0.0.1;40000", "127.0.0.1;389",
                        interact ? none : cbs, 0, &cli) != SASL_OK)
        goto out;
    rc = sasl_client_start(cli, "OAUTHBEARER", interact ? &prompts : NULL, &cout, &coutlen,
                           &mech);
    if (rc == SASL_INTERACT && interact) {
        answer_prompts(prompts, &cr);
        rc = sasl_client_start(cli, "OAUTHBEARER", &prompts, &cout, &coutlen, &mech);
    }
    if (rc != SASL_CONTINUE)
        goto out;
    rc = sasl_server_start(srv, "OAUTHBEARER", cout, coutlen, &sout, &soutlen);
    if (rc == SASL_CONTINUE && soutlen > 0) {
        rc = sasl_client_step(cli, sout, soutlen, NULL, &cout, &coutlen);
        if (rc == SASL_CONTINUE)
            rc = sasl_server_step(srv, cout, coutlen, &sout, &soutlen);
    }
    if (rc == SASL_OK)
        rc = sasl_client_step(cli, NULL, 0, NULL, &cout, &coutlen);
    if (rc == SASL_OK && sasl_getprop(srv, SASL_USERNAME, &user) != SASL_OK)
        rc = SASL_FAIL;
out:
    if (rc == SASL_OK)
        printf("ok %s\n", (const char *)user);
    else
        printf("refused %s\n", sasl_errstring(rc, NULL, NULL));
    fflush(stdout);
    OPENSSL_cleanse(cr.token, sizeof(cr.token));
    if (cr.secret) {
        OPENSSL_cleanse(cr.secret->data, cr.secret->len);
        free(cr.secret);
    }
    if (cli)
        sasl_dispose(&cli);
    if (srv)
        sasl_dispose(&srv);
    return rc == SASL_OK ? 0 : 1;
}

/*
 * Reads commands from stdin, one per line, in one process (so the plugin
 * keeps its state between them):
 *   pair TOKENFILE [AUTHZID]   one exchange
 *   ipair TOKENFILE [AUTHZID]  one exchange, the client answering prompts
 *                              (SASL_INTERACT) instead of callbacks
 *   fork TOKENFILE             one exchange in a child forked now
 */
static int lines(void)
{
    char line[4096], *cmd, *file, *az, *save = NULL;
    int fails = 0;

    /* No global PASS or USER callback: each connection brings its own, or none. */
    static const sasl_callback_t globals[] = {
        { SASL_CB_GETPATH, CB(getpath), NULL },
        { SASL_CB_GETOPT, CB(getopt_cb), NULL },
        { SASL_CB_LOG, CB(log_cb), NULL },
        { SASL_CB_LIST_END, NULL, NULL },
    };

    if (sasl_server_init(globals, "checkup-test") != SASL_OK ||
        sasl_client_init(globals) != SASL_OK)
        return 2;
    while (fgets(line, sizeof(line), stdin)) {
        cmd = strtok_r(line, " \n", &save);
        file = strtok_r(NULL, " \n", &save);
        az = strtok_r(NULL, " \n", &save);
        if (!cmd || !file)
            continue;
        if (strcmp(cmd, "fork") == 0) {
            pid_t pid = fork();
            int ws = 0;

            if (pid == 0) {
                printf("child ");
                _exit(pair_once(file, az, 0));
            }
            if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) ||
                WEXITSTATUS(ws) != 0)
                fails++;
            continue;
        }
        fails += pair_once(file, az, strcmp(cmd, "ipair") == 0);
    }
    sasl_done();
    return fails ? 1 : 0;
}

typedef struct worker {
    pthread_t th;
    char msg[2200];
    unsigned len;
    int rounds;
    int failed;
} worker;

/* Server exchanges only (the client side is not what runs threaded in services). */
static void *work(void *arg)
{
    worker *w = arg;

    for (int i = 0; i < w->rounds; i++) {
        sasl_conn_t *srv = NULL;
        const char *out = NULL;
        unsigned outlen = 0;
        int rc = sasl_server_new("ldap", "localhost", NULL, "127.0.0.1;389", "127.0.0.1;40000",
                                 NULL, 0, &srv);

        if (rc == SASL_OK)
            rc = sasl_server_start(srv, "OAUTHBEARER", w->msg, w->len, &out, &outlen);
        w->failed += rc != SASL_OK;
        if (srv)
            sasl_dispose(&srv);
    }
    return NULL;
}

/* N threads, each doing ROUNDS exchanges with its token (token files in turn). */
static int threads(int n, int rounds, char **files, int nfiles)
{
    worker *w = NULL;
    char tok[2048];
    int failed = 0, started = 0, rc = 2;

    if (n <= 0 || n > 64 || rounds <= 0)
        return 2;
    w = calloc((size_t)n, sizeof(*w));
    if (!w || sasl_server_init(callbacks, "checkup-test") != SASL_OK)
        goto out;
    for (; started < n; started++) {
        worker *wk = &w[started];

        if (read_token(files[started % nfiles], tok, sizeof(tok)) != 0)
            break;
        wk->len = (unsigned)snprintf(wk->msg, sizeof(wk->msg),
                                     "n,,\001auth=Bearer %s\001\001", tok);
        wk->rounds = rounds;
        if (pthread_create(&wk->th, NULL, work, wk) != 0)
            break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].th, NULL);
        failed += w[i].failed;
    }
    if (started == n) {
        printf("threads=%d exchanges=%d failed=%d\n", n, n * rounds, failed);
        rc = failed ? 1 : 0;
    }
    sasl_done();
out:
    OPENSSL_cleanse(tok, sizeof(tok));
    if (w) {
        OPENSSL_cleanse(w, (size_t)n * sizeof(*w));
        free(w);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "mint") == 0)
        return mint(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "lines") == 0) {
        plugin_dir = argv[2];
        config_path = argv[3];
        return lines();
    }
    if (argc >= 7 && strcmp(argv[1], "threads") == 0) {
        plugin_dir = argv[2];
        config_path = argv[3];
        return threads(atoi(argv[4]), atoi(argv[5]), argv + 6, argc - 6);
    }
    if (argc == 5 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "pair") == 0)) {
        plugin_dir = argv[2];
        config_path = argv[3];
        return argv[1][0] == 's' ? server(argv[4]) : pair(argv[4]);
    }
    if (argc == 6 && strcmp(argv[1], "pair") == 0) {
        plugin_dir = argv[2];
        config_path = argv[3];
        authzid = argv[5];
        return pair(argv[4]);
    }
    fprintf(stderr, "usage: sasl_drive mint CONFIG EMAIL\n"
                    "       sasl_drive server PLUGIN_DIR CONFIG MESSAGE_FILE\n"
                    "       sasl_drive pair PLUGIN_DIR CONFIG TOKEN_FILE [AUTHZID]\n"
                    "       sasl_drive lines PLUGIN_DIR CONFIG < COMMANDS\n"
                    "       sasl_drive threads PLUGIN_DIR CONFIG N ROUNDS TOKEN_FILE...\n");
    return 2;
}
