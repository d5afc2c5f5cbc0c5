/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store_bench - throughput of the session store, driven by bench/store.sh.
 *
 *   store_bench ops URL CONC N [REDIS_PORT[,PORT...]]
 *       create, then touch, then delete N sessions with CONC worker
 *       processes, each with its own store handle (its own Redis
 *       connection or LMDB environment handle): CONC operations in flight,
 *       no pipelining. Prints "<op> <ops/s>" per phase. With REDIS_PORT,
 *       also "touch_rtt <top-level commands per touch>" from INFO
 *       commandstats around the touch phase, and
 *       "touch_redirects_per_1000" (MOVED and ASK, INFO errorstats),
 *       summed over the ports listed (a cluster's primaries).
 *   store_bench fill URL N CONC [FIRST_USER]
 *       creates N sessions, 4 per user, with CONC processes.
 *   store_bench metrics URL REPS
 *       prints the mean latency of ck_store_metrics in microseconds.
 *   store_bench touch-script
 *       prints the Lua source of touch, for redis-benchmark EVALSHA.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "ck_config.h"
#include "ck_store.h"
#include "redis/redis_scripts.h"

enum { PH_CREATE, PH_TOUCH, PH_DELETE, PH_COUNT };
static const char *const phase_names[PH_COUNT] = { "create", "touch", "delete" };

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ck_store *open_url(const char *url)
{
    ck_config cfg;
    ck_store *st;
    char err[512];
    const char *timeout;

    ck_config_defaults(&cfg);
    cfg.store_url = strdup(url);
    cfg.lmdb_map_size = (size_t)4 << 30;
    /*
     * A bench measures throughput; on a loaded machine one slow reply
     * must not end the run (CK_BENCH_TIMEOUT_MS, default the config's).
     */
    if ((timeout = getenv("CK_BENCH_TIMEOUT_MS")) != NULL)
        cfg.command_timeout_ms = atoi(timeout);
    /* [store] wait_replicas for the logout-with-WAIT comparison. */
    if ((timeout = getenv("CK_BENCH_WAIT_REPLICAS")) != NULL)
        cfg.wait_replicas = atoi(timeout);
    st = ck_store_open(&cfg, err, sizeof(err));
    ck_config_free(&cfg);
    if (!st)
        fprintf(stderr, "store_bench: %s\n", err);
    return st;
}

static void fill_session(ck_session *s, long user)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "user%07ld", user);
    snprintf(s->email, sizeof(s->email), "user%07ld@clinic.example.sg", user);
    snprintf(s->role, sizeof(s->role), "doctor");
    snprintf(s->clinic_id, sizeof(s->clinic_id), "CL-%04ld", user % 500);
    s->method = (ck_auth_method)(user % CK_AUTH_METHOD_COUNT);
    snprintf(s->remote_host, sizeof(s->remote_host), "10.%ld.%ld.%ld",
             (user >> 16) & 255, (user >> 8) & 255, user & 255);
    snprintf(s->service, sizeof(s->service), "sshd");
    snprintf(s->tty, sizeof(s->tty), "pts/%ld", user % 16);
}

static int write_byte(int fd, char c)
{
    ssize_t n;

    do
        n = write(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

static int read_byte(int fd, char *c)
{
    ssize_t n;

    do
        n = read(fd, c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

static int run_phase(ck_store *st, int phase, char (*sids)[CK_SID_LEN], long n, long user0)
{
    ck_session s;

    for (long i = 0; i < n; i++) {
        ck_status rc;

        if (phase == PH_CREATE) {
            fill_session(&s, user0 + i / 4);
            rc = ck_store_create(st, &s, sids[i]);
        } else if (phase == PH_TOUCH) {
            rc = ck_store_touch(st, sids[i], &s);
        } else {
            rc = ck_store_delete(st, sids[i]);
        }
        if (rc != CK_OK) {
            fprintf(stderr, "store_bench: %s: %s (%s)\n", phase_names[phase],
                    ck_status_str(rc), ck_store_errstr(st));
            return -1;
        }
    }
    return 0;
}

/* A worker: waits for a go byte per phase, runs it, reports one byte. */
static void worker(const char *url, int go, int done, long n, long user0, int nphases)
{
    char (*sids)[CK_SID_LEN] = calloc((size_t)n, CK_SID_LEN);
    ck_store *st = open_url(url);
    char c;

    if (!sids || !st) {
        write_byte(done, 'E');
        _exit(1);
    }
    write_byte(done, 'R');
    for (int ph = 0; ph < nphases; ph++) {
        if (read_byte(go, &c) != 0)
            _exit(1);
        write_byte(done, run_phase(st, ph, sids, n, user0) == 0 ? 'D' : 'E');
    }
    ck_store_close(st);
    free(sids);
    _exit(0);
}

/*
 * A number in an INFO section: the one after field on the line that
 * starts with prefix ("cmdstat_getex:" and "usec=", say); -1 when INFO
 * fails, 0 when the line is not there (nothing counted yet).
 */
static long long info_number(redisContext *rc, const char *section, const char *prefix,
                             const char *field)
{
    redisReply *r = redisCommand(rc, "INFO %s", section);
    const char *p;
    long long v = 0;

    if (!r || r->type != REDIS_REPLY_STRING) {
        if (r)
            freeReplyObject(r);
        return -1;
    }
    p = strstr(r->str, prefix);
    if (p)
        p = strstr(p, field);
    if (p)
        v = atoll(p + strlen(field));
    freeReplyObject(r);
    return v;
}

/* A field of INFO commandstats: calls= or usec= of one command. */
static long long cmdstat_field(redisContext *rc, const char *name, const char *field)
{
    char pat[64];

    snprintf(pat, sizeof(pat), "cmdstat_%s:", name);
    return info_number(rc, "commandstats", pat, field);
}

static long long cmdstat(redisContext *rc, const char *name)
{
    return cmdstat_field(rc, name, "calls=");
}

/* Top-level commands only: what a client sends, never what a script calls. */
static long long client_commands(redisContext *rc)
{
    return cmdstat(rc, "evalsha") + cmdstat(rc, "eval") + cmdstat(rc, "script|load") +
           cmdstat(rc, "getex");
}

/* Server time spent in what a touch sends: the script or GETEX. */
static long long touch_usec(redisContext *rc)
{
    return cmdstat_field(rc, "evalsha", "usec=") + cmdstat_field(rc, "getex", "usec=");
}

/* Waits for one byte from each of n workers; -1 if any failed. */
static int collect(int done, int n)
{
    int bad = 0;

    for (int i = 0; i < n; i++) {
        char c;

        if (read_byte(done, &c) != 0 || c == 'E')
            bad = 1;
    }
    return bad ? -1 : 0;
}

static int spawn(const char *url, int conc, long per, long user0, int nphases, int *go,
                 int done_pipe[2], pid_t *pids)
{
    for (int i = 0; i < conc; i++) {
        int p[2];

        if (pipe(p) != 0)
            return -1;
        pids[i] = fork();
        if (pids[i] < 0)
            return -1;
        if (pids[i] == 0) {
            close(p[1]);
            close(done_pipe[0]);
            worker(url, p[0], done_pipe[1], per, user0 + (long)i * (per / 4 + 1), nphases);
        }
        close(p[0]);
        go[i] = p[1];
    }
    return 0;
}

static int reap(pid_t *pids, int conc)
{
    int bad = 0;

    for (int i = 0; i < conc; i++) {
        int status;

        if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            bad = 1;
    }
    return bad;
}

/*
 * The servers whose INFO counts the commands: "PORT[,PORT...]" on 127.0.0.1
 * (a cluster's primaries: a touch's commands are summed over them all).
 */
#define MAX_PORTS 16

typedef struct watched {
    int n;
    redisContext *rc[MAX_PORTS];
} watched;

static int watched_open(watched *w, const char *ports)
{
    const char *p = ports;

    w->n = 0;
    while (p && *p && w->n < MAX_PORTS) {
        char *end;
        long port = strtol(p, &end, 10);

        if (end == p || port <= 0 || port > 65535)
            return -1;
        if (*end && *end != ',')
            return -1;
        w->rc[w->n] = redisConnect("127.0.0.1", (int)port);
        if (!w->rc[w->n] || w->rc[w->n]->err) {
            if (w->rc[w->n])
                redisFree(w->rc[w->n]);
            return -1;
        }
        w->n++;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static void watched_close(watched *w)
{
    for (int i = 0; i < w->n; i++)
        redisFree(w->rc[i]);
    w->n = 0;
}

/* A count in INFO errorstats: the redirections a server answered. */
static long long errorstat(redisContext *rc, const char *name)
{
    char pat[64];

    snprintf(pat, sizeof(pat), "errorstat_%s:", name);
    return info_number(rc, "errorstats", pat, "count=");
}

static long long sum_commands(watched *w)
{
    long long v = 0;

    for (int i = 0; i < w->n; i++)
        v += client_commands(w->rc[i]);
    return v;
}

static long long sum_usec(watched *w)
{
    long long v = 0;

    for (int i = 0; i < w->n; i++)
        v += touch_usec(w->rc[i]);
    return v;
}

static long long sum_redirects(watched *w)
{
    long long v = 0;

    for (int i = 0; i < w->n; i++)
        v += errorstat(w->rc[i], "MOVED") + errorstat(w->rc[i], "ASK");
    return v;
}

static int cmd_ops(const char *url, int conc, long n, const char *redis_ports, int nphases,
                   long user0)
{
    int done_pipe[2], *go = calloc((size_t)conc, sizeof(int));
    pid_t *pids = calloc((size_t)conc, sizeof(pid_t));
    watched w = { 0 };
    long per = n / conc;
    int rcode = 1;

    if (!go || !pids || pipe(done_pipe) != 0) {
        free(go);
        free(pids);
        return 1;
    }
    if (redis_ports && watched_open(&w, redis_ports) != 0)
        goto fail;
    if (spawn(url, conc, per, user0, nphases, go, done_pipe, pids) != 0)
        goto fail;
    close(done_pipe[1]);
    if (collect(done_pipe[0], conc) != 0)
        goto out;
    for (int ph = 0; ph < nphases; ph++) {
        long long before = 0, usec0 = 0, redir0 = 0;
        double t0, t1;

        if (w.n && ph == PH_TOUCH) {
            before = sum_commands(&w);
            usec0 = sum_usec(&w);
            redir0 = sum_redirects(&w);
        }
        t0 = now_s();
        for (int i = 0; i < conc; i++)
            write_byte(go[i], 'G');
        if (collect(done_pipe[0], conc) != 0)
            goto out;
        t1 = now_s();
        printf("%s %.0f\n", phase_names[ph], (double)(per * conc) / (t1 - t0));
        if (w.n && ph == PH_TOUCH) {
            printf("touch_rtt %.3f\n",
                   (double)(sum_commands(&w) - before) / (double)(per * conc));
            printf("touch_server_us %.2f\n",
                   (double)(sum_usec(&w) - usec0) /
                   (double)(per * conc));
            /* After the create phase: every handle has its slot map. */
            printf("touch_redirects_per_1000 %.3f\n",
                   (double)(sum_redirects(&w) - redir0) * 1000.0 / (double)(per * conc));
        }
        fflush(stdout);
    }
    rcode = 0;
out:
    for (int i = 0; i < conc; i++)
        close(go[i]);
    rcode |= reap(pids, conc);
    watched_close(&w);
    free(go);
    free(pids);
    return rcode;
fail:
    /* Before the children run: nothing to reap or close but the pipe. */
    close(done_pipe[0]);
    close(done_pipe[1]);
    watched_close(&w);
    free(go);
    free(pids);
    return 1;
}

static int cmd_metrics(const char *url, int reps)
{
    ck_store *st = open_url(url);
    ck_metrics m;
    double t0, t1;

    if (!st)
        return 1;
    if (ck_store_metrics(st, &m) != CK_OK)      /* warm: connect, load the script */
        goto fail;
    t0 = now_s();
    for (int i = 0; i < reps; i++)
        if (ck_store_metrics(st, &m) != CK_OK)
            goto fail;
    t1 = now_s();
    printf("metrics_us %.1f active %lld\n", (t1 - t0) / reps * 1e6, (long long)m.active);
    ck_store_close(st);
    return 0;
fail:
    fprintf(stderr, "store_bench: metrics: %s\n", ck_store_errstr(st));
    ck_store_close(st);
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: store_bench ops URL CONC N [REDIS_PORT[,PORT...]]\n"
                    "       (CK_BENCH_WAIT_REPLICAS=N: [store] wait_replicas)\n"
                    "       store_bench fill URL N CONC [FIRST_USER]\n"
                    "       store_bench metrics URL REPS\n"
                    "       store_bench touch-script\n");
    exit(2);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 5 && strcmp(argv[1], "ops") == 0)
        return cmd_ops(argv[2], atoi(argv[3]), atol(argv[4]),
                       argc > 5 ? argv[5] : NULL, PH_COUNT, 0);
    if (argc >= 5 && strcmp(argv[1], "fill") == 0)
        return cmd_ops(argv[2], atoi(argv[4]), atol(argv[3]), NULL, 1,
                       argc > 5 ? atol(argv[5]) : 0);
    if (argc == 2 && strcmp(argv[1], "touch-script") == 0) {
        fputs(ck_redis_script_src[CK_SCRIPT_TOUCH], stdout);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "metrics") == 0)
        return cmd_metrics(argv[2], atoi(argv[3]));
    usage();
    return 2;
}
