/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the Redis connection tests (header-only, static). */
#ifndef CK_TEST_REDIS_CONN_UTIL_H
#define CK_TEST_REDIS_CONN_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "redis/redis_conn.h"

static inline int64_t t_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void t_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static inline const char *t_env(const char *name)
{
    const char *v = getenv(name);

    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run this test through its .sh wrapper\n", name);
        exit(1);
    }
    return v;
}

/* Opens a handle on url with the given command timeout (0 = default). */
static inline ck_redis *t_open(const char *url, const ck_config *cfg)
{
    ck_redis_opts o;
    char err[256];
    ck_redis *r;

    if (ck_redis_opts_from_url(&o, url, cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "bad url: %s\n", err);
        return NULL;
    }
    r = ck_redis_new(&o);
    return r;
}

/* Runs a command given as NUL-terminated strings; returns the reply or NULL. */
static inline redisReply *t_cmd(ck_redis *r, int argc, const char **argv)
{
    redisReply *rep = NULL;

    if (ck_redis_command(r, argc, argv, NULL, &rep) < 0)
        return NULL;
    return rep;
}

/* 1 if the command got a non-error reply. */
static inline int t_ok(ck_redis *r, int argc, const char **argv)
{
    redisReply *rep = t_cmd(r, argc, argv);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;

    if (rep)
        freeReplyObject(rep);
    return ok;
}

static inline long long t_client_id(ck_redis *r)
{
    const char *argv[2] = { "CLIENT", "ID" };
    redisReply *rep = t_cmd(r, 2, argv);
    long long id = -1;

    if (rep && rep->type == REDIS_REPLY_INTEGER)
        id = rep->integer;
    if (rep)
        freeReplyObject(rep);
    return id;
}

/* Reads a pid file written by redis-server. */
static inline pid_t t_read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = -1;

    if (!f)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = -1;
    fclose(f);
    return (pid_t)pid;
}

static inline int t_threads(pid_t pid)
{
    char path[64];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (!d)
        return 0;
    for (de = readdir(d); de; de = readdir(d))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* 1 if pid is gone or a zombie (daemons are reparented, maybe to a lazy init). */
static inline int t_gone(pid_t pid)
{
    char path[64], buf[256], *p;
    FILE *f;
    size_t n;

    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return 1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] != 'Z')
        return 0;
    /* A zombie leader may still have threads holding the sockets open. */
    return t_threads(pid) <= 1;
}

/* Sends sig to pid and waits (bounded) until it is gone. */
static inline int t_kill_wait(pid_t pid, int sig, int timeout_ms)
{
    int64_t end = t_now_ms() + timeout_ms;

    if (pid <= 1 || kill(pid, sig) < 0)
        return -1;
    while (t_now_ms() < end) {
        if (t_gone(pid))
            return 0;
        t_sleep_ms(20);
    }
    return -1;
}

#endif
