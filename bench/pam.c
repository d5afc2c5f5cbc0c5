/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pam - what pam_checkup adds on top of the store, measured in one run.
 *
 *   bench/pam [-t SECONDS] [-n SESSIONS] [-S SECONDS] [STORE_URL...]
 *
 * Without URLs it measures every store available: an LMDB store in a temp
 * dir, and Redis when redis-server ($REDIS_SERVER or on PATH) can be
 * started on a loopback port (stopped by its pid at the end). The temp dir
 * is made under $TMPDIR, else /dev/shm (tmpfs, like /run where the default
 * store lives), else /tmp; its file system is printed, since on a disk
 * every LMDB write waits for fdatasync.
 *
 * Both sides are measured in alternating slices of 0.2 s for the same
 * total time, so that a machine busy with something else weighs on both
 * alike: the bare store (ck_store_touch), and the token method through
 * the real libpam (pam_wrapper): pam_authenticate + pam_acct_mgmt on one
 * handle, the way a screen locker or a web tool re-checks a session.
 *
 * The reference is a touch that writes. A real keep-alive comes from a
 * person or a tool seconds or minutes after the last one, so in real use
 * almost every touch moves the session's last activity, which is a write
 * (an LMDB write transaction, a Redis script that writes). Only a touch
 * of the same session within the same second is answered from a
 * read-only transaction by LMDB: that matters for bursts, not for the
 * steady state. So the measured workload is a pool of SESSIONS sessions
 * (default 200000), created through the store API before the clock
 * starts, used round robin by both sides with one shared cursor: the bare
 * side touches the next session, the PAM side authenticates with the next
 * session's token (the conversation function hands it out). The bench
 * records when each session was last used and prints the shortest time
 * between two uses of one session; at 1 s or more, no use fell in the
 * same second as the one before, so every touch wrote. Below 1 s it says
 * so and exits 1 (raise -n).
 *
 * For information it also prints the hot loop: one session touched over
 * and over, where the bare touch is LMDB's same-second read-only path
 * (under a microsecond), against PAM cycles on that session's token.
 *
 * The last line comes from the pooled workload, for the store with the
 * lowest ratio:
 *
 *   RESULT pam_cycles_per_s=<cycles/s> pam_vs_touch=<cycles/s / touches/s>
 *
 * Storm mode (-S SECONDS, run by bench/load.sh): the PAM side of a host
 * that takes many password logins at once. Token keep-alives (the cycle
 * above, paced at one every 5 ms, round robin over the pool, default 2,000
 * sessions) for SECONDS alone, then for SECONDS more while 2 x nproc
 * processes (sshd forks one per connection) run password logins
 * (pam_authenticate, yescrypt, a right password so that no lockout ends
 * the flood) through the same module and store as fast as they can; the
 * module runs their hashes in its host-wide slots ([passwords] hash_slots,
 * default one less than the processors; the lock file in the temp dir).
 * It prints both p99s of the keep-alives and the login rate, and last
 *
 *   RESULT pam_storm_p99_ratio=<p99 during / p99 before, highest store>
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "ck_config.h"
#include "ck_store.h"
#include "ck_token.h"
#include "../tests/lib/pamconv.h"
#include "ck_users.h"

#define USER "bench@example.org"
#define STORM_USER "storm@example.org"
#define STORM_POOL 2000
#define STORM_TICK 0.005
#define DEFAULT_POOL 200000
#define SLICE 0.2

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

/*
 * Config, users file, key ring and service file for one store. The map
 * is sized for the pool: a session with its indexes takes well under
 * 2 KiB of LMDB pages.
 */
static void prepare(const char *dir, int idx, const char *url, long pool, char *conf,
                    size_t len)
{
    const char *b = getenv("top_builddir");
    char path[4096], text[16384], cwd[2048];
    long map_mib = 256 + pool / 256;

    /* libpam wants an absolute module path: default to the build dir we run in. */
    if (!b && getcwd(cwd, sizeof(cwd)))
        b = cwd;

    snprintf(conf, len, "%s/checkup-%d.conf", dir, idx);
    snprintf(text, sizeof(text),
             "[store]\nurl = %s\nmap_size = %ldM\n[users]\nfile = %s/users\n"
             "[passwords]\nhash_slot_file = %s/hash-slots\n[tokens]\nkey_file = %s/keys\n",
             url, map_mib, dir, dir, dir);
    write_text(conf, text);
    snprintf(path, sizeof(path), "%s/services/bench%d", dir, idx);
    snprintf(text, sizeof(text),
             "auth required %s/.libs/pam_checkup.so config=%s method=token\n"
             "account required %s/.libs/pam_checkup.so config=%s\n",
             b ? b : ".", conf, b ? b : ".", conf);
    write_text(path, text);
    snprintf(path, sizeof(path), "%s/services/storm%d", dir, idx);
    snprintf(text, sizeof(text),
             "auth required %s/.libs/pam_checkup.so config=%s method=password\n"
             "account required %s/.libs/pam_checkup.so config=%s\n",
             b ? b : ".", conf, b ? b : ".", conf);
    write_text(path, text);
}

/* Made up per run (the pid and the time), kept in the environment for the
 * re-executed bench; a bench user's password, never printed. */
static const char *storm_password(void)
{
    static char pw[64];
    const char *e = getenv("CK_BENCH_STORM_PW");

    if (e)
        return e;
    snprintf(pw, sizeof(pw), "storm-%ld-%ld", (long)getpid(), (long)time(NULL));
    setenv("CK_BENCH_STORM_PW", pw, 1);
    return pw;
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
    /* the storm's password user: one real yescrypt hash */
    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), STORM_USER);
    snprintf(u.role, sizeof(u.role), "nurse");
    if (ck_password_hash(storm_password(), u.hash, sizeof(u.hash), err, sizeof(err)) != 0)
        die("hash", err);
    snprintf(path, sizeof(path), "%s/users", dir);
    if (ck_users_add(path, &u, err, sizeof(err)) != 0)
        die("users", err);
    snprintf(path, sizeof(path), "%s/services", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/services/other", dir);
    write_text(path, "auth required pam_deny.so\naccount required pam_deny.so\n");
}

/*
 * Sessions used round robin by both sides through one cursor, with the
 * time each was last used (created, touched, or its token handed out).
 */
typedef struct pool {
    long n, next;
    char (*sid)[CK_SID_LEN];
    char **token;
    double *last;
    double min_gap;         /* shortest time between two uses of one session */
} pool;

/* The next session of the pool; notes how long since its last use. */
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

/* The bare store, opened beside the module's own handle. */
typedef struct bare {
    ck_config cfg;
    ck_store *st;
    ck_keyring *ring;
} bare;

static void bare_open(bare *b, const char *conf, const char *dir)
{
    char err[512], path[4096];

    ck_config_defaults(&b->cfg);
    if (ck_config_load(&b->cfg, conf, NULL, NULL, err, sizeof(err)) != 0)
        die("config", err);
    b->st = ck_store_open(&b->cfg, err, sizeof(err));
    if (!b->st)
        die("store", err);
    snprintf(path, sizeof(path), "%s/keys", dir);
    if (ck_keyring_load(path, 1, &b->ring, err, sizeof(err)) != 0)
        die("keys", err);
}

static void bare_close(bare *b)
{
    ck_keyring_free(b->ring);
    ck_store_close(b->st);
    ck_config_free(&b->cfg);
}

/* Creates one session of USER and signs its token. */
static void new_session(bare *b, char sid[CK_SID_LEN], char **token)
{
    ck_session s;

    memset(&s, 0, sizeof(s));
    snprintf(s.user_id, sizeof(s.user_id), USER);
    snprintf(s.email, sizeof(s.email), USER);
    s.method = CK_AUTH_EMAIL;
    if (ck_store_create(b->st, &s, sid) != CK_OK)
        die("create", ck_store_errstr(b->st));
    if (ck_token_sign(b->ring, sid, s.created, s.deadline, token) != CK_TOKEN_OK)
        die("sign", "failed");
}

static void pool_fill(pool *p, bare *b, long n)
{
    p->n = n;
    p->next = 0;
    p->min_gap = 1e9;
    p->sid = calloc((size_t)n, sizeof(*p->sid));
    p->token = calloc((size_t)n, sizeof(*p->token));
    p->last = calloc((size_t)n, sizeof(*p->last));
    if (!p->sid || !p->token || !p->last)
        die("pool", "out of memory");
    for (long i = 0; i < n; i++) {
        new_session(b, p->sid[i], &p->token[i]);
        p->last[i] = now_s();
    }
}

static void pool_free(pool *p)
{
    for (long i = 0; i < p->n; i++)
        free(p->token[i]);
    free(p->token);
    free(p->sid);
    free(p->last);
}

/* What one side works on: the pool (round robin), or one session (hot loop). */
typedef struct work {
    pool *p;                /* NULL: the one session below */
    char sid[CK_SID_LEN];
    char *token;
} work;

/* The conversation's answer: the token of the work's next session. */
static const char *work_token(void *ud)
{
    work *w = ud;

    return w->p ? w->p->token[pool_take(w->p)] : w->token;
}

/* Touches for about secs seconds; adds to *n and *t. */
static void slice_touch(bare *b, work *w, double secs, long *n, double *t)
{
    ck_session s;
    double t0 = now_s(), dt;

    do {
        for (int i = 0; i < 8; i++, (*n)++) {
            const char *sid = w->p ? w->p->sid[pool_take(w->p)] : w->sid;

            if (ck_store_touch(b->st, sid, &s) != CK_OK)
                die("touch", ck_store_errstr(b->st));
        }
        dt = now_s() - t0;
    } while (dt < secs);
    *t += dt;
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

typedef struct rates {
    double touch, cycles;
} rates;

/* Both sides on w, in alternating slices, secs seconds each. */
static rates measure(bare *b, int idx, work *w, double secs)
{
    tp_conv tc = { .answer = work_token, .ud = w };
    struct pam_conv pc = { tp_conv_fn, &tc };
    pam_handle_t *ph = NULL;
    long tn = 0, pn = 0;
    double tt = 0, pt = 0;
    char svc[32];
    rates r;

    snprintf(svc, sizeof(svc), "bench%d", idx);
    if (pam_start(svc, USER, &pc, &ph) != PAM_SUCCESS)
        die("pam_start", svc);
    slice_pam(ph, 0.05, &pn, &pt);      /* warm-up: load, open, first touch */
    slice_touch(b, w, 0.05, &tn, &tt);
    tn = pn = 0;
    tt = pt = 0;
    while (tt + pt < 2 * secs) {
        slice_touch(b, w, SLICE, &tn, &tt);
        slice_pam(ph, SLICE, &pn, &pt);
    }
    pam_end(ph, PAM_SUCCESS);
    r.touch = (double)tn / tt;
    r.cycles = (double)pn / pt;
    return r;
}

/*
 * pam_checkup rereads a users file changed in the last 2 seconds on every
 * call (file times are too coarse to trust before then); the bench wrote
 * it moments ago, so it waits for it to settle, as any deployed file is.
 */
static void settle_users(const char *dir)
{
    char path[4096];
    struct stat sb;
    time_t newest;

    snprintf(path, sizeof(path), "%s/users", dir);
    if (stat(path, &sb) != 0)
        die(path, strerror(errno));
    newest = sb.st_mtime > sb.st_ctime ? sb.st_mtime : sb.st_ctime;
    while (time(NULL) - newest < 3)
        usleep(100000);
}

static const char *fs_name(const char *path)
{
    struct statfs sf;

    if (statfs(path, &sf) != 0)
        return "?";
    return sf.f_type == TMPFS_MAGIC ? "tmpfs" : "not tmpfs: writes wait for the disk";
}

/* Both workloads on one store; returns the pooled rates, 0 cycles when invalid. */
static rates bench_store(int idx, const char *url, const char *conf, const char *dir,
                         double secs, long npool)
{
    const char *name = strncmp(url, "lmdb:", 5) == 0 ? "lmdb" : "redis";
    work hot, pooled;
    rates h, r;
    pool p;
    bare b;
    double t0;

    bare_open(&b, conf, dir);
    memset(&hot, 0, sizeof(hot));
    new_session(&b, hot.sid, &hot.token);
    t0 = now_s();
    pool_fill(&p, &b, npool);
    if (strcmp(name, "lmdb") == 0)
        printf("store lmdb in %s (%s)\n", url + 5, fs_name(url + 5));
    printf("store %-5s pool of %ld sessions created in %.1f s\n", name, npool, now_s() - t0);
    fflush(stdout);
    settle_users(dir);

    h = measure(&b, idx, &hot, secs);
    printf("store %-5s hot loop, one session%s: touch/s %9.0f   "
           "pam auth+acct cycles/s %8.0f   ratio %.2f\n", name,
           strcmp(name, "lmdb") == 0 ? " (bare touch only reads)" : " (info)", h.touch,
           h.cycles, h.cycles / h.touch);
    fflush(stdout);

    memset(&pooled, 0, sizeof(pooled));
    pooled.p = &p;
    r = measure(&b, idx, &pooled, secs);
    printf("store %-5s pool round robin (every touch writes): touch/s %9.0f   "
           "pam auth+acct cycles/s %8.0f   ratio %.2f\n", name, r.touch, r.cycles,
           r.cycles / r.touch);
    printf("store %-5s shortest time between two uses of one session: %.2f s%s\n", name,
           p.min_gap, p.min_gap >= 1.0 ? " (>= 1 s: no touch fell in the same second)"
                                       : " -- UNDER 1 s: some touches only read; raise -n");
    fflush(stdout);
    if (p.min_gap < 1.0)
        r.cycles = 0;
    free(hot.token);
    pool_free(&p);
    bare_close(&b);
    return r;
}

/* ---- storm mode ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double p99_ms(double *v, long n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[(long)((double)(n - 1) * 0.99)] * 1000;
}

/*
 * Keep-alive cycles, one due every STORM_TICK, for secs seconds. Each
 * latency runs from when the cycle was due, so a wait for a CPU before
 * it starts counts too; a late cycle makes the next one due at once,
 * without a catch-up burst.
 */
static long keepalives(pam_handle_t *ph, double secs, double *v, long cap)
{
    double t0 = now_s(), next = t0, w;
    long n = 0;
    int rc;

    while (now_s() - t0 < secs && n < cap) {
        rc = pam_authenticate(ph, PAM_SILENT);
        if (rc == PAM_SUCCESS)
            rc = pam_acct_mgmt(ph, PAM_SILENT);
        if (rc != PAM_SUCCESS)
            die("keep-alive", pam_strerror(ph, rc));
        v[n++] = now_s() - next;
        next += STORM_TICK;
        w = next - now_s();
        if (w > 0)
            usleep((useconds_t)(w * 1e6));
        else
            next = now_s();
    }
    return n;
}

/* One process of the flood: a fresh handle per login, as sshd's per-connection process. */
static void flood_child(int idx, long *count)
{
    tp_conv tc = { .secret = storm_password() };
    struct pam_conv pc = { tp_conv_fn, &tc };
    char svc[32];

    snprintf(svc, sizeof(svc), "storm%d", idx);
    for (;;) {
        pam_handle_t *ph = NULL;
        int rc;

        if (pam_start(svc, STORM_USER, &pc, &ph) != PAM_SUCCESS)
            _exit(1);
        rc = pam_authenticate(ph, PAM_SILENT);
        pam_end(ph, rc);
        if (rc != PAM_SUCCESS)
            _exit(2);
        __atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
    }
}

/* Keep-alive p99 alone and during the flood on one store; returns during / alone. */
static double storm_store(int idx, const char *url, const char *conf, const char *dir,
                          double secs, long npool)
{
    const char *name = strncmp(url, "lmdb:", 5) == 0 ? "lmdb" : "redis";
    long nproc = sysconf(_SC_NPROCESSORS_ONLN), kids, cap, nb, nd, c0, *count;
    pid_t pid[64];
    double *before, *during, t0, rate, pb, pd;
    pam_handle_t *ph = NULL;
    struct pam_conv pc;
    tp_conv tc;
    char svc[32];
    work w;
    pool p;
    bare b;
    int bad = 0;

    kids = nproc < 1 ? 2 : nproc > 32 ? 64 : 2 * nproc;
    cap = (long)(secs / STORM_TICK) + 16;
    before = calloc((size_t)cap, sizeof(*before));
    during = calloc((size_t)cap, sizeof(*during));
    count = mmap(NULL, sizeof(*count), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
    if (!before || !during || count == MAP_FAILED)
        die("storm", "out of memory");
    *count = 0;
    bare_open(&b, conf, dir);
    pool_fill(&p, &b, npool);
    settle_users(dir);
    memset(&w, 0, sizeof(w));
    w.p = &p;
    memset(&tc, 0, sizeof(tc));
    tc.answer = work_token;
    tc.ud = &w;
    pc.conv = tp_conv_fn;
    pc.appdata_ptr = &tc;
    snprintf(svc, sizeof(svc), "bench%d", idx);
    if (pam_start(svc, USER, &pc, &ph) != PAM_SUCCESS)
        die("pam_start", svc);
    keepalives(ph, 0.2, before, cap);       /* warm-up: load, open, first touches */
    nb = keepalives(ph, secs, before, cap);
    fflush(stdout);
    for (long i = 0; i < kids; i++) {
        pid[i] = fork();
        if (pid[i] < 0)
            die("fork", strerror(errno));
        if (pid[i] == 0)
            flood_child(idx, count);
    }
    usleep(500 * 1000);                     /* the flood under way */
    c0 = __atomic_load_n(count, __ATOMIC_RELAXED);
    t0 = now_s();
    nd = keepalives(ph, secs, during, cap);
    rate = (double)(__atomic_load_n(count, __ATOMIC_RELAXED) - c0) / (now_s() - t0);
    for (long i = 0; i < kids; i++)
        kill(pid[i], SIGTERM);
    for (long i = 0; i < kids; i++) {
        int ws;

        if (waitpid(pid[i], &ws, 0) == pid[i] && WIFEXITED(ws))
            bad = WEXITSTATUS(ws);
    }
    pam_end(ph, PAM_SUCCESS);
    if (bad)
        die("storm", bad == 1 ? "pam_start failed in a login process"
                              : "a password login failed in a login process");
    pb = p99_ms(before, nb);
    pd = p99_ms(during, nd);
    printf("store %-5s storm: token keep-alive p99 %.2f ms alone, %.2f ms during %.1f "
           "password logins/s from %ld processes (%ld and %ld keep-alives, one per %.0f ms)\n",
           name, pb, pd, rate, kids, nb, nd, STORM_TICK * 1000);
    fflush(stdout);
    munmap(count, sizeof(*count));
    free(before);
    free(during);
    pool_free(&p);
    bare_close(&b);
    return pb > 0 ? pd / pb : 0;
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

/* $TMPDIR, else /dev/shm (tmpfs, as /run usually is), else /tmp. */
static const char *temp_base(void)
{
    const char *t = getenv("TMPDIR");

    if (t && *t)
        return t;
    return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void usage(void)
{
    fprintf(stderr, "usage: bench/pam [-t SECONDS] [-n SESSIONS] [-S SECONDS] [STORE_URL...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("CK_BENCH_DIR");
    char tmpl[4096], conf[4096], url[4096];
    double secs = 5, best_ratio = -1, best_cycles = 0, storm = 0, worst_storm = 0;
    long npool = 0;
    int opt, nurls, invalid = 0;

    while ((opt = getopt(argc, argv, "t:n:S:")) != -1) {
        if (opt == 't' && atof(optarg) > 0)
            secs = atof(optarg);
        else if (opt == 'S' && atof(optarg) > 0 && atof(optarg) <= 600)
            storm = atof(optarg);
        else if (opt == 'n' && atol(optarg) > 0 && atol(optarg) <= 10000000)
            npool = atol(optarg);
        else
            usage();
    }
    if (npool == 0)
        npool = storm > 0 ? STORM_POOL : DEFAULT_POOL;
    nurls = argc - optind;
    if (!dir) {
        int port = 0;
        pid_t redis = nurls ? 0 : start_redis(&port);
        char env[64];

        snprintf(tmpl, sizeof(tmpl), "%s/ck-bench-pam-XXXXXX", temp_base());
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
            prepare(dir, i, url, npool, conf, sizeof(conf));
        }
        reexec(argv, dir);
    }
    for (int i = 0; i < count_stores(nurls); i++) {
        rates r;
        double ratio;

        store_url(dir, i, argv + optind, nurls, url, sizeof(url));
        snprintf(conf, sizeof(conf), "%s/checkup-%d.conf", dir, i);
        if (storm > 0) {
            double q = storm_store(i, url, conf, dir, storm, npool);

            worst_storm = q > worst_storm ? q : worst_storm;
            continue;
        }
        r = bench_store(i, url, conf, dir, secs, npool);
        invalid |= r.cycles == 0;
        ratio = r.cycles / r.touch;
        if (best_ratio < 0 || ratio < best_ratio) {
            best_ratio = ratio;
            best_cycles = r.cycles;
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
    if (storm > 0) {
        printf("RESULT pam_storm_p99_ratio=%.2f\n", worst_storm);
        return 0;
    }
    if (invalid) {
        fprintf(stderr, "bench/pam: a session was used twice within 1 s: no RESULT\n");
        return 1;
    }
    printf("RESULT pam_cycles_per_s=%.0f pam_vs_touch=%.2f\n", best_cycles, best_ratio);
    return 0;
}
