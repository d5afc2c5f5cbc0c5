/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/sasl - what the OAUTHBEARER plugin adds on top of the store,
 * measured in one run.
 *
 *   bench/sasl [-t SECONDS] [-n SESSIONS] [STORE_URL]
 *
 * Without a URL it uses an LMDB store in a temp dir under $TMPDIR, else
 * /dev/shm (tmpfs, like /run where the default store lives), else /tmp.
 *
 * As bench/pam does, both sides are measured in alternating slices of
 * 0.2 s for the same total time, on one pool of SESSIONS sessions
 * (default 200000) created through the store API before the clock starts
 * and used round robin through one shared cursor, so that every touch
 * writes (the shortest time between two uses of one session is printed;
 * under 1 s the bench says so and exits 1):
 *   - the bare store: ck_store_touch of the next session;
 *   - a full OAUTHBEARER server exchange as a service runs it for one
 *     bind: sasl_server_new, sasl_server_start with the client's message
 *     carrying the next session's token (the plugin, loaded by libsasl2
 *     from the build tree, parses it, checks the signature, touches the
 *     session, checks the user and canonicalises the name), sasl_dispose.
 *
 * Last line:  RESULT sasl_exchanges_per_s=<n> sasl_vs_touch=<ratio>
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include "ck_config.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define USER "bench@example.org"
#define DEFAULT_POOL 200000
#define SLICE 0.2

typedef int (*cb_fn)(void);
/* libsasl2 keeps every callback as int (*)(void): cast through void (*)(void). */
#define CB(f) ((cb_fn)(void (*)(void))(f))

static char plugin_dir[4096];
static char config_path[4096];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench/sasl: %s: %s\n", what, why);
    exit(1);
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
    if (strcmp(option, "checkup_config") != 0)
        return SASL_FAIL;
    *result = config_path;
    if (len)
        *len = (unsigned)strlen(config_path);
    return SASL_OK;
}

static const sasl_callback_t callbacks[] = {
    { SASL_CB_GETPATH, CB(getpath), NULL },
    { SASL_CB_GETOPT, CB(getopt_cb), NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die(path, strerror(errno));
}

/* Users file, key ring and configuration in dir; the map is sized for the pool. */
static void setup_dir(const char *dir, const char *url, long pool)
{
    char path[4200], text[16384], err[512], kid[CK_KID_MAX];
    ck_user u;

    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), USER);
    snprintf(u.role, sizeof(u.role), "doctor");
    snprintf(u.hash, sizeof(u.hash), "!");      /* token logins only */
    snprintf(path, sizeof(path), "%s/users", dir);
    if (ck_users_add(path, &u, err, sizeof(err)) != 0)
        die("users", err);
    snprintf(path, sizeof(path), "%s/keys", dir);
    if (ck_keyring_generate(path, kid, err, sizeof(err)) != 0)
        die("keys", err);
    snprintf(config_path, sizeof(config_path), "%s/checkup.conf", dir);
    if (url)
        snprintf(text, sizeof(text), "[store]\nurl = %s\n", url);
    else
        snprintf(text, sizeof(text), "[store]\nurl = lmdb:%s/store\nmap_size = %ldM\n", dir,
                 256 + pool / 256);
    snprintf(text + strlen(text), sizeof(text) - strlen(text),
             "[users]\nfile = %s/users\n[tokens]\nkey_file = %s/keys\n", dir, dir);
    write_text(config_path, text);
}

typedef struct pool {
    long n, next;
    char (*sid)[CK_SID_LEN];
    char **msg;             /* the client's first message for each session */
    unsigned *len;
    double *last;
    double min_gap;
} pool;

static long pool_take(pool *p)
{
    long i = p->next;
    double t = now_s();

    if (t - p->last[i] < p->min_gap)
        p->min_gap = t - p->last[i];
    p->last[i] = t;
    p->next = i + 1 == p->n ? 0 : i + 1;
    return i;
}

static void pool_fill(pool *p, ck_store *st, const ck_keyring *ring, long n)
{
    char buf[2048], *tok = NULL;
    ck_session s;

    p->n = n;
    p->next = 0;
    p->min_gap = 1e9;
    p->sid = calloc((size_t)n, sizeof(*p->sid));
    p->msg = calloc((size_t)n, sizeof(*p->msg));
    p->len = calloc((size_t)n, sizeof(*p->len));
    p->last = calloc((size_t)n, sizeof(*p->last));
    if (!p->sid || !p->msg || !p->len || !p->last)
        die("pool", "out of memory");
    for (long i = 0; i < n; i++) {
        memset(&s, 0, sizeof(s));
        snprintf(s.user_id, sizeof(s.user_id), USER);
        snprintf(s.email, sizeof(s.email), USER);
        s.method = CK_AUTH_EMAIL;
        if (ck_store_create(st, &s, p->sid[i]) != CK_OK)
            die("create", ck_store_errstr(st));
        if (ck_token_sign(ring, p->sid[i], s.created, s.deadline, &tok) != CK_TOKEN_OK)
            die("sign", "failed");
        p->len[i] = (unsigned)snprintf(buf, sizeof(buf), "n,,\001auth=Bearer %s\001\001", tok);
        free(tok);
        p->msg[i] = strdup(buf);
        if (!p->msg[i])
            die("pool", "out of memory");
        p->last[i] = now_s();
    }
}

static void pool_free(pool *p)
{
    for (long i = 0; i < p->n; i++)
        free(p->msg[i]);
    free(p->msg);
    free(p->len);
    free(p->sid);
    free(p->last);
}

static void slice_touch(ck_store *st, pool *p, double secs, long *n, double *t)
{
    ck_session s;
    double t0 = now_s(), dt;

    do {
        for (int i = 0; i < 8; i++, (*n)++)
            if (ck_store_touch(st, p->sid[pool_take(p)], &s) != CK_OK)
                die("touch", ck_store_errstr(st));
        dt = now_s() - t0;
    } while (dt < secs);
    *t += dt;
}

/* One bind's worth: a connection, the exchange, its end. */
static void exchange(pool *p)
{
    sasl_conn_t *conn = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    long i = pool_take(p);
    int rc;

    rc = sasl_server_new("ldap", "localhost", NULL, "127.0.0.1;389", "127.0.0.1;40000", NULL,
                         0, &conn);
    if (rc == SASL_OK)
        rc = sasl_server_start(conn, "OAUTHBEARER", p->msg[i], p->len[i], &out, &outlen);
    if (rc != SASL_OK)
        die("exchange", conn ? sasl_errdetail(conn) : sasl_errstring(rc, NULL, NULL));
    sasl_dispose(&conn);
}

static void slice_sasl(pool *p, double secs, long *n, double *t)
{
    double t0 = now_s(), dt;

    do {
        for (int i = 0; i < 8; i++, (*n)++)
            exchange(p);
        dt = now_s() - t0;
    } while (dt < secs);
    *t += dt;
}

/* The plugin rereads a users file or key ring changed in the last 2 s: wait. */
static void settle(const char *dir)
{
    char path[4200];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/users", dir);
    if (stat(path, &sb) != 0)
        die(path, strerror(errno));
    while (time(NULL) - sb.st_mtime < 3 || time(NULL) - sb.st_ctime < 3)
        usleep(100000);
}

static const char *temp_base(void)
{
    const char *t = getenv("TMPDIR");

    if (t && *t)
        return t;
    return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void usage(void)
{
    fprintf(stderr, "usage: bench/sasl [-t SECONDS] [-n SESSIONS] [STORE_URL]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *b = getenv("top_builddir"), *url;
    char tmpl[4096], err[512], path[4200], cwd[2048], cmd[4200];
    double secs = 5, t0, tt = 0, st_ = 0, touch, ex;
    long npool = DEFAULT_POOL, tn = 0, sn = 0;
    ck_keyring *ring = NULL;
    ck_config cfg;
    ck_store *st;
    char *dir;
    pool p;
    int opt;

    while ((opt = getopt(argc, argv, "t:n:")) != -1) {
        if (opt == 't' && atof(optarg) > 0)
            secs = atof(optarg);
        else if (opt == 'n' && atol(optarg) > 0 && atol(optarg) <= 10000000)
            npool = atol(optarg);
        else
            usage();
    }
    if (argc - optind > 1)
        usage();
    url = argc - optind == 1 ? argv[optind] : NULL;
    if (!b && getcwd(cwd, sizeof(cwd)))
        b = cwd;
    snprintf(plugin_dir, sizeof(plugin_dir), "%s/sasl/.libs", b ? b : ".");
    snprintf(tmpl, sizeof(tmpl), "%s/ck-bench-sasl-XXXXXX", temp_base());
    dir = mkdtemp(tmpl);
    if (!dir)
        die("mkdtemp", strerror(errno));
    setup_dir(dir, url, npool);

    ck_config_defaults(&cfg);
    if (ck_config_load(&cfg, config_path, NULL, NULL, err, sizeof(err)) != 0)
        die("config", err);
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st)
        die("store", err);
    snprintf(path, sizeof(path), "%s/keys", dir);
    if (ck_keyring_load(path, 1, &ring, err, sizeof(err)) != 0)
        die("keys", err);
    t0 = now_s();
    pool_fill(&p, st, ring, npool);
    printf("store %s: pool of %ld sessions created in %.1f s\n", ck_store_backend(st), npool,
           now_s() - t0);
    printf("plugin from %s\n", plugin_dir);
    fflush(stdout);
    settle(dir);
    if (sasl_server_init(callbacks, "checkup-bench") != SASL_OK)
        die("sasl_server_init", "failed");

    /* Warm-up: the plugin loads its files and opens its store handle. */
    slice_sasl(&p, 0.05, &sn, &st_);
    slice_touch(st, &p, 0.05, &tn, &tt);
    sn = tn = 0;
    st_ = tt = 0;
    while (tt + st_ < 2 * secs) {
        slice_touch(st, &p, SLICE, &tn, &tt);
        slice_sasl(&p, SLICE, &sn, &st_);
    }
    touch = (double)tn / tt;
    ex = (double)sn / st_;
    printf("bare store touch/s %9.0f   OAUTHBEARER server exchanges/s %8.0f   ratio %.2f\n",
           touch, ex, ex / touch);
    printf("shortest time between two uses of one session: %.2f s%s\n", p.min_gap,
           p.min_gap >= 1.0 ? " (>= 1 s: every touch wrote)"
                            : " -- UNDER 1 s: some touches only read; raise -n");
    sasl_done();
    pool_free(&p);
    ck_keyring_free(ring);
    ck_store_close(st);
    ck_config_free(&cfg);
    /* Our own temp dir, named by mkdtemp above. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench/sasl: could not remove %s\n", dir);
    if (p.min_gap < 1.0) {
        fprintf(stderr, "bench/sasl: a session was used twice within 1 s: no RESULT\n");
        return 1;
    }
    printf("RESULT sasl_exchanges_per_s=%.0f sasl_vs_touch=%.2f\n", ex, ex / touch);
    return 0;
}
