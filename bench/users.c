/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/users - a password login's cost with many users in the users file,
 * through the real PAM module, in one run.
 *
 *   bench/users [-t SECONDS] [-n USERS] [-s SMALL]
 *
 * Two users files in a temp dir (made as bench/pam does: $TMPDIR, else
 * /dev/shm, else /tmp): SMALL users (default 100) and USERS users
 * (default 100,000), each with its own configuration and LMDB store. The
 * user who logs in is the last record of each file (the worst place for
 * a file read from the top). Every record carries a yescrypt hash (one
 * hash, copied: the file is what is measured, not 100,000 hashings).
 *
 * Each login is what sshd does for a password connection: pam_start,
 * pam_authenticate (method=password: lockout checks, the users file
 * through its index, yescrypt, the failure counters' reset) and pam_end,
 * on a fresh handle, through pam_wrapper and libpam. The two files take
 * turns login by login (A B B A), so that a machine busy with something
 * else weighs on both alike; the figure per side is the median login
 * latency (the mean is printed too).
 *
 * Then, for the large file: the first login after the file was replaced
 * (the lookup rebuilds the index and writes it), five times, and for
 * reference what every login paid before the index: reading and parsing
 * the whole file (ck_users_load).
 *
 *   RESULT login_100k_ms=<median> login_100_ms=<median>
 *          login_100k_vs_100=<ratio> first_login_after_change_100k_ms=<median>
 *
 * (one line; the ratio's target is <= 1.2.)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "ck_token.h"
#include "ck_users.h"
#include "../tests/lib/pamconv.h"

#define PASSWORD "correct horse battery staple"
#define MAX_SAMPLES 100000

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench/users: %s: %s\n", what, why);
    exit(1);
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    if (fd < 0 || fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len ||
        close(fd) != 0)
        die(path, strerror(errno));
}

static void login_name(char *out, size_t len, long n)
{
    snprintf(out, len, "user%07ld@example.org", n - 1);
}

/* A users file of n records, the last one being the user who logs in. */
static void write_users(const char *path, long n, const char *hash)
{
    size_t cap = (size_t)n * (strlen(hash) + 80) + 64, len;
    char *text = malloc(cap);

    if (!text)
        die("users", "out of memory");
    len = (size_t)snprintf(text, cap, "#checkup-users 1\n");
    for (long i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "user%07ld@example.org:%s:staff:c%ld:u%07ld::\n", i, hash,
                                i % 50, i);
    write_file(path, text, len, 0600);
    free(text);
}

/* One side: its users file, configuration, store and PAM service. */
typedef struct side {
    long users;
    char name[32];
    char dir[4096];
    char user[64];
    double *lat;
    long n;
} side;

static void prepare(side *s, const char *base, long users, const char *hash)
{
    const char *b = getenv("top_builddir");
    char path[4200], text[16384], cwd[2048], kid[CK_KID_MAX], err[512];

    /* libpam wants an absolute module path: default to the build dir we run in. */
    if (!b && getcwd(cwd, sizeof(cwd)))
        b = cwd;
    s->users = users;
    snprintf(s->name, sizeof(s->name), "users%ld", users);
    snprintf(s->dir, sizeof(s->dir), "%s/%s", base, s->name);
    if (mkdir(s->dir, 0700) != 0)
        die(s->dir, strerror(errno));
    login_name(s->user, sizeof(s->user), users);
    snprintf(path, sizeof(path), "%s/users", s->dir);
    write_users(path, users, hash);
    snprintf(path, sizeof(path), "%s/keys", s->dir);
    if (ck_keyring_generate(path, kid, err, sizeof(err)) != 0)
        die("keys", err);
    snprintf(path, sizeof(path), "%s/checkup.conf", s->dir);
    snprintf(text, sizeof(text),
             "[store]\nurl = lmdb:%s/store\n[users]\nfile = %s/users\n"
             "[tokens]\nkey_file = %s/keys\n",
             s->dir, s->dir, s->dir);
    write_file(path, text, strlen(text), 0644);
    snprintf(path, sizeof(path), "%s/services/%s", base, s->name);
    snprintf(text, sizeof(text),
             "auth required %s/.libs/pam_checkup.so config=%s/checkup.conf method=password\n"
             "account required %s/.libs/pam_checkup.so config=%s/checkup.conf\n",
             b ? b : ".", s->dir, b ? b : ".", s->dir);
    write_file(path, text, strlen(text), 0644);
}

/* One login as sshd does it, on a fresh handle; its latency in seconds. */
static double login(const side *s)
{
    tp_conv tc = { .secret = PASSWORD };
    struct pam_conv pc = { tp_conv_fn, &tc };
    pam_handle_t *ph = NULL;
    double t0 = now_s();
    int rc;

    if (pam_start(s->name, s->user, &pc, &ph) != PAM_SUCCESS)
        die("pam_start", s->name);
    rc = pam_authenticate(ph, PAM_SILENT);
    pam_end(ph, rc);
    if (rc != PAM_SUCCESS)
        die("login refused", s->name);
    return now_s() - t0;
}

static void sample(side *s)
{
    if (s->n == MAX_SAMPLES)
        die("samples", "too many; lower -t");
    s->lat[s->n++] = login(s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double mean(const double *v, long n)
{
    double sum = 0;

    for (long i = 0; i < n; i++)
        sum += v[i];
    return sum / (double)n;
}

/* The first login after the file was replaced (same text, new inode). */
static double first_after_change(const side *s)
{
    char path[4200], tmp[4300], cmd[8800];

    snprintf(path, sizeof(path), "%s/users", s->dir);
    snprintf(tmp, sizeof(tmp), "%s/users.new", s->dir);
    snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", path, tmp);
    if (system(cmd) != 0 || rename(tmp, path) != 0)
        die("replace", path);
    /* As a deployed file: not changed within the kernel clock's last tick. */
    usleep(20000);
    return login(s);
}

/* What a login read before the index: the whole file, parsed. */
static double full_load(const side *s)
{
    char path[4200], err[512];
    ck_users u;
    double t0 = now_s(), dt;

    snprintf(path, sizeof(path), "%s/users", s->dir);
    if (ck_users_load(path, 1, &u, err, sizeof(err)) != 0)
        die("load", err);
    dt = now_s() - t0;
    ck_users_free(&u);
    return dt;
}

/* What a login reads of the users file now: one indexed lookup (mean of 2,000). */
static double lookup_cost(const side *s)
{
    char path[4200], err[768];
    double t0 = now_s();

    snprintf(path, sizeof(path), "%s/users", s->dir);
    for (int i = 0; i < 2000; i++) {
        ck_users u;

        if (ck_users_lookup(path, s->user, &u, err, sizeof(err)) != 0 || u.count != 1)
            die("lookup", err);
        ck_users_free(&u);
    }
    return (now_s() - t0) / 2000;
}

static void reexec(char **argv, const char *dir)
{
    char svc[4200];

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

static const char *temp_base(void)
{
    const char *t = getenv("TMPDIR");

    if (t && *t)
        return t;
    return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void usage(void)
{
    fprintf(stderr, "usage: bench/users [-t SECONDS] [-n USERS] [-s SMALL]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("CK_BENCH_DIR");
    long big = 100000, small = 100;
    double secs = 10, first[5], m_big, m_small, scan_big, scan_small;
    char tmpl[4096], hash[CK_HASH_MAX], err[512], path[4200];
    side s[2];
    int opt;

    while ((opt = getopt(argc, argv, "t:n:s:")) != -1) {
        if (opt == 't' && atof(optarg) > 0)
            secs = atof(optarg);
        else if (opt == 'n' && atol(optarg) > 0 && atol(optarg) <= 1000000)
            big = atol(optarg);
        else if (opt == 's' && atol(optarg) > 0 && atol(optarg) <= 1000000)
            small = atol(optarg);
        else
            usage();
    }
    if (!dir) {
        snprintf(tmpl, sizeof(tmpl), "%s/ck-bench-users-XXXXXX", temp_base());
        dir = mkdtemp(tmpl);
        if (!dir)
            die("mkdtemp", strerror(errno));
        snprintf(path, sizeof(path), "%s/services", dir);
        if (mkdir(path, 0755) != 0)
            die(path, strerror(errno));
        snprintf(path, sizeof(path), "%s/services/other", dir);
        write_file(path, "auth required pam_deny.so\n", 26, 0644);
        if (ck_password_hash(PASSWORD, hash, sizeof(hash), err, sizeof(err)) != 0)
            die("hash", err);
        prepare(&s[0], dir, small, hash);
        prepare(&s[1], dir, big, hash);
        /* pam_wrapper reads the service files once, when it loads. */
        reexec(argv, dir);
    }
    for (int i = 0; i < 2; i++) {
        long users = i ? big : small;

        memset(&s[i], 0, sizeof(s[i]));
        s[i].users = users;
        snprintf(s[i].name, sizeof(s[i].name), "users%ld", users);
        snprintf(s[i].dir, sizeof(s[i].dir), "%s/%s", dir, s[i].name);
        login_name(s[i].user, sizeof(s[i].user), users);
        s[i].lat = calloc(MAX_SAMPLES, sizeof(double));
        if (!s[i].lat)
            die("samples", "out of memory");
    }
    printf("users files in %s: %ld and %ld users; each login: pam_start, "
           "pam_authenticate (password, yescrypt), pam_end\n", dir, small, big);
    /* Warm-up: writes each index (first lookup) and opens each store. */
    for (int i = 0; i < 2; i++) {
        double t = login(&s[i]);

        printf("%-11s first login (writes the index, creates the store): %.1f ms\n",
               s[i].name, t * 1e3);
        s[i].n = 0;
    }
    fflush(stdout);
    /*
     * One login of each side in turn (A B B A), so that a burst of load
     * from elsewhere falls on both alike.
     */
    for (double t0 = now_s(); now_s() - t0 < 2 * secs;) {
        sample(&s[0]);
        sample(&s[1]);
        sample(&s[1]);
        sample(&s[0]);
    }
    for (int i = 0; i < 2; i++)
        printf("%-11s %6ld logins: mean %.2f ms, median %.2f ms\n", s[i].name, s[i].n,
               mean(s[i].lat, s[i].n) * 1e3, median(s[i].lat, s[i].n) * 1e3);
    m_small = median(s[0].lat, s[0].n);
    m_big = median(s[1].lat, s[1].n);
    for (int k = 0; k < 5; k++)
        first[k] = first_after_change(&s[1]);
    printf("%-11s first login after the file was replaced (index rebuilt and written): "
           "%.1f %.1f %.1f %.1f %.1f ms\n", s[1].name, first[0] * 1e3, first[1] * 1e3,
           first[2] * 1e3, first[3] * 1e3, first[4] * 1e3);
    scan_small = full_load(&s[0]);
    scan_big = full_load(&s[1]);
    printf("for reference, the whole file read and parsed (each login before the "
           "index): %.2f ms (%ld users), %.1f ms (%ld users)\n", scan_small * 1e3, small,
           scan_big * 1e3, big);
    printf("the users file's part of a login now, one indexed lookup: %.1f us (%ld users), "
           "%.1f us (%ld users)\n", lookup_cost(&s[0]) * 1e6, small,
           lookup_cost(&s[1]) * 1e6, big);
    if (!getenv("CK_BENCH_KEEP")) {
        char cmd[4200];

        /* Our own temp dir, named by mkdtemp. */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench/users: could not remove %s\n", dir);
    }
    printf("RESULT login_100k_ms=%.2f login_100_ms=%.2f login_100k_vs_100=%.3f "
           "first_login_after_change_100k_ms=%.1f\n", m_big * 1e3, m_small * 1e3,
           m_big / m_small, median(first, 5) * 1e3);
    return 0;
}
