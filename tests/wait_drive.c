/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wait_drive - drives logouts and logins through the store of a
 * checkup.conf from several threads (one store handle each) for the
 * replication tests (tests/faults_wait.sh, bench/faults.sh).
 *
 *   wait_drive CONFIG make N FILE
 *       N sessions; the ids of those the store answered CK_OK go to FILE.
 *   wait_drive CONFIG churn SIDFILE N_LOGIN THREADS KILLPID OUT_PREFIX
 *       logs out every session in SIDFILE and makes N_LOGIN new ones,
 *       spread over THREADS threads; right after the last answer sends
 *       SIGKILL to KILLPID (0: none). Ids of logouts answered CK_OK go to
 *       OUT_PREFIX.out, of logins answered CK_OK to OUT_PREFIX.in. Prints
 *       "logout_ok= logout_not_durable= logout_err= login_ok=
 *       login_not_durable= login_err= max_ms= elapsed_ms=".
 *   wait_drive CONFIG count FILE TIMEOUT_S
 *       how many sessions of FILE are live ("valid=") and how many are not
 *       ("gone="), retrying while the store is unreachable (a failover)
 *       for up to TIMEOUT_S seconds.
 *
 * Session ids are test data of a throwaway store, written to files of the
 * test's private directory.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ck_config.h"
#include "ck_store.h"

#define MAX_THREADS 64
#define MAX_SIDS 100000

static ck_config cfg;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

typedef struct sid_list {
    size_t n;
    char (*v)[CK_SID_LEN];
} sid_list;

static int sids_read(const char *path, sid_list *l)
{
    FILE *f = fopen(path, "r");
    char line[128];

    l->n = 0;
    l->v = calloc(MAX_SIDS, sizeof(*l->v));
    if (!f || !l->v) {
        fprintf(stderr, "wait_drive: cannot read %s\n", path);
        if (f)
            fclose(f);
        free(l->v);
        l->v = NULL;
        return -1;
    }
    while (l->n < MAX_SIDS && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strlen(line) == CK_SID_LEN - 1)
            memcpy(l->v[l->n++], line, CK_SID_LEN);
    }
    fclose(f);
    return 0;
}

typedef struct job {
    int id, nthreads;
    const sid_list *out;        /* sessions to log out */
    int n_login;
    sid_list done_out, done_in; /* answered CK_OK */
    int logout_nd, logout_err, login_nd, login_err;
    double max_ms;
} job;

static void session_init(ck_session *s, int i)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->user_id, sizeof(s->user_id), "wait%d@example.org", i % 97);
    snprintf(s->email, sizeof(s->email), "wait%d@example.org", i % 97);
    snprintf(s->role, sizeof(s->role), "staff");
    snprintf(s->service, sizeof(s->service), "wait_drive");
    s->method = CK_AUTH_EMAIL;
}

/* The slowest answer of one operation so far; *t0 becomes now. */
static void op_time(job *j, double *t0)
{
    double t = now_ms();

    if (t - *t0 > j->max_ms)
        j->max_ms = t - *t0;
    *t0 = t;
}

static void *churn_thread(void *arg)
{
    job *j = arg;
    char err[256], sid[CK_SID_LEN];
    ck_store *st = ck_store_open(&cfg, err, sizeof(err));
    size_t i;

    if (!st) {
        fprintf(stderr, "wait_drive: %s\n", err);
        j->logout_err = j->login_err = -1;
        return NULL;
    }
    j->done_out.v = calloc(j->out->n / (size_t)j->nthreads + 2, sizeof(*j->done_out.v));
    j->done_in.v = calloc((size_t)j->n_login / (size_t)j->nthreads + 2,
                          sizeof(*j->done_in.v));
    /* Interleaved: a logout, then a login, while either is left. */
    for (i = (size_t)j->id; i < j->out->n || i < (size_t)j->n_login; i += (size_t)j->nthreads) {
        double t0 = now_ms();
        ck_status rc;

        if (i < j->out->n) {
            rc = ck_store_delete(st, j->out->v[i]);
            if (rc == CK_OK)
                memcpy(j->done_out.v[j->done_out.n++], j->out->v[i], CK_SID_LEN);
            else if (rc == CK_ERR_NOT_DURABLE)
                j->logout_nd++;
            else
                j->logout_err++;
            op_time(j, &t0);
        }
        if (i < (size_t)j->n_login) {
            ck_session s;

            session_init(&s, (int)i);
            rc = ck_store_create(st, &s, sid);
            if (rc == CK_OK)
                memcpy(j->done_in.v[j->done_in.n++], sid, CK_SID_LEN);
            else if (rc == CK_ERR_NOT_DURABLE)
                j->login_nd++;
            else
                j->login_err++;
            op_time(j, &t0);
        }
    }
    ck_store_close(st);
    return NULL;
}

static int sids_write(const char *path, job *jobs, int n, int in)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    for (int t = 0; t < n; t++) {
        const sid_list *l = in ? &jobs[t].done_in : &jobs[t].done_out;

        for (size_t i = 0; i < l->n; i++)
            fprintf(f, "%s\n", l->v[i]);
    }
    return fclose(f);
}

static int churn(const char *sidfile, int n_login, int nthreads, pid_t killpid,
                 const char *prefix)
{
    sid_list out = { 0, NULL };
    job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    char path[4096];
    int lo = 0, lnd = 0, le = 0, io = 0, ind = 0, ie = 0, started = 0, rc = 2;
    double t0, max = 0;

    memset(jobs, 0, sizeof(jobs));
    if (nthreads < 1 || nthreads > MAX_THREADS || n_login < 0 ||
        (sidfile[0] && strcmp(sidfile, "-") != 0 && sids_read(sidfile, &out) != 0))
        goto out;
    t0 = now_ms();
    for (int t = 0; t < nthreads; t++) {
        jobs[t].id = t;
        jobs[t].nthreads = nthreads;
        jobs[t].out = &out;
        jobs[t].n_login = n_login;
        if (pthread_create(&th[t], NULL, churn_thread, &jobs[t]) != 0)
            break;
        started++;
    }
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    if (started < nthreads)
        goto out;
    /* Right after the last answer: nothing has had time to reach a replica. */
    if (killpid > 0)
        kill(killpid, SIGKILL);
    for (int t = 0; t < nthreads; t++) {
        lo += (int)jobs[t].done_out.n;
        lnd += jobs[t].logout_nd;
        le += jobs[t].logout_err;
        io += (int)jobs[t].done_in.n;
        ind += jobs[t].login_nd;
        ie += jobs[t].login_err;
        if (jobs[t].max_ms > max)
            max = jobs[t].max_ms;
    }
    snprintf(path, sizeof(path), "%s.out", prefix);
    if (sids_write(path, jobs, nthreads, 0) != 0)
        goto out;
    snprintf(path, sizeof(path), "%s.in", prefix);
    if (sids_write(path, jobs, nthreads, 1) != 0)
        goto out;
    printf("logout_ok=%d logout_not_durable=%d logout_err=%d login_ok=%d "
           "login_not_durable=%d login_err=%d max_ms=%.0f elapsed_ms=%.0f\n",
           lo, lnd, le, io, ind, ie, max, now_ms() - t0);
    rc = 0;
out:
    for (int t = 0; t < MAX_THREADS; t++) {
        free(jobs[t].done_out.v);
        free(jobs[t].done_in.v);
    }
    free(out.v);
    return rc;
}

static int make(int n, const char *file)
{
    char prefix[4096];
    char from[4200], to[4200];

    snprintf(prefix, sizeof(prefix), "%s.make", file);
    if (churn("-", n, 8, 0, prefix) != 0)
        return 2;
    snprintf(from, sizeof(from), "%s.in", prefix);
    snprintf(to, sizeof(to), "%s", file);
    return rename(from, to) == 0 ? 0 : 2;
}

static int count(const char *file, int timeout_s)
{
    sid_list l;
    char err[256];
    ck_store *st = ck_store_open(&cfg, err, sizeof(err));
    double end = now_ms() + timeout_s * 1000.0;
    int valid = 0, gone = 0;

    if (!st) {
        fprintf(stderr, "wait_drive: %s\n", err);
        return 2;
    }
    if (sids_read(file, &l) != 0) {
        ck_store_close(st);
        return 2;
    }
    for (size_t i = 0; i < l.n; i++) {
        ck_session s;
        ck_status rc = ck_store_get(st, l.v[i], &s);

        if (rc == CK_ERR_UNAVAILABLE && now_ms() < end) {
            usleep(100000);
            i--;
            continue;
        }
        if (rc == CK_OK)
            valid++;
        else if (rc == CK_NOT_FOUND || rc == CK_EXPIRED_IDLE || rc == CK_EXPIRED_LIFETIME)
            gone++;
        else {
            fprintf(stderr, "wait_drive: count: %s: %s\n", ck_status_str(rc),
                    ck_store_errstr(st));
            ck_store_close(st);
            free(l.v);
            return 2;
        }
    }
    printf("valid=%d gone=%d\n", valid, gone);
    ck_store_close(st);
    free(l.v);
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];

    if (argc < 3)
        goto usage;
    ck_config_defaults(&cfg);
    if (ck_config_load(&cfg, argv[1], NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "wait_drive: %s\n", err);
        return 2;
    }
    if (strcmp(argv[2], "make") == 0 && argc == 5)
        return make(atoi(argv[3]), argv[4]);
    if (strcmp(argv[2], "churn") == 0 && argc == 8)
        return churn(argv[3], atoi(argv[4]), atoi(argv[5]), (pid_t)atoi(argv[6]), argv[7]);
    if (strcmp(argv[2], "count") == 0 && argc == 5)
        return count(argv[3], atoi(argv[4]));
usage:
    fprintf(stderr, "usage: wait_drive CONFIG make N FILE | churn SIDFILE N_LOGIN THREADS "
            "KILLPID OUT_PREFIX | count FILE TIMEOUT_S\n");
    return 2;
}
