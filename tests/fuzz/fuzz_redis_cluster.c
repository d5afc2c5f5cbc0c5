/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_redis_cluster.c - the Redis Cluster parsers (redis_cluster.c) on
 * any reply: CLUSTER SHARDS (plain and TLS), MOVED and ASK, and routing.
 *
 * Input: byte 0 bit 0 says TLS (tls-port wins); the rest is one RESP
 * reply. The reply as a whole is read as CLUSTER SHARDS, and it and each
 * of its elements (one level down) as a redirection; an array of strings
 * is also routed as a command.
 *
 * Property: no crash, leak or hang; an accepted map names only primaries
 * with a port in 1..65535 and a host, and an accepted redirection has a
 * slot below 16384, a port in 1..65535 and a terminated host.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "fuzz.h"
#include "redis/redis_cluster.h"

/*
 * hiredis 0.14 allocates an array's elements as soon as it reads the
 * header: redis_conn.c bounds that for the network, here the input is
 * skipped instead when an array claims more than this.
 */
#define ARRAY_MAX 65536

static int sane_counts(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned long v = 0;
        size_t j = i + 1;

        if (p[i] != '*')
            continue;
        while (j < n && p[j] >= '0' && p[j] <= '9' && v <= ARRAY_MAX)
            v = v * 10 + (unsigned long)(p[j++] - '0');
        if (v > ARRAY_MAX)
            return 0;
    }
    return 1;
}

static void check_map(const ck_cluster_map *m)
{
    for (size_t s = 0; s < CK_REDIS_SLOTS; s++) {
        int o = m->owner[s];

        if (o < 0)
            continue;
        if ((size_t)o >= m->n || !m->nodes[o].primary)
            ck_fuzz_fail("cluster map: slot %zu owned by node %d of %zu, not a primary", s, o,
                         m->n);
    }
    for (size_t i = 0; i < m->n; i++) {
        if (m->nodes[i].port < 1 || m->nodes[i].port > 65535 || !m->nodes[i].host[0] ||
            strlen(m->nodes[i].host) > CK_CLUSTER_HOST_MAX)
            ck_fuzz_fail("cluster map: node %zu has a bad address", i);
    }
    if (ck_cluster_map_covered(m) > CK_REDIS_SLOTS)
        ck_fuzz_fail("cluster map: more slots covered than exist");
}

static void check_redirect(const redisReply *r)
{
    char host[CK_CLUSTER_HOST_MAX + 1];
    unsigned slot = 0;
    int ask = 0, port = 0;

    if (ck_cluster_parse_redirect(r, &ask, &slot, host, sizeof(host), &port) != 1)
        return;
    if (slot >= CK_REDIS_SLOTS || port < 1 || port > 65535 || !memchr(host, '\0', sizeof(host)))
        ck_fuzz_fail("redirection accepted with slot %u port %d", slot, port);
}

static void route(const redisReply *r)
{
    const char *argv[16];
    size_t lens[16];
    const char *key;
    size_t klen;

    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->elements > 16)
        return;
    for (size_t i = 0; i < r->elements; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return;
        argv[i] = r->element[i]->str;
        lens[i] = r->element[i]->len;
    }
    if (ck_cluster_route_key((int)r->elements, argv, lens, &key, &klen) == 1) {
        int found = 0;

        for (size_t i = 1; i < r->elements; i++)
            found |= key == argv[i] && klen == lens[i];
        if (!found || ck_redis_key_slot(key, klen) >= CK_REDIS_SLOTS)
            ck_fuzz_fail("routing: the key is no argument of the command");
    }
}

CK_FUZZ_TARGET(redis_cluster)
{
    redisReader *rd;
    void *reply = NULL;
    ck_cluster_map *m;

    if (size < 1 || !sane_counts(data + 1, size - 1))
        return 0;
    rd = redisReaderCreate();
    m = calloc(1, sizeof(*m));
    if (!rd || !m)
        ck_fuzz_fail("out of memory");
    if (redisReaderFeed(rd, (const char *)data + 1, size - 1) == REDIS_OK &&
        redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
        const redisReply *r = reply;
        char err[256];

        if (ck_cluster_parse_shards(r, data[0] & 1, m, err, sizeof(err)) == 0) {
            check_map(m);
            ck_cluster_map_free(m);
        } else if (m->nodes || !err[0]) {
            ck_fuzz_fail("a refused map keeps nodes or gives no reason");
        }
        check_redirect(r);
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
            check_redirect(r->element[i]);
        route(r);
        freeReplyObject(reply);
    }
    free(m);
    redisReaderFree(rd);
    return 0;
}
