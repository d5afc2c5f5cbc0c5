/*
 * bench/pam - what pam_checkup adds on top of the store, measured in one run.
 *
 *   bench/pam [-t SECONDS] [STORE_URL...]
 *
 * Without URLs it measures every store available: an LMDB store in a temp
 * dir, and Redis when redis-server ($REDIS_SERVER or on PATH) can be
 * started on a loopback port (stopped by its pid at the end).
 *
 * For each store, in alternating slices for the same total time: the bare
 * store (ck_store_touch of one session in a loop), and the token method
 * through the real libpam (pam_wrapper): pam_authenticate + pam_acct_mgmt
 * on one handle, the way a screen locker or a web tool re-checks a
 * session. The last line is
 *
 *   RESULT pam_cycles_per_s=<cycles/s> pam_vs_touch=<cycles/s / touches/s>
 *
 * for the store with the lowest ratio.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "ck_config.h"
#include "ck_store.h"
#include "ck_token.h"
#include "ck_users.h"

#define USER "bench@example.org"

static char token[CK_TOKEN_MAX + 1];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench/pam: %s: %s\n", what, why);
    exit(1);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die(path, strerror(errno));
}

/* Config, users file, key ring and service file for one store. */
static void prepare(const char *dir, int idx, const char *url, char *conf, size_t len)
{
    const char *b = getenv("top_builddir");
    char path[4096], text[16384], cwd[2048];

    /* libpam wants an absolute module path: default to the build dir we run in. */
    if (!b && getcwd(cwd, sizeof(cwd)))
        b = cwd;

    snprintf(conf, len, "%s/checkup-%d.conf", dir, idx);
    snprintf(text, sizeof(text),
             "[store]\nurl = %s\n[users]\nfile = %s/users\n[tokens]\nkey_file = %s/keys\n",
             url, dir, dir);
    write_text(conf, text);
    snprintf(path, sizeof(path), "%s/services/bench%d", dir, idx);
    snprintf(text, sizeof(text),
             "auth required %s/.libs/pam_checkup.so config=%s method=token\n"
             "account required %s/.libs/pam_checkup.so config=%s\n",
             b ? b : ".", conf, b ? b : ".", conf);
    write_text(path, text);
}

static void setup_dir(const char *dir)
{
    char path[4096], err[512], kid[CK_KID_MAX];
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
    snprintf(path, sizeof(path), "%s/services", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/services/other", dir);
    write_text(path, "auth required pam_deny.so\naccount required pam_deny.so\n");
}

/* The bare store, opened beside the module's own handle. */
typedef struct bare {
    ck_config cfg;
    ck_store *st;
    char sid[CK_SID_LEN];
} bare;

/* Opens the store, creates the session and signs its token. */
static void bare_open(bare *b, const char *conf, const char *dir)
{
    ck_session s;
    ck_keyring *ring = NULL;
    char err[512], path[4096], *tok = NULL;

    ck_config_defaults(&b->cfg);
    if (ck_config_load(&b->cfg, conf, NULL, NULL, err, sizeof(err)) != 0)
        die("config", err);
    b->st = ck_store_open(&b->cfg, err, sizeof(err));
    if (!b->st)
        die("store", err);
    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), USER);
    snprintf(s.email, sizeof(s.email), USER);
    s.method = CK_AUTH_EMAIL;
    if (ck_store_create(b->st, &s, b->sid) != CK_OK)
        die("create", ck_store_errstr(b->st));
    snprintf(path, sizeof(path), "%s/keys", dir);
    if (ck_keyring_load(path, 1, &ring, err, sizeof(err)) != 0)
        die("keys", err);
    if (ck_token_sign(ring, b->sid, s.created, s.deadline, &tok) != CK_TOKEN_OK)
        die("sign", "failed");
    snprintf(token, sizeof(token), "%s", tok);
    free(tok);
    ck_keyring_free(ring);
}

static void bare_close(bare *b)
{
    ck_store_close(b->st);
    ck_config_free(&b->cfg);
}

/* Touches for about secs seconds; adds to *n and *t. */
static void slice_touch(bare *b, double secs, long *n, double *t)
{
    ck_session s;
    double t0 = now_s(), dt;

    do {
        for (int i = 0; i < 8; i++, (*n)++)
            if (ck_store_touch(b->st, b->sid, &s) != CK_OK)
                die("touch", ck_store_errstr(b->st));
        dt = now_s() - t0;
    } while (dt < secs);
    *t += dt;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *ud)
{
    struct pam_response *r = calloc((size_t)n, sizeof(*r));

    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++)
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            r[i].resp = strdup(token);
    *resp = r;
    return PAM_SUCCESS;
}

/* authenticate + acct_mgmt cycles for about secs seconds; adds to *n and *t. */
static void slice_pam(pam_handle_t *ph, double secs, long *n, double *t)
{
    double t0 = now_s(), dt;
    int rc;

    do {
        for (int i = 0; i < 8; i++, (*n)++) {
            rc = pam_authenticate(ph, PAM_SILENT);
            if (rc == PAM_SUCCESS)
                rc = pam_acct_mgmt(ph, PAM_SILENT);
            if (rc != PAM_SUCCESS)
                die("pam cycle", pam_strerror(ph, rc));
        }
        dt = now_s() - t0;
    } while (dt < secs);
    *t += dt;
}

/*
 * Both measurements in alternating slices of 0.2 s, so that a machine
 * busy with something else weighs on both alike.
 */
static void measure(int idx, const char *conf, const char *dir, double secs,
                    double *touch_rate, double *pam_rate)
{
    struct pam_conv pc = { conv, NULL };
    pam_handle_t *ph = NULL;
    long tn = 0, pn = 0;
    double tt = 0, pt = 0;
    char svc[32];
    bare b;

    bare_open(&b, conf, dir);
    snprintf(svc, sizeof(svc), "bench%d", idx);
    if (pam_start(svc, USER, &pc, &ph) != PAM_SUCCESS)
        die("pam_start", svc);
    slice_pam(ph, 0.1, &pn, &pt);       /* warm-up: load, open, first touch */
    slice_touch(&b, 0.1, &tn, &tt);
    tn = pn = 0;
    tt = pt = 0;
    while (tt + pt < 2 * secs) {
        slice_touch(&b, 0.2, &tn, &tt);
        slice_pam(ph, 0.2, &pn, &pt);
    }
    pam_end(ph, PAM_SUCCESS);
    bare_close(&b);
    *touch_rate = (double)tn / tt;
    *pam_rate = (double)pn / pt;
}

static int count_stores(int nurls)
{
    return nurls ? nurls : getenv("CK_BENCH_REDIS_URL") ? 2 : 1;
}

/* The i-th store: a given URL, else LMDB then Redis (if started). */
static void store_url(const char *dir, int i, char **given, int ngiven, char *url, size_t len)
{
    if (ngiven)
        snprintf(url, len, "%s", given[i]);
    else if (i == 0)
        snprintf(url, len, "lmdb:%s/store", dir);
    else
        snprintf(url, len, "%s", getenv("CK_BENCH_REDIS_URL"));
}

static int port_open(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Starts redis-server on a free loopback port; 0 when there is none to start. */
static pid_t start_redis(int *port)
{
    const char *server = getenv("REDIS_SERVER");
    char portstr[16];
    pid_t pid;

    if (!server || !*server)
        server = "redis-server";
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    for (int tries = 0; tries < 10; tries++) {
        *port = 20000 + rand() % 40000;
        if (port_open(*port))
            continue;
        snprintf(portstr, sizeof(portstr), "%d", *port);
        pid = fork();
        if (pid < 0)
            return 0;
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);

            dup2(null, 1);
            dup2(null, 2);
            execlp(server, server, "--port", portstr, "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 50; i++) {
            int ws;

            if (port_open(*port))
                return pid;
            if (waitpid(pid, &ws, WNOHANG) == pid)
                break;
            usleep(100000);
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return 0;
}

static void stop_redis(void)
{
    const char *p = getenv("CK_BENCH_REDIS_PID");
    pid_t pid = p ? (pid_t)atol(p) : 0;

    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

static void reexec(char **argv, const char *dir)
{
    char svc[4096];

    snprintf(svc, sizeof(svc), "%s/services", dir);
    if (setenv("CK_BENCH_DIR", dir, 1) || setenv("PAM_WRAPPER", "1", 1) ||
        setenv("PAM_WRAPPER_SERVICE_DIR", svc, 1) ||
        setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1) ||
        setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1) ||
        setenv("LD_PRELOAD", "libpam_wrapper.so", 1))
        die("setenv", strerror(errno));
    execv("/proc/self/exe", argv);
    die("execv", strerror(errno));
}

int main(int argc, char **argv)
{
    const char *dir = getenv("CK_BENCH_DIR");
    char tmpl[] = "/tmp/ck-bench-pam-XXXXXX", conf[4096], url[4096];
    double secs = 5, best_ratio = -1, best_cycles = 0;
    int opt, nurls;

    while ((opt = getopt(argc, argv, "t:")) != -1) {
        if (opt != 't' || atof(optarg) <= 0) {
            fprintf(stderr, "usage: bench/pam [-t SECONDS] [STORE_URL...]\n");
            return 2;
        }
        secs = atof(optarg);
    }
    nurls = argc - optind;
    if (!dir) {
        int port = 0;
        pid_t redis = nurls ? 0 : start_redis(&port);
        char env[64];

        dir = mkdtemp(tmpl);
        if (!dir)
            die("mkdtemp", strerror(errno));
        setup_dir(dir);
        if (redis > 0) {
            snprintf(env, sizeof(env), "%ld", (long)redis);
            setenv("CK_BENCH_REDIS_PID", env, 1);
            snprintf(env, sizeof(env), "redis://127.0.0.1:%d/0", port);
            setenv("CK_BENCH_REDIS_URL", env, 1);
        }
        /* pam_wrapper reads the service files once, when it loads. */
        for (int i = 0; i < count_stores(nurls); i++) {
            store_url(dir, i, argv + optind, nurls, url, sizeof(url));
            prepare(dir, i, url, conf, sizeof(conf));
        }
        reexec(argv, dir);
    }
    for (int i = 0; i < count_stores(nurls); i++) {
        double touch, cycles, ratio;

        store_url(dir, i, argv + optind, nurls, url, sizeof(url));
        snprintf(conf, sizeof(conf), "%s/checkup-%d.conf", dir, i);
        measure(i, conf, dir, secs, &touch, &cycles);
        ratio = cycles / touch;
        printf("store %-40s touch/s %10.0f   pam auth+acct cycles/s %10.0f   ratio %.2f\n",
               strncmp(url, "lmdb:", 5) == 0 ? "lmdb" : "redis", touch, cycles, ratio);
        if (best_ratio < 0 || ratio < best_ratio) {
            best_ratio = ratio;
            best_cycles = cycles;
        }
    }
    stop_redis();
    if (!getenv("CK_BENCH_KEEP")) {
        char cmd[4200];

        /* Our own temp dir, named by mkdtemp above. */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench/pam: could not remove %s\n", dir);
    }
    printf("RESULT pam_cycles_per_s=%.0f pam_vs_touch=%.2f\n", best_cycles, best_ratio);
    return 0;
}
