/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pool.c - bounded thread pools for the slow part of a login: the password
 * hash (CPU, ~10 ms and more) and a provider's token exchange (the network,
 * up to the provider's timeout). A request thread that ran them would keep
 * every /session behind it waiting; instead the request's connection is
 * suspended (MHD_suspend_connection), the work is queued, a pool thread
 * does it and resumes the connection, and libmicrohttpd calls the request
 * handler again, which answers from the job's result.
 *
 * The queue is bounded: a login that finds it full is refused at once
 * (503 with Retry-After), never left to wait. A queued login whose client
 * has gone is dropped before its work starts. On stop, queued logins are
 * answered 503 and running ones finish; every suspended connection is
 * resumed before libmicrohttpd is stopped (it must not be stopped with
 * one suspended).
 *
 * Ownership: the job belongs to the request (ckd_req) and is freed by
 * ckd_pool_release from the request's completion callback. From submit
 * until the pool resumes the connection, only the pool touches the job;
 * after the resume, only the request thread. libmicrohttpd calls no
 * completion callback for a suspended connection, so a client that hangs
 * up while queued cannot free the job under the pool's feet.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include "checkupd.h"

struct ckd_pool {
    const ckd *d;
    char name[16];
    pthread_mutex_t mu;
    pthread_cond_t work;            /* a job was queued, or stop */
    pthread_cond_t idle;            /* a request with a job completed */
    pthread_t *th;
    int nthreads;
    int queue_max;
    int batch_max;                  /* > 0: a thread takes up to this many jobs at once */
    ckd_batch_fn run_batch;
    ckd_job *head, *tail;
    int queued, running;
    int held;                       /* jobs whose requests have not completed */
    int stopping;
    unsigned long long done, rejected, abandoned;
    unsigned long long batches;     /* run_batch calls */
    long long refusal_sec;          /* the second of the last audited refusal */
    unsigned long refusal_quiet;    /* refusals since, not audited */
};

/* The peer hung up (or reset): nobody waits for this job's answer. */
static int peer_gone(int fd)
{
    char b;
    ssize_t n;

    if (fd < 0)
        return 0;
    n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return 0;
    if (n == 0)
        return 1;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/*
 * A batch pool's thread: takes every queued job (up to batch_max) and runs
 * them in one call, so that a burst of keep-alives costs the store one
 * round trip or one transaction. No hang-up check here: each would be a
 * system call per job, more than the job itself.
 */
static void *batch_worker(void *arg)
{
    ckd_pool *p = arg;
    ckd_job *jobs[CKD_BATCH_MAX];
    size_t n;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        if (!p->head)
            break;
        for (n = 0; p->head && n < (size_t)p->batch_max; n++) {
            jobs[n] = p->head;
            p->head = p->head->next;
        }
        if (!p->head)
            p->tail = NULL;
        p->queued -= (int)n;
        p->running += (int)n;
        pthread_mutex_unlock(&p->mu);

        p->run_batch(p->d, jobs, n);
        for (size_t i = 0; i < n; i++)
            jobs[i]->state = CKD_JOB_DONE;
        pthread_mutex_lock(&p->mu);
        p->running -= (int)n;
        p->done += n;
        p->batches++;
        pthread_mutex_unlock(&p->mu);
        /* From here each request thread owns its job (and may free it). */
        for (size_t i = 0; i < n; i++)
            MHD_resume_connection(jobs[i]->c);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void *worker(void *arg)
{
    ckd_pool *p = arg;
    ckd_job *job;
    struct MHD_Connection *c;
    int gone;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        job = p->head;
        if (!job)
            break;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        p->running++;
        pthread_mutex_unlock(&p->mu);

        gone = peer_gone(job->fd);
        if (gone) {
            job->state = CKD_JOB_GONE;
        } else {
            job->run(p->d, job);
            job->state = CKD_JOB_DONE;
        }
        c = job->c;
        pthread_mutex_lock(&p->mu);
        p->running--;
        if (gone)
            p->abandoned++;
        else
            p->done++;
        pthread_mutex_unlock(&p->mu);
        /* From here the request thread owns the job (and may free it). */
        MHD_resume_connection(c);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ckd_pool *ckd_pool_start(const ckd *d, const char *name, int threads, int queue_max)
{
    return ckd_pool_start_batch(d, name, threads, queue_max, 0, NULL);
}

ckd_pool *ckd_pool_start_batch(const ckd *d, const char *name, int threads, int queue_max,
                               int batch_max, ckd_batch_fn run_batch)
{
    ckd_pool *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->d = d;
    p->batch_max = batch_max > CKD_BATCH_MAX ? CKD_BATCH_MAX : batch_max;
    p->run_batch = run_batch;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->queue_max = queue_max;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->th = calloc((size_t)threads, sizeof(*p->th));
    if (!p->th)
        goto fail;
    for (p->nthreads = 0; p->nthreads < threads; p->nthreads++) {
        if (pthread_create(&p->th[p->nthreads], NULL, run_batch ? batch_worker : worker,
                           p) != 0) {
            ckd_log(d, LOG_ERR, "%s pool: cannot start a thread: %s", name, strerror(errno));
            goto fail;
        }
    }
    return p;
fail:
    ckd_pool_stop(p);
    ckd_pool_free(p);
    return NULL;
}

int ckd_pool_submit(ckd_pool *p, struct MHD_Connection *c, ckd_job *job)
{
    const union MHD_ConnectionInfo *ci;

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    job->c = c;
    job->fd = ci ? ci->connect_fd : -1;
    job->pool = p;
    job->next = NULL;
    job->state = CKD_JOB_QUEUED;
    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->queued >= p->queue_max) {
        p->rejected++;
        pthread_mutex_unlock(&p->mu);
        job->pool = NULL;
        return -1;
    }
    /* Suspended before a pool thread can see it: it resumes only what is suspended. */
    MHD_suspend_connection(c);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    p->held++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int ckd_pool_full(ckd_pool *p)
{
    int full;

    pthread_mutex_lock(&p->mu);
    full = p->stopping || p->queued >= p->queue_max;
    if (full)
        p->rejected++;
    pthread_mutex_unlock(&p->mu);
    return full;
}

int ckd_pool_refusal_audit(ckd_pool *p, unsigned long *quiet)
{
    struct timespec ts;
    int first;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&p->mu);
    first = (long long)ts.tv_sec != p->refusal_sec;
    if (first) {
        *quiet = p->refusal_quiet;
        p->refusal_quiet = 0;
        p->refusal_sec = (long long)ts.tv_sec;
    } else {
        p->refusal_quiet++;
    }
    pthread_mutex_unlock(&p->mu);
    return first;
}

void ckd_pool_release(ckd_job *job)
{
    ckd_pool *p = job->pool;

    if (p) {
        pthread_mutex_lock(&p->mu);
        p->held--;
        pthread_cond_broadcast(&p->idle);
        pthread_mutex_unlock(&p->mu);
    }
    if (job->clear)
        job->clear(job);
    free(job);
}

void ckd_pool_stop(ckd_pool *p)
{
    ckd_job *job, *next;

    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    job = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    /* Queued work is not started now: each request is answered 503. */
    for (; job; job = next) {
        struct MHD_Connection *c = job->c;

        next = job->next;
        job->state = CKD_JOB_SHUTDOWN;
        MHD_resume_connection(c);
    }
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->th[i], NULL);
    p->nthreads = 0;
}

int ckd_pool_drain(ckd_pool *p, int ms)
{
    struct timespec until;
    int left;

    if (!p)
        return 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (p->held > 0 && pthread_cond_timedwait(&p->idle, &p->mu, &until) == 0)
        ;
    left = p->held;
    pthread_mutex_unlock(&p->mu);
    return left;
}

void ckd_pool_free(ckd_pool *p)
{
    if (!p)
        return;
    free(p->th);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Appends one metric line; -1 when buf is full. */
static int put(char *buf, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*n >= len)
        return -1;
    va_start(ap, fmt);
    w = vsnprintf(buf + *n, len - *n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= len - *n)
        return -1;
    *n += (size_t)w;
    return 0;
}

int ckd_pool_metrics(ckd_pool *const *pools, size_t npools, unsigned long long hashes,
                     char *buf, size_t len)
{
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        { "checkupd_pool_threads", "gauge", "Threads of the pool." },
        { "checkupd_pool_queue_limit", "gauge", "Requests the pool's queue holds at most." },
        { "checkupd_pool_queued", "gauge", "Requests waiting for a pool thread." },
        { "checkupd_pool_running", "gauge", "Requests a pool thread is working on." },
        { "checkupd_pool_done_total", "counter", "Requests the pool has worked on." },
        { "checkupd_pool_rejected_total", "counter",
          "Requests refused at once (503; keep-alives: done in place) because the pool's "
          "queue was full or it was stopping." },
        { "checkupd_pool_abandoned_total", "counter",
          "Queued logins dropped because their client had gone." },
    };
    size_t n = 0;

    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
        if (put(buf, len, &n, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help,
                m[k].name, m[k].type) != 0)
            return -1;
        for (size_t i = 0; i < npools; i++) {
            ckd_pool *p = pools[i];
            unsigned long long v;

            if (!p)
                continue;
            pthread_mutex_lock(&p->mu);
            v = k == 0 ? (unsigned long long)p->nthreads :
                k == 1 ? (unsigned long long)p->queue_max :
                k == 2 ? (unsigned long long)p->queued :
                k == 3 ? (unsigned long long)p->running :
                k == 4 ? p->done : k == 5 ? p->rejected : p->abandoned;
            pthread_mutex_unlock(&p->mu);
            if (put(buf, len, &n, "%s{pool=\"%s\"} %llu\n", m[k].name, p->name, v) != 0)
                return -1;
        }
    }
    for (size_t i = 0; i < npools; i++) {
        ckd_pool *p = pools[i];
        unsigned long long v;

        if (!p || !p->run_batch)
            continue;
        pthread_mutex_lock(&p->mu);
        v = p->batches;
        pthread_mutex_unlock(&p->mu);
        if (put(buf, len, &n, "# HELP checkupd_touch_batches_total Store calls that "
                "touched the queued keep-alives together.\n"
                "# TYPE checkupd_touch_batches_total counter\n"
                "checkupd_touch_batches_total %llu\n", v) != 0)
            return -1;
    }
    if (put(buf, len, &n, "# HELP checkupd_password_hashes_total Password hashes computed "
            "for logins.\n# TYPE checkupd_password_hashes_total counter\n"
            "checkupd_password_hashes_total %llu\n", hashes) != 0)
        return -1;
    return 0;
}
