/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aof_burst - the logout burst of tests/redis_aof_crash.sh, against a
 * standalone Redis with AOF:
 *
 *   aof_burst burst URL N SIDFILE PID   N sessions, then N/2 logouts as
 *                                       fast as they are answered, then
 *                                       SIGKILL to PID (the redis-server
 *                                       the test started) at once; prints
 *                                       logouts_per_s=
 *   aof_burst count URL SIDFILE         after the restart: how many of
 *                                       the logged-out half are valid
 *                                       again (resurrected=) and how many
 *                                       of the other half are live (live=)
 *
 * SIDFILE holds the session ids (secrets of test sessions made now), mode
 * 0600, and is never printed.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ck_config.h"
#include "ck_store.h"
#include "contract_common.h"

static ck_config cfg;

static ck_store *open_store(const char *url)
{
    char err[512];
    ck_store *st;

    ck_config_defaults(&cfg);
    cfg.store_url = strdup(url);
    /* With appendfsync always each answer waits for a sync: a slow disk is not a failure. */
    cfg.command_timeout_ms = 15000;
    st = ck_store_open(&cfg, err, sizeof(err));
    if (!st)
        fprintf(stderr, "aof_burst: %s\n", err);
    return st;
}

static int done(ck_store *st, int rc)
{
    if (st)
        ck_store_close(st);
    ck_config_free(&cfg);
    return rc;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int burst(const char *url, long n, const char *path, pid_t pid)
{
    ck_store *st = open_store(url);
    char (*sids)[CK_SID_LEN] = calloc((size_t)n, CK_SID_LEN);
    char user[32];
    ck_session in;
    FILE *fp = NULL;
    double t0, t1;
    long i, half = n / 2;
    int rc = 1;

    if (!st || !sids)
        goto out;
    for (i = 0; i < n; i++) {
        snprintf(user, sizeof(user), "aof%ld", i % 50);
        ct_fill(&in, user, CK_AUTH_EMAIL);
        if (ck_store_create(st, &in, sids[i]) != CK_OK) {
            fprintf(stderr, "aof_burst: create: %s\n", ck_store_errstr(st));
            goto out;
        }
    }
    umask(077);
    fp = fopen(path, "w");
    if (!fp)
        goto out;
    for (i = 0; i < n; i++)
        fprintf(fp, "%s\n", sids[i]);
    if (fclose(fp) != 0)
        goto out;
    t0 = mono();
    for (i = 0; i < half; i++)
        if (ck_store_delete(st, sids[i]) != CK_OK) {
            fprintf(stderr, "aof_burst: logout: %s\n", ck_store_errstr(st));
            goto out;
        }
    t1 = mono();
    /* Right after the last answer: nothing else runs on the server first. */
    if (pid > 0 && kill(pid, SIGKILL) != 0) {
        perror("aof_burst: kill");
        goto out;
    }
    printf("logouts=%ld logouts_per_s=%.0f\n", half, (double)half / (t1 - t0));
    rc = 0;
out:
    if (sids)
        OPENSSL_cleanse(sids, (size_t)n * CK_SID_LEN);
    free(sids);
    return done(st, rc);
}

static int count(const char *url, const char *path)
{
    ck_store *st = open_store(url);
    char line[CK_SID_LEN + 2];
    long i = 0, back = 0, live = 0, half;
    ck_session s;
    FILE *fp = fopen(path, "r");

    if (!st || !fp) {
        if (fp)
            fclose(fp);
        return done(st, 1);
    }
    while (fgets(line, sizeof(line), fp))
        i++;
    half = i / 2;
    rewind(fp);
    for (i = 0; fgets(line, sizeof(line), fp); i++) {
        line[strcspn(line, "\n")] = '\0';
        if (ck_store_get(st, line, &s) != CK_OK)
            continue;
        if (i < half)
            back++;
        else
            live++;
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(fp);
    printf("resurrected=%ld live=%ld\n", back, live);
    return done(st, 0);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "burst") == 0)
        return burst(argv[2], atol(argv[3]), argv[4], (pid_t)atol(argv[5]));
    if (argc == 4 && strcmp(argv[1], "count") == 0)
        return count(argv[2], argv[3]);
    fprintf(stderr, "usage: aof_burst burst URL N SIDFILE PID | count URL SIDFILE\n");
    return 2;
}
