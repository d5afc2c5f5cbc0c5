/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_conn_sentinel.c - find the primary through Redis Sentinel.
 *
 * Each sentinel in turn (starting with the one that answered last) is asked
 * SENTINEL get-master-addr-by-name; the answer is connected to and must say
 * "master" to ROLE, else the next sentinel is asked. Every (re)connect asks
 * again, so a transport failure or a -READONLY reply re-resolves.
 *
 * Sentinels get the same TLS settings as the data servers. They are sent
 * AUTH (with the same user and password) only if they answer NOAUTH.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_conn_int.h"

static void peer_of(char *buf, size_t len, const char *host, int port)
{
    snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

static int is_error(const redisReply *rep, const char *prefix)
{
    return rep->type == REDIS_REPLY_ERROR && rep->str &&
           strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

static int sentinel_auth(ck_redis *r, ck_conn *s)
{
    const char *auth[3] = { "AUTH", r->o.user ? r->o.user : r->o.password, r->o.password };
    redisReply *rep = NULL;
    int rc = -1;

    if (ck_conn_command(r, s, r->o.user ? 3 : 2, auth, &rep) < 0)
        return -1;
    if (rep->type == REDIS_REPLY_ERROR)
        ck_redis_set_error(r, "sentinel AUTH failed: %.120s", rep->str);
    else
        rc = 0;
    freeReplyObject(rep);
    return rc;
}

/* Asks one sentinel; on success *host (malloc'd) and *port are the primary. */
static int ask_sentinel(ck_redis *r, ck_conn *s, char **host, int *port)
{
    const char *q[3] = { "SENTINEL", "get-master-addr-by-name", r->o.master_name };
    redisReply *rep = NULL;
    int rc = -1;
    long p;

    if (ck_conn_command(r, s, 3, q, &rep) < 0)
        return -1;
    if (is_error(rep, "NOAUTH") && r->o.password) {
        freeReplyObject(rep);
        rep = NULL;
        if (sentinel_auth(r, s) < 0 || ck_conn_command(r, s, 3, q, &rep) < 0)
            goto out;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        ck_redis_set_error(r, "sentinel knows no master named %s", r->o.master_name);
        goto out;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING) {
        ck_redis_set_error(r, "unexpected answer to SENTINEL get-master-addr-by-name%s%.120s",
                           rep->type == REDIS_REPLY_ERROR ? ": " : "",
                           rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        goto out;
    }
    p = strtol(rep->element[1]->str, NULL, 10);
    if (p < 1 || p > 65535 || rep->element[0]->len == 0) {
        ck_redis_set_error(r, "sentinel gave a bad address for %s", r->o.master_name);
        goto out;
    }
    *host = strdup(rep->element[0]->str);
    *port = (int)p;
    rc = *host ? 0 : -1;
out:
    if (rep)
        freeReplyObject(rep);
    return rc;
}

/* Connects to the address a sentinel gave and checks that it is the primary. */
static int connect_primary(ck_redis *r, const char *host, int port)
{
    const char *role[1] = { "ROLE" };
    redisReply *rep = NULL;
    int rc = -1;

    peer_of(r->peer, sizeof(r->peer), host, port);
    if (ck_conn_open(r, &r->c, host, port) < 0)
        return -1;
    if (ck_conn_setup(r, &r->c) < 0 || ck_conn_command(r, &r->c, 1, role, &rep) < 0)
        goto out;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(rep->element[0]->str, "master") == 0) {
        rc = 0;
        goto out;
    }
    ck_redis_set_error(r, "not the primary of %s (ROLE says %.20s)", r->o.master_name,
                       rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                       rep->element[0]->type == REDIS_REPLY_STRING ?
                       rep->element[0]->str : "something else");
out:
    if (rep)
        freeReplyObject(rep);
    if (rc < 0)
        ck_conn_close(&r->c, 0);
    return rc;
}

/*
 * Keeps the most telling error for the final message: one from a primary a
 * sentinel named beats a sentinel's own answer, which beats an unreachable
 * sentinel.
 */
static void keep_error(ck_redis *r, char *last, size_t len, int *last_rank, int rank)
{
    if (rank < *last_rank)
        return;
    snprintf(last, len, "%s", r->errstr + r->errmsg_off);
    *last_rank = rank;
}

int ck_sentinel_connect(ck_redis *r)
{
    char last[sizeof(r->errstr)] = "";
    char where[sizeof(r->peer)] = "";
    int last_rank = -1;

    for (size_t k = 0; k < r->o.naddrs; k++) {
        size_t i = (r->next_sentinel + k) % r->o.naddrs;
        const ck_redis_addr *a = &r->o.addrs[i];
        ck_conn s;
        char *host = NULL;
        int port = 0, rc;

        peer_of(r->peer, sizeof(r->peer), a->host, a->port);
        if (ck_conn_open(r, &s, a->host, a->port) < 0) {
            keep_error(r, last, sizeof(last), &last_rank, 0);
            continue;
        }
        rc = ask_sentinel(r, &s, &host, &port);
        ck_conn_close(&s, rc == 0);
        if (rc < 0) {
            keep_error(r, last, sizeof(last), &last_rank, 1);
            continue;
        }
        rc = connect_primary(r, host, port);
        free(host);
        if (rc == 0) {
            r->next_sentinel = i;
            return 0;
        }
        keep_error(r, last, sizeof(last), &last_rank, 2);
        if (last_rank == 2)
            snprintf(where, sizeof(where), "%s", r->peer);
    }
    snprintf(r->peer, sizeof(r->peer), "sentinel/%s", r->o.master_name);
    ck_redis_set_error(r, "no primary found through %zu sentinel%s; %s%s%s",
                       r->o.naddrs, r->o.naddrs == 1 ? "" : "s", where,
                       where[0] ? ": " : "", last);
    return -1;
}
